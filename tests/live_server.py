"""The live server for SQLite, and a way for a test to write while pages are open.

SQLite's test database lives in one in-memory connection that every request thread and the test
itself share. Two users of it at once (a page's live poll beside a click, Apple's simulator
posting a notification, the test adding a refund request while the queue page polls) make sqlite3
fail with "bad parameter or other API misuse" or "database table is locked". Requests still
arrive on their own threads; the application runs one at a time, and a test that writes while a
page is open does it between requests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.servers.basehttp import ThreadedWSGIServer

_ONE_AT_A_TIME = threading.RLock()


class OneRequestAtATime(ThreadedWSGIServer):
    def set_app(self, application):
        def one_at_a_time(environ, start_response):
            with _ONE_AT_A_TIME:
                return application(environ, start_response)

        super().set_app(one_at_a_time)


@contextmanager
def between_requests() -> Iterator[None]:
    """The test's own database work, with no request running beside it (a no-op wait when the
    database is PostgreSQL, whose live server is not held to one request at a time)."""
    with _ONE_AT_A_TIME:
        yield
