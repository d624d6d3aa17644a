"""`python manage.py appstore_simulator [--port N] [--no-rate-limits]`: the local App Store
simulator, alone."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lookups.management.local_simulators import appstore_simulator
from lookups.simulators.demo_data import DEMO_ORDERS


class Command(BaseCommand):
    help = "Serve the local App Store Server API simulator with demo data until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=settings.APPSTORE_SIMULATOR_PORT)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--no-rate-limits",
            action="store_true",
            help="Switch Apple's per-app, per-endpoint rate limits off (load tests).",
        )

    def handle(
        self, *args: object, port: int, host: str, no_rate_limits: bool, **options: object
    ) -> None:
        simulator = appstore_simulator(host=host, port=port, rate_limits=not no_rate_limits)
        try:
            simulator.start()
        except OSError as problem:
            raise CommandError(f"Cannot listen on {host}:{port}: {problem}") from problem

        self.stdout.write(self.style.SUCCESS(f"App Store simulator listening on {simulator.url}"))
        self.stdout.write("Point the app at it with:")
        self.stdout.write(f"  APPSTORE_BASE_URL={simulator.url}")
        self.stdout.write(f"  APPSTORE_ROOT_CERTIFICATES={settings.APPSTORE_ROOT_CERTIFICATES[0]}")
        self.stdout.write("Demo order IDs:")
        for order_id, description in DEMO_ORDERS.items():
            self.stdout.write(f"  {order_id}  {description}")
        self.stdout.write(
            "Faults: POST /simulator/faults, reset: POST /simulator/reset. Ctrl-C stops."
        )
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            self.stdout.write("Stopping the App Store simulator.")
        finally:
            simulator.stop()
