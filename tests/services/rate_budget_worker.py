"""One worker process of a deployment, for tests/services/test_shared_rate_budget.py.

Configured entirely from the environment, as a gunicorn worker would be (CACHE_URL, APPSTORE_*).
Once Django is set up it creates WORKER_READY_FILE, waits for WORKER_GO_FILE to appear and then
until the UNIX time written in it (if any), looks up each order in WORKER_ORDER_IDS, and prints
one JSON line: what each lookup came to and how many bearer tokens this process signed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import django

GIVE_UP_SECONDS = 30


def wait_for_go(go_file: Path) -> None:
    give_up = time.monotonic() + GIVE_UP_SECONDS
    while not go_file.exists():
        if time.monotonic() > give_up:
            raise SystemExit(f"{go_file} never appeared")
        time.sleep(0.005)
    start_at = go_file.read_text().strip()
    if start_at:
        time.sleep(max(0.0, float(start_at) - time.time()))


def main() -> None:
    django.setup()
    from lookups.appstore import AppStoreError
    from lookups.services.clients import app_store_client

    client = app_store_client()
    Path(os.environ["WORKER_READY_FILE"]).touch()
    wait_for_go(Path(os.environ["WORKER_GO_FILE"]))

    outcomes = []
    for order_id in os.environ["WORKER_ORDER_IDS"].split(","):
        try:
            client.look_up_order(order_id)
        except AppStoreError as error:
            outcomes.append({"ok": False, "code": error.error_code, "message": error.describe()})
        else:
            outcomes.append({"ok": True})
    print(json.dumps({"outcomes": outcomes, "tokens_signed": client.signer.tokens_signed}))


if __name__ == "__main__":
    main()
