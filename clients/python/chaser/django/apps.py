from django.apps import AppConfig


class ChaserConfig(AppConfig):
    name = "chaser.django"
    label = "chaser"
    verbose_name = "Chaser"
    default_auto_field = "django.db.models.BigAutoField"
