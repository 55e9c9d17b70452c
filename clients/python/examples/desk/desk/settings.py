"""Settings of the example desk: everything from the environment chaser serve is started with."""
import os

from chaser.django import database_settings

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-desk-not-for-production")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["chaser.django", "desk"]
ROOT_URLCONF = "desk.urls"
USE_TZ = True
TIME_ZONE = "UTC"
TEMPLATES = []
MIDDLEWARE = []

# The same database chaser serve --db records in (the .NET form Host=…;Username=…;Password=…;Database=… or a URL).
DATABASES = {"default": database_settings(os.environ.get("CHASER_DB", "Host=127.0.0.1;Username=postgres;Database=postgres"))}

CHASER_API_URL = os.environ.get("CHASER_API_URL", "http://127.0.0.1:5080")
CHASER_API_TOKEN = os.environ.get("CHASER_API_TOKEN")

# The seed's settings constant: what it holds means Binance USDⓈ-M Futures to Chaser (binfut, binanceusdm, binance_futures).
BINANCE_FUTURES_STRING = "binfut"
