"""`python manage.py serve_demo`: the App Store simulator, the app and a worker, locally."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lookups.services.demo_accounts import DEMO_USERS
from lookups.simulators.adapty import DEMO_SECRET_KEY, AdaptySimulator
from lookups.simulators.appstore.catalog import CREDITS_10, CREDITS_50
from lookups.simulators.appstore.local import ensure_private_key, local_simulator
from lookups.simulators.demo_data import DEMO_ORDERS


class Command(BaseCommand):
    help = "Serve the app on 127.0.0.1 with the local App Store simulator beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: object, port: int, **options: object) -> None:
        if not settings.DEBUG:
            raise CommandError("serve_demo is for local runs: it needs DEBUG on.")
        private_key = settings.APPSTORE_PRIVATE_KEY or ensure_private_key(
            settings.APPSTORE_PRIVATE_KEY_PATH
        )
        simulator = local_simulator(
            private_key_pem=private_key,
            issuer_id=settings.APPSTORE_ISSUER_ID,
            key_id=settings.APPSTORE_KEY_ID,
            bundle_id=settings.APPSTORE_BUNDLE_ID,
            app_apple_id=settings.APPSTORE_APP_APPLE_ID,
            environment=settings.APPSTORE_ENVIRONMENT,
            root_certificate_path=Path(settings.APPSTORE_ROOT_CERTIFICATES[0]),
            port=settings.SIMULATOR_PORT,
        )
        try:
            simulator.start()
        except OSError as problem:
            raise CommandError(
                f"The App Store simulator can't listen on port {settings.SIMULATOR_PORT} "
                f"({problem}). Set APPSTORE_SIMULATOR_PORT to a free port."
            ) from problem
        try:
            adapty = self._start_adapty_simulator()
        except CommandError:
            simulator.stop()
            raise
        self._print_banner(simulator.url, port)
        self._print_adapty_banner(adapty.url)
        worker = self._start_worker()
        # Stopped with SIGTERM as with Ctrl-C, the worker and the simulators go down with it.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            self._stop_worker(worker)
            adapty.stop()
            simulator.stop()

    def _start_worker(self) -> subprocess.Popen:
        """A `db_worker` beside the server, so timed-out links and Adapty sends get done."""
        environment = {
            **os.environ,
            # What this process chose for the demo's Adapty step, the worker's to use too.
            "ADAPTY_SECRET_KEY": settings.ADAPTY_SECRET_KEY,
            "ADAPTY_BASE_URL": settings.ADAPTY_BASE_URL,
        }
        manage = Path(settings.BASE_DIR) / "manage.py"
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, str(manage), "db_worker", "--no-reload", "--interval", "1"],
            env=environment,
        )
        self.stdout.write(f"Background worker: db_worker, process {worker.pid}\n")
        return worker

    def _stop_worker(self, worker: subprocess.Popen) -> None:
        # SIGTERM lets it finish the task in hand; one that hangs is killed.
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()

    def _start_adapty_simulator(self) -> AdaptySimulator:
        adapty = AdaptySimulator(
            secret_key=settings.ADAPTY_SECRET_KEY or DEMO_SECRET_KEY,
            port=settings.ADAPTY_SIMULATOR_PORT,
            consumable_products=[CREDITS_10, CREDITS_50],
        )
        try:
            adapty.start()
        except OSError as problem:
            raise CommandError(
                f"The Adapty simulator can't listen on port {settings.ADAPTY_SIMULATOR_PORT} "
                f"({problem}). Set ADAPTY_SIMULATOR_PORT to a free port."
            ) from problem
        if not settings.ADAPTY_SECRET_KEY:
            # This process only (DEBUG is on here): the demo's Adapty step talks to the simulator.
            settings.ADAPTY_SECRET_KEY = DEMO_SECRET_KEY
            settings.ADAPTY_BASE_URL = adapty.url
        return adapty

    def _print_adapty_banner(self, adapty_url: str) -> None:
        write = self.stdout.write
        write(f"Adapty simulator: {adapty_url} (faults: POST /simulator/faults)")
        if settings.ADAPTY_SECRET_KEY == DEMO_SECRET_KEY:
            write("Adapty step: on, with a local demo key, sending to the Adapty simulator")
        else:
            write(f"Adapty step: on, with ADAPTY_SECRET_KEY, sending to {settings.ADAPTY_BASE_URL}")
        write("")

    def _print_banner(self, simulator_url: str, port: int) -> None:
        write = self.stdout.write
        write(self.style.SUCCESS(f"\nSupportdesk: http://127.0.0.1:{port}/"))
        write(f"App Store simulator: {simulator_url} (faults: POST /simulator/faults)")
        write("Sign in as:")
        for username, password, group, _ in DEMO_USERS:
            write(f"  {username:<8} password {password:<20} {group}")
        write("Order IDs to try:")
        for order_id, description in DEMO_ORDERS.items():
            write(f"  {order_id}  {description}")
        write("")
