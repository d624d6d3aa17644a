"""`python manage.py serve_demo`: the app, both simulators and a background worker, locally."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.signals import request_finished
from django.db import connection

from lookups.management.fresh_sqlite import load_if_empty, migrations_to_apply
from lookups.management.kept_process import KeptProcess
from lookups.management.local_simulators import adapty_simulator, appstore_simulator
from lookups.services.demo_accounts import DEMO_USERS
from lookups.simulators.demo_data import DEMO_ORDERS

# The worker starts once the first page has been served, or after this long if nobody asks.
WORKER_WAITS_AT_MOST_SECONDS = 10.0


class Command(BaseCommand):
    help = "Serve the app on 127.0.0.1 with the local simulators and a background worker beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--prepare",
            action="store_true",
            help="migrate and run setup_demo first, in this process (make run does)",
        )

    def handle(self, *args: object, port: int, prepare: bool, **options: object) -> None:
        if not settings.SUPPORTDESK_LOCAL:
            raise CommandError("serve_demo is for local runs: set SUPPORTDESK_LOCAL=true.")
        if prepare:
            self._prepare()
        simulator = appstore_simulator(
            notification_url=f"http://127.0.0.1:{port}/appstore/notifications/"
        )
        try:
            simulator.start()
        except OSError as problem:
            raise CommandError(
                f"The App Store simulator can't listen on port {settings.APPSTORE_SIMULATOR_PORT} "
                f"({problem}). Set APPSTORE_SIMULATOR_PORT to a free port."
            ) from problem
        adapty = adapty_simulator()
        try:
            adapty.start()
        except OSError as problem:
            simulator.stop()
            raise CommandError(
                f"The Adapty simulator can't listen on port {settings.ADAPTY_SIMULATOR_PORT} "
                f"({problem}). Set ADAPTY_SIMULATOR_PORT to a free port."
            ) from problem
        self._print_banner(simulator.url, adapty.url, port)
        worker = _AfterFirstPage(self._worker(), WORKER_WAITS_AT_MOST_SECONDS)
        # Stopped with SIGTERM as with Ctrl-C, the worker and the simulators go down with it.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            worker.stop()
            adapty.stop()
            simulator.stop()

    def _prepare(self) -> None:
        """Migrate and set up the demo, in this process: one interpreter and one Django start
        instead of three. An empty SQLite database is loaded whole rather than migrated step by
        step, and the demo's weeks of activity are left to the worker."""
        if load_if_empty(connection):
            self.stdout.write("New SQLite database: loaded whole from fresh_sqlite.sql")
        if migrations_to_apply(connection):
            call_command("migrate", interactive=False)
        call_command("setup_demo", activity_later=True)

    def _worker(self) -> KeptProcess:
        """A `db_worker` beside the server, so timed-out links and Adapty sends get done.

        It inherits this process's environment, so local mode's settings (the simulators' URLs
        and keys) are its settings too. A worker that dies is started again.
        """
        manage = Path(settings.BASE_DIR) / "manage.py"
        worker = KeptProcess(
            [sys.executable, str(manage), "db_worker", "--no-reload", "--interval", "1"],
            on_start=lambda process: self.stdout.write(
                f"Background worker: db_worker, process {process.pid}\n"
            ),
        )
        return worker

    def _print_banner(self, simulator_url: str, adapty_url: str, port: int) -> None:
        write = self.stdout.write
        write(self.style.SUCCESS(f"\nSupportdesk: http://127.0.0.1:{port}/"))
        write(f"App Store simulator: {simulator_url} (faults: POST /simulator/faults)")
        write("Sign in as:")
        for username, password, group, _ in DEMO_USERS:
            write(f"  {username:<8} password {password:<20} {group}")
        write("Order IDs to try:")
        for order_id, description in DEMO_ORDERS.items():
            write(f"  {order_id}  {description}")
        write(f"Adapty simulator: {adapty_url} (faults: POST /simulator/faults)")
        if not settings.ADAPTY_SECRET_KEY:
            write("Adapty step: off (ADAPTY_SECRET_KEY is empty)")
        elif settings.ADAPTY_SECRET_KEY == settings.ADAPTY_SIMULATOR_SECRET_KEY:
            write(
                f"Adapty step: on, with the simulator's key, sending to {settings.ADAPTY_BASE_URL}"
            )
        else:
            write(f"Adapty step: on, with ADAPTY_SECRET_KEY, sending to {settings.ADAPTY_BASE_URL}")
        write("")


class _AfterFirstPage:
    """Starts `worker` after the server has answered its first request, or after `at_most`
    seconds: its own start (a second Django) would otherwise compete with the first page."""

    def __init__(self, worker: KeptProcess, at_most: float) -> None:
        self.worker = worker
        self._answered = threading.Event()
        self._lock = threading.Lock()
        self._stopped = False
        request_finished.connect(self._first_answer, weak=False, dispatch_uid=id(self))
        threading.Thread(target=self._start, args=(at_most,), daemon=True).start()

    def _first_answer(self, **kwargs: object) -> None:
        self._answered.set()

    def _start(self, at_most: float) -> None:
        self._answered.wait(at_most)
        request_finished.disconnect(dispatch_uid=id(self))
        with self._lock:
            if not self._stopped:
                self.worker.start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
        self.worker.stop()
