"""A bare endpoint for benchmarks/notifications_ingest.py: read the body, insert one row, answer.

It measures what gunicorn, Django's middleware and PostgreSQL allow on this machine, the ceiling
the notification endpoint is compared with. It is mounted only when BENCHMARK_STACK_LIMIT is on,
which only that benchmark sets, and writes to a table only the benchmark's database has.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

TABLE = "benchmark_stack_limit"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(id bigserial PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT now(), body jsonb)"
)


@csrf_exempt
@require_POST
def stack_limit(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (body) VALUES (%s)", [request.body.decode()])  # noqa: S608
    return HttpResponse(status=200)
