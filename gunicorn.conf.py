"""How gunicorn serves Supportdesk: `gunicorn supportdesk.wsgi` reads this file from its folder.

Threaded workers (gthread): a client that sends its request body slowly holds one thread, not a
whole worker, so a few slow uploads can't stall the site. The TLS proxy in front should still
buffer request bodies (nginx does by default), so that gunicorn sees only whole requests.

Every value can be changed from the environment or on the command line (`--bind`, `--workers`,
`--threads`), which wins over this file. Each thread may hold a database connection: give
PostgreSQL room for workers x threads connections per app server.
"""

from __future__ import annotations

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# An Apple call has APPSTORE_CALL_BUDGET_SECONDS (20) in all; a request never needs 60.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# Idle keep-alive connections from the proxy are closed after this many seconds.
keepalive = 5
