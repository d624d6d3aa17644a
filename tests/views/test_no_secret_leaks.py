"""Secrets are kept out of everything the desk writes: pages, logs, error reports, exports, rows."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.views.debug import ExceptionReporter

from lookups.models import Lookup, TokenChange
from lookups.services.clients import app_store_client
from lookups.simulators.demo_data import ORDER_OFFER_CODE, PURCHASE_OFFER_CODE
from tests.fixtures.pages import (
    HTMX,
    link_form,
)

pytestmark = pytest.mark.django_db


@dataclass
class Secrets:
    values: dict[str, str]

    def found_in(self, text: str) -> list[str]:
        return [name for name, value in self.values.items() if value and value in text]


def pem_body_lines(pem: str) -> list[str]:
    return [line for line in pem.strip().splitlines() if line and not line.startswith("-----")]


def database_text() -> dict[str, str]:
    """Every text value of every table, as "table.column" -> the values joined."""
    found: dict[str, str] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if table == "django_session" and column == "session_key":
                        continue  # where sessions are kept: the one place their keys belong
                    if isinstance(value, (dict, list)):
                        value = json.dumps(value)
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode("latin-1")
                    if isinstance(value, str):
                        key = f"{table}.{column}"
                        found[key] = found.get(key, "") + "\n" + value
    return found


def test_no_secret_reaches_a_page_a_log_an_error_report_an_export_or_the_database(
    request,
    caplog,
    agent_user,
    agent_client,
    manager_client,
    auditor_client,
    appstore_settings,
    adapty_settings,
    simulator,
    maya,
):
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []

    def keep(response) -> None:
        content = b"".join(response.streaming_content) if response.streaming else response.content
        bodies.append(content.decode("utf-8", "replace"))
        bodies.append(str(response.headers))

    look_up_url = reverse("lookups:look_up")
    keep(agent_client.get(look_up_url, {"order_id": ORDER_OFFER_CODE}))
    simulator.inject_fault("untrusted_chain", endpoint="lookup")
    keep(agent_client.get(look_up_url, {"order_id": ORDER_OFFER_CODE}, headers=HTMX))
    simulator.inject_fault("not_json", endpoint="lookup")
    keep(agent_client.get(look_up_url, {"order_id": ORDER_OFFER_CODE}, headers=HTMX))
    lookup = Lookup.objects.earliest("pk")

    link_url = reverse("lookups:link", args=[PURCHASE_OFFER_CODE])
    simulator.inject_fault("internal_error", endpoint="set_token")
    keep(agent_client.post(link_url, link_form(lookup, maya), headers=HTMX))
    keep(agent_client.post(link_url, link_form(lookup, maya), headers=HTMX))
    assert TokenChange.objects.filter(outcome=TokenChange.Outcome.SUCCEEDED).exists()
    keep(agent_client.get(reverse("lookups:history", args=[PURCHASE_OFFER_CODE])))
    keep(agent_client.get(reverse("lookups:account", args=[maya.pk])))

    keep(manager_client.get(reverse("lookups:reports")))
    for table in ("lookups", "token-changes", "customer-accounts"):
        keep(manager_client.get(reverse("lookups:export", args=[table])))
    keep(auditor_client.get(reverse("admin:lookups_lookup_change", args=[lookup.pk])))
    keep(auditor_client.get(reverse("admin:lookups_tokenchange_changelist")))
    keep(Client().post(reverse("login"), {"username": agent_user.username, "password": "no"}))

    # A crash, reported the way Django mails it to the administrators.
    appstore_settings.DEBUG = False
    crashing = Client(raise_request_exception=False)
    crashing.cookies = agent_client.cookies
    request.getfixturevalue("monkeypatch").setattr(
        "lookups.views.orders.look_up_order_in_apps", lambda *args: 1 / 0
    )
    keep(crashing.get(look_up_url, {"order_id": ORDER_OFFER_CODE}))
    [crash] = [r for r in caplog.records if r.exc_info and r.name == "django.request"]
    reporter = ExceptionReporter(crash.request, *crash.exc_info, is_email=True)
    reports = [reporter.get_traceback_text(), reporter.get_traceback_html()]

    pem = appstore_settings.APPSTORE_PRIVATE_KEY
    secrets = Secrets(
        {
            **{f"private key line {n}": line for n, line in enumerate(pem_body_lines(pem))},
            "private key": "".join(pem_body_lines(pem)),
            "Adapty key": appstore_settings.ADAPTY_SECRET_KEY,
            "session cookie": agent_client.cookies["sessionid"].value,
            "manager session cookie": manager_client.cookies["sessionid"].value,
            "bearer token": app_store_client().signer.token(),
        }
    )
    assert secrets.values["Adapty key"] and secrets.values["session cookie"]

    for n, body in enumerate(bodies):
        assert secrets.found_in(body) == [], f"response {n}"
    for record in caplog.records:
        text = record.getMessage() + "\n" + caplog.handler.format(record)
        assert secrets.found_in(text) == [], f"log record {record.name}: {record.msg!r}"
    assert len(caplog.records) > 10
    assert any(r.name.startswith("lookups.simulators.appstore") for r in caplog.records)
    for report in reports:
        assert secrets.found_in(report) == []
        assert "Traceback" in report or "ZeroDivisionError" in report
    for column, text in database_text().items():
        assert secrets.found_in(text) == [], column
    # The checks looked where the secrets could have gone.
    assert {"django_session.session_data", "lookups_lookup.transactions"} <= set(database_text())
