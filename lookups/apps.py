from django.apps import AppConfig


class LookupsConfig(AppConfig):
    name = "lookups"
    verbose_name = "Support desk"

    def ready(self) -> None:
        # Registers the desk's own `check --deploy` checks.
        from lookups import (
            deploy_checks,  # noqa: F401
            live_signals,
        )

        live_signals.connect()
