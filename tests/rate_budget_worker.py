"""One worker process of a deployment, for tests/test_rate_budget.py.

Configured entirely from the environment, as a gunicorn worker would be (CACHE_URL, APPSTORE_*),
it waits until WORKER_START_AT (UNIX seconds), looks up each order in WORKER_ORDER_IDS, and prints
one JSON line: what each lookup came to and how many bearer tokens this process signed.
"""

from __future__ import annotations

import json
import os
import time

import django


def main() -> None:
    django.setup()
    from lookups.apple import app_store_client
    from lookups.appstore import AppStoreError

    client = app_store_client()
    delay = float(os.environ.get("WORKER_START_AT", "0")) - time.time()
    if delay > 0:
        time.sleep(delay)

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
