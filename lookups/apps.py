from django.apps import AppConfig


class LookupsConfig(AppConfig):
    name = "lookups"
    verbose_name = "Support desk"

    def ready(self) -> None:
        from lookups import live_signals

        live_signals.connect()
