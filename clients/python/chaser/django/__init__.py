"""``chaser.django``: Django models over the tables Chaser owns, with the seed's workflow.

``INSTALLED_APPS += ["chaser.django"]``; settings ``CHASER_API_URL`` and ``CHASER_API_TOKEN`` (else the environment
variables of the same names). Django's database must be the PostgreSQL database ``chaser serve --db`` records in.
"""

import threading

__all__ = ["client", "database_settings"]

_lock = threading.Lock()
_clients = {}


def client():
    """The API client for the current settings (one per URL and token)."""
    from django.conf import settings

    from ..client import Client, _Secret

    url = getattr(settings, "CHASER_API_URL", None)
    # Never as text in this frame: an error reporter shows its locals (see _Secret).
    token = _Secret(getattr(settings, "CHASER_API_TOKEN", None))
    timeout = getattr(settings, "CHASER_API_TIMEOUT", 30.0)
    key = (url, token, timeout)
    with _lock:
        if key not in _clients:
            _clients[key] = Client(url=url, token=token, timeout=timeout)
        return _clients[key]


def database_settings(connection_string, **extra):
    """A Django ``DATABASES`` entry for the connection string ``chaser serve --db`` takes: the .NET form
    ``Host=…;Username=…;Password=…;Database=…`` or a ``postgres://user:password@host:port/database`` URL."""
    from urllib.parse import unquote, urlsplit

    entry = {"ENGINE": "django.db.backends.postgresql", "NAME": "postgres", "USER": "", "PASSWORD": "", "HOST": "", "PORT": ""}
    text = connection_string.strip()
    if text.startswith(("postgres://", "postgresql://")):
        url = urlsplit(text)
        entry.update(
            NAME=unquote(url.path.lstrip("/")) or "postgres",
            USER=unquote(url.username or ""),
            PASSWORD=unquote(url.password or ""),
            HOST=url.hostname or "",
            PORT=str(url.port or ""),
        )
    else:
        keys = {
            "host": "HOST", "server": "HOST", "port": "PORT", "database": "NAME", "db": "NAME",
            "username": "USER", "user id": "USER", "userid": "USER", "user": "USER", "password": "PASSWORD", "pwd": "PASSWORD",
        }
        for part in text.split(";"):
            if not part.strip():
                continue
            name, sep, value = part.partition("=")
            if not sep:
                raise ValueError("database: %r is not key=value (use Host=…;Username=…;Password=…;Database=…)" % name.strip())
            key = keys.get(name.strip().lower())
            if key is None:
                continue  # pooling and timeouts of Npgsql: libpq has its own
            entry[key] = value.strip()
        if not entry["HOST"]:
            raise ValueError("database: no Host= in the connection string (PostgreSQL is needed: Chaser's SQLite rows are not Django's)")
    entry.update(extra)
    return entry
