"""Security: who may open what, CSRF, the Content-Security-Policy, production settings, lockouts
after failed sign-ins, secrets kept out of everything we write, and limits on what users send."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.views.debug import ExceptionReporter

from lookups import roles, sign_in
from lookups.models import CustomerAccount, Lookup, TokenChange
from lookups.services.account_import import UnreadableFile, import_accounts
from lookups.services.clients import app_store_client
from lookups.simulators.demo_data import DEMO_ACCOUNTS, ORDER_OFFER_CODE
from tests.test_settings import PRODUCTION

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
ORIGINAL_ID = "2000000815627301"  # the demo offer-code subscription
ROLES = ("anonymous", "agent", "auditor", "manager", "superuser")
USERS = {
    "agent": "agent_user",
    "auditor": "auditor_user",
    "manager": "manager_user",
    "superuser": "superuser",
}
SIGN_IN = "sign in"  # expected: a redirect to the sign-in page (the admin's, for admin URLs)
HTMX = {"HX-Request": "true"}


# --- Who may open what ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One URL of the URLconf, how to call it, and the status each role gets."""

    name: str
    expected: dict[str, int | str]
    kwargs: Callable[[dict[str, Any]], dict[str, Any]] = lambda objects: {}
    method: str = "get"
    data: dict[str, Any] = field(default_factory=dict)

    def url(self, objects: dict[str, Any]) -> str:
        return reverse(self.name, kwargs=self.kwargs(objects))


def _statuses(anonymous, agent, auditor, manager, superuser) -> dict[str, int | str]:
    return dict(zip(ROLES, (anonymous, agent, auditor, manager, superuser), strict=True))


# Every named URL of our own. A URL added without a line here fails
# test_every_url_in_the_urlconf_is_in_the_permission_table.
ROUTES = [
    Route("login", _statuses(200, 200, 200, 200, 200)),
    Route("logout", _statuses(302, 302, 302, 302, 302), method="post"),
    # Agents go straight to Look up; auditors and managers get a home of their own.
    Route("lookups:home", _statuses(SIGN_IN, 302, 200, 200, 302)),
    Route("lookups:look_up", _statuses(SIGN_IN, 200, 403, 403, 200)),
    Route(
        "lookups:history",
        _statuses(SIGN_IN, 200, 403, 403, 200),
        kwargs=lambda o: {"transaction_id": ORIGINAL_ID},
    ),
    Route(
        "lookups:link",
        _statuses(SIGN_IN, 200, 403, 403, 200),
        kwargs=lambda o: {"original_transaction_id": ORIGINAL_ID},
    ),
    Route(
        "lookups:link",
        # Not a complete form: the agent is asked again, nothing is sent to Apple.
        _statuses(SIGN_IN, 422, 403, 403, 422),
        kwargs=lambda o: {"original_transaction_id": ORIGINAL_ID},
        method="post",
    ),
    Route(
        "lookups:adapty_retry",
        # Adapty is off in tests: the page does not exist for those who may use it.
        _statuses(SIGN_IN, 404, 403, 403, 404),
        kwargs=lambda o: {"pk": o["token_change"].pk},
        method="post",
    ),
    Route("lookups:accounts", _statuses(SIGN_IN, 200, 403, 403, 200)),
    Route(
        "lookups:account",
        _statuses(SIGN_IN, 200, 403, 403, 200),
        kwargs=lambda o: {"pk": o["account"].pk},
    ),
    Route("lookups:reports", _statuses(SIGN_IN, 403, 403, 200, 200)),
    Route(
        "lookups:export",
        _statuses(SIGN_IN, 403, 403, 200, 200),
        kwargs=lambda o: {"table": "token-changes"},
    ),
]

# The admin, at a few representative URLs: its own sign-in, the audit trail, customer accounts,
# and what only a superuser may touch.
ADMIN_ROUTES = [
    Route("admin:login", _statuses(200, 200, 302, 302, 302)),
    Route("admin:index", _statuses(SIGN_IN, SIGN_IN, 200, 200, 200)),
    Route("admin:lookups_lookup_changelist", _statuses(SIGN_IN, SIGN_IN, 200, 200, 200)),
    Route(
        "admin:lookups_lookup_change",
        _statuses(SIGN_IN, SIGN_IN, 200, 200, 200),
        kwargs=lambda o: {"object_id": o["lookup"].pk},
    ),
    Route("admin:lookups_tokenchange_changelist", _statuses(SIGN_IN, SIGN_IN, 200, 200, 200)),
    Route("admin:lookups_customeraccount_changelist", _statuses(SIGN_IN, SIGN_IN, 200, 200, 200)),
    Route("admin:lookups_customeraccount_add", _statuses(SIGN_IN, SIGN_IN, 403, 403, 200)),
    Route(
        "admin:lookups_customeraccount_delete",
        _statuses(SIGN_IN, SIGN_IN, 403, 403, 200),
        kwargs=lambda o: {"object_id": o["account"].pk},
    ),
    Route("admin:auth_user_changelist", _statuses(SIGN_IN, SIGN_IN, 403, 403, 200)),
    Route("admin:axes_accessattempt_changelist", _statuses(SIGN_IN, SIGN_IN, 403, 403, 200)),
]


def route_id(route: Route) -> str:
    return f"{route.method.upper()} {route.name}"


def url_names(patterns, namespace: str = "") -> set[str]:
    """Every named URL below `patterns`, namespaced; the admin's are listed separately."""
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"{pattern.pattern} has no name, so no line in the table"
            names.add(f"{namespace}{pattern.name}")
    return names


def test_every_url_in_the_urlconf_is_in_the_permission_table():
    assert url_names(get_resolver().url_patterns) == {route.name for route in ROUTES}
    assert any(
        isinstance(p, URLResolver) and p.namespace == "admin" for p in get_resolver().url_patterns
    )


@pytest.fixture
def objects(agent_user, customer_account) -> dict[str, Any]:
    from tests.factories import make_lookup, make_token_change

    lookup = make_lookup(agent_user)
    return {
        "account": customer_account,
        "lookup": lookup,
        "token_change": make_token_change(agent_user, customer_account, lookup=lookup),
    }


def role_clients(request, clients: dict[str, Client] | None = None) -> dict[str, Client]:
    """A client for each role, signed in (again) as that role's user, or anonymous."""
    clients = clients or {role: Client() for role in ROLES}
    for role, user in USERS.items():
        clients[role].force_login(request.getfixturevalue(user))
    return clients


def outcome(response, route: Route) -> int | str:
    sign_in_url = reverse("admin:login" if route.name.startswith("admin:") else "login")
    if response.status_code == 302 and response.url.startswith(sign_in_url + "?next="):
        return SIGN_IN
    return response.status_code


def test_each_role_gets_what_the_permission_table_says(request, appstore_settings, objects):
    clients = role_clients(request)
    got, expected = {}, {}
    for route in ROUTES + ADMIN_ROUTES:
        url = route.url(objects)
        key = f"{route.method.upper()} {url}"
        expected[key] = route.expected
        got[key] = {
            # POST /logout/ signs a client out: that role gets a fresh one afterwards.
            role: outcome(getattr(client, route.method)(url, route.data), route)
            for role, client in clients.items()
        }
        if route.name == "logout":
            role_clients(request, clients)
    assert got == expected


def test_nothing_but_the_sign_in_pages_opens_without_signing_in():
    for route in ROUTES + ADMIN_ROUTES:
        if route.name in ("login", "admin:login"):
            assert route.expected["anonymous"] == 200
        elif route.name == "logout":
            assert route.expected["anonymous"] == 302
        else:
            assert route.expected["anonymous"] == SIGN_IN, route.name


# --- CSRF --------------------------------------------------------------------------------------

HX_HEADERS = re.compile(r"""<body hx-headers='\{"X-CSRFToken": "([^"]+)"\}'>""")


def csrf_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def token_from_page(client: Client, url: str) -> str:
    """The token htmx sends with every request, from the page's `hx-headers`."""
    match = HX_HEADERS.search(client.get(url).text)
    assert match, "the page sets no X-CSRFToken in hx-headers"
    return match.group(1)


@pytest.fixture
def maya(make_account) -> CustomerAccount:
    demo = next(a for a in DEMO_ACCOUNTS if a["name"] == "Maya Patel")
    return make_account(
        display_name=demo["name"], app_account_token=uuid.UUID(demo["app_account_token"])
    )


def link_form(lookup: Lookup, account: CustomerAccount) -> dict[str, Any]:
    return {
        "account": account.pk,
        "ticket_reference": "ZD-9",
        "request_id": str(uuid.uuid4()),
        "lookup": lookup.pk,
    }


def test_an_htmx_link_without_the_csrf_token_is_refused_and_sends_nothing(
    agent_user, appstore_settings, simulator, maya
):
    client = csrf_client(agent_user)
    client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE})
    lookup = Lookup.objects.get()
    url = reverse("lookups:link", args=[ORIGINAL_ID])

    refused = client.post(url, link_form(lookup, maya), headers=HTMX)

    assert refused.status_code == 403
    assert not TokenChange.objects.exists()
    assert "PUT" not in [method for method, _ in simulator.requests]

    token = token_from_page(client, url)
    made = client.post(url, link_form(lookup, maya), headers={**HTMX, "X-CSRFToken": token})
    assert made.status_code == 200 and "Linked to" in made.text


@pytest.mark.parametrize(
    "route", [r for r in ROUTES + ADMIN_ROUTES if r.method == "post"], ids=route_id
)
def test_every_post_needs_the_csrf_token(superuser, objects, route):
    client = csrf_client(superuser)
    assert client.post(route.url(objects), route.data).status_code == 403
    token = token_from_page(client, reverse("lookups:accounts"))
    response = client.post(route.url(objects), route.data, headers={"X-CSRFToken": token})
    assert response.status_code != 403


def test_signing_in_and_out_need_the_csrf_token(staff):
    client = csrf_client()
    credentials = {"username": "river", "password": staff["river"]}
    assert client.post(reverse("login"), credentials).status_code == 403

    token = token_from_page(client, reverse("login"))
    signed_in = client.post(reverse("login"), {**credentials, "csrfmiddlewaretoken": token})
    assert signed_in.status_code == 302

    assert client.post(reverse("logout")).status_code == 403
    assert client.get(reverse("lookups:look_up")).status_code == 200


def test_the_admin_refuses_a_change_without_the_csrf_token(superuser, customer_account):
    client = csrf_client(superuser)
    url = reverse("admin:lookups_customeraccount_change", args=[customer_account.pk])
    data = {
        "external_id": "changed",
        "email": customer_account.email,
        "display_name": "Changed",
        "app_account_token": str(customer_account.app_account_token),
    }
    assert client.post(url, data).status_code == 403
    customer_account.refresh_from_db()
    assert customer_account.display_name == "Jane Doe"


def test_every_template_form_that_posts_carries_the_token():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", text, re.DOTALL | re.IGNORECASE):
            if re.search(r"""method=["']post["']""", form, re.IGNORECASE):
                assert "{% csrf_token %}" in form, f"{template.name}: a POST form has no token"


# --- Content-Security-Policy ----------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL | re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_CODE = re.compile(r"javascript:|\shx-on[:-]", re.IGNORECASE)


def inline_code(text: str) -> list[str]:
    """Everything in HTML that a strict Content-Security-Policy would refuse to run."""
    found = [
        f"<script{attributes}>{body[:40]}"
        for attributes, body in INLINE_SCRIPT.findall(text)
        if body.strip() or "src=" not in attributes
    ]
    for pattern in (STYLE_ATTRIBUTE, STYLE_ELEMENT, EVENT_HANDLER, INLINE_CODE):
        found += [text[max(0, m.start() - 30) : m.end() + 30] for m in pattern.finditer(text)]
    return found


def test_no_template_holds_inline_script_style_or_event_handlers():
    templates = list(TEMPLATES.rglob("*.html"))
    assert templates
    for template in templates:
        assert inline_code(template.read_text()) == [], template


def assert_strict_policy(response) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }
    assert directives.get("default-src") == ["'self'"], policy
    assert directives.get("script-src") == ["'self'"], policy
    assert directives.get("style-src") == ["'self'"], policy
    assert directives.get("object-src") == ["'none'"], policy
    assert directives.get("frame-ancestors") == ["'none'"], policy
    assert "unsafe" not in policy and "*" not in policy
    # No origin but our own: every source is a keyword or data: for images.
    for values in directives.values():
        assert all(v.startswith("'") or v == "data:" for v in values), policy


def test_every_page_is_served_with_a_strict_policy_and_no_inline_code(
    agent_client, manager_client, appstore_settings, simulator, maya
):
    pages = [
        Client().get(reverse("login")),
        agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE}),
        agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE}, headers=HTMX),
        agent_client.get(reverse("lookups:history", args=[ORIGINAL_ID])),
        agent_client.get(reverse("lookups:link", args=[ORIGINAL_ID]), {"q": "maya"}),
        agent_client.get(reverse("lookups:accounts"), {"q": "maya"}),
        agent_client.get(reverse("lookups:account", args=[maya.pk])),
        manager_client.get(reverse("lookups:reports")),
    ]
    lookup = Lookup.objects.filter(kind=Lookup.Kind.ORDER).first()
    pages.append(
        agent_client.get(
            reverse("lookups:link", args=[ORIGINAL_ID]), {"account": maya.pk, "lookup": lookup.pk}
        )
    )
    for response in pages:
        assert response.status_code == 200, response.request["PATH_INFO"]
        assert_strict_policy(response)
        assert inline_code(response.text) == [], response.request["PATH_INFO"]


def test_the_admin_and_error_pages_carry_the_policy_too(auditor_client, agent_client):
    assert_strict_policy(auditor_client.get(reverse("admin:index")))
    assert_strict_policy(agent_client.get("/no-such-page/"))
    assert_strict_policy(agent_client.get(reverse("lookups:reports")))


# --- Production settings -------------------------------------------------------------------------


def run_with_production_settings(code: str, **extra: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("APPSTORE_", "DJANGO_", "ADAPTY_", "CACHE_"))
        and key not in PRODUCTION
        and key not in ("BEHIND_TLS_PROXY", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS")
    }
    env.update(PRODUCTION, DJANGO_SETTINGS_MODULE="supportdesk.settings", **extra)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_deployment_checks_pass_with_production_settings():
    result = run_with_production_settings(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PRODUCTION_PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client

client = Client(HTTP_HOST="desk.example.com")
plain = client.get("/")
proxied = client.get("/", headers={"X-Forwarded-Proto": "https"})
print(json.dumps({
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "proxy_ssl_header": settings.SECURE_PROXY_SSL_HEADER,
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location"),
    "proxied_status": proxied.status_code,
    "proxied_location": proxied.headers.get("Location"),
    "hsts": proxied.headers.get("Strict-Transport-Security"),
}))
"""


def test_production_serves_https_only_behind_the_proxy_with_secure_cookies():
    result = run_with_production_settings(PRODUCTION_PROBE)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])

    assert probe["session_cookie_secure"] and probe["csrf_cookie_secure"]
    assert probe["session_cookie_httponly"]
    assert probe["proxy_ssl_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert probe["plain_status"] == 301
    assert probe["plain_location"] == "https://desk.example.com/"
    # Over HTTPS (as the proxy says) the page answers: here, by asking the visitor to sign in.
    assert probe["proxied_status"] == 302
    assert probe["proxied_location"].startswith("/login/")
    assert probe["hsts"] == "max-age=31536000; includeSubDomains; preload"


def test_without_a_proxy_the_forwarded_scheme_is_not_trusted():
    result = run_with_production_settings(PRODUCTION_PROBE, BEHIND_TLS_PROXY="false")
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["proxy_ssl_header"] is None
    assert probe["proxied_status"] == 301


# --- Failed sign-ins ---------------------------------------------------------------------------


@pytest.fixture
def staff(settings, make_user) -> dict[str, str]:
    """Two agents whose passwords hash fast, so a dozen failed sign-ins cost little."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    passwords = {}
    for username in ("river", "sky"):
        user = make_user(username, roles.AGENTS)
        passwords[username] = f"{username}-{uuid.uuid4()}"
        user.set_password(passwords[username])
        user.save(update_fields=["password"])
    return passwords


_signing_in = Client()


def sign_in_as(username: str, password: str, address: str = "203.0.113.7"):
    _signing_in.cookies.clear()
    return _signing_in.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_a_username_is_locked_out_after_five_failures_from_anywhere(staff, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert sign_in_as("river", staff["river"]).status_code == 302
    for n in range(4):
        failed = sign_in_as("river", "wrong", address=f"198.51.100.{n}")
        assert failed.status_code == 200 and "didn't match" in failed.text

    fifth = sign_in_as("river", "wrong", address="198.51.100.4")
    locked = sign_in_as("river", staff["river"], address="198.51.100.99")

    for response in (fifth, locked):
        assert response.status_code == 429
        assert "Too many failed sign-ins. Try again in 15 minutes" in response.text
        assert_strict_policy(response)
    # Another user signs in from that same address.
    assert sign_in_as("sky", staff["sky"], address="198.51.100.99").status_code == 302


def test_an_address_is_locked_out_after_five_failures_whatever_the_username(staff):
    for n in range(5):
        sign_in_as(f"guess{n}", "wrong", address="192.0.2.1")

    assert sign_in_as("river", staff["river"], address="192.0.2.1").status_code == 429
    # The same user from elsewhere is not held back by that address.
    assert sign_in_as("river", staff["river"], address="192.0.2.2").status_code == 302


def test_a_lockout_leaves_signed_in_sessions_alone(staff, agent_client, agent_user):
    for _ in range(6):
        sign_in_as(agent_user.username, "wrong")
    assert agent_client.get(reverse("lookups:look_up")).status_code == 200


def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(rf, settings):
    settings.BEHIND_TLS_PROXY = True
    request = rf.get("/", HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.4", REMOTE_ADDR="10.0.0.2")
    assert sign_in.client_address(request) == "198.51.100.4"
    settings.BEHIND_TLS_PROXY = False
    assert sign_in.client_address(request) == "10.0.0.2"


# --- Secrets -----------------------------------------------------------------------------------


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

    link_url = reverse("lookups:link", args=[ORIGINAL_ID])
    simulator.inject_fault("internal_error", endpoint="set_token")
    keep(agent_client.post(link_url, link_form(lookup, maya), headers=HTMX))
    keep(agent_client.post(link_url, link_form(lookup, maya), headers=HTMX))
    assert TokenChange.objects.filter(outcome=TokenChange.Outcome.SUCCEEDED).exists()
    keep(agent_client.get(reverse("lookups:history", args=[ORIGINAL_ID])))
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
        "lookups.views.orders.look_up_order", lambda *args: 1 / 0
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


# --- Limits on what users send -------------------------------------------------------------------


def test_an_over_long_order_id_gets_a_plain_message(agent_client, appstore_settings, simulator):
    response = agent_client.get(reverse("lookups:look_up"), {"order_id": "A" * 5000})
    assert response.status_code == 200
    assert "That is too long to hold an order ID; paste only the receipt line." in response.text
    assert not Lookup.objects.exists() and simulator.requests == []


def test_an_over_long_search_gets_a_plain_message(agent_client):
    response = agent_client.get(reverse("lookups:accounts"), {"q": "x" * 201}, headers=HTMX)
    assert response.status_code == 200
    assert "at most 200 characters" in response.text
    link = agent_client.get(reverse("lookups:link", args=[ORIGINAL_ID]), {"q": "x" * 201})
    assert link.status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "1999-01-01"}, "Choose dates between 2008-01-01 and"),
        ({"end": "9999-12-31"}, "Choose dates between 2008-01-01 and"),
        ({"start": "2008-01-01", "end": "2025-01-01"}, "at most ten years"),
        ({"start": "2024-13-01"}, "Enter a valid date"),
        ({"revision": "r" * 2049}, "at most 2048 characters"),
        ({"version": "3"}, "Select a valid choice"),
        ({"product_type": "GIFT"}, "Select a valid choice"),
    ],
)
def test_history_filters_out_of_range_get_a_plain_message(
    agent_client, appstore_settings, simulator, query, message
):
    response = agent_client.get(reverse("lookups:history", args=[ORIGINAL_ID]), query)
    assert response.status_code == 200
    assert message in response.text
    assert simulator.requests == []


def test_too_many_query_parameters_are_refused(agent_client):
    query = "&".join(f"product_type={n}" for n in range(1500))
    response = agent_client.get(f"{reverse('lookups:history', args=[ORIGINAL_ID])}?{query}")
    assert response.status_code == 400


def test_a_csv_import_larger_than_the_limit_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("external_id,email,name\n" + "c-1,c1@example.com,One\n" * 100)
    with pytest.raises(UnreadableFile, match=r"more than the 0 MB one import takes; split it"):
        import_accounts(path, report_problem=print, report_progress=print, max_bytes=1024)
    with pytest.raises(UnreadableFile, match=r"has more than 50 rows, more than one import takes"):
        import_accounts(path, report_problem=print, report_progress=print, max_rows=50)
    assert not CustomerAccount.objects.exists()


def test_the_import_command_names_its_limits(tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "accounts.csv"
    path.write_text(
        "external_id,email,name\n"
        + "".join(f"c-{n},c{n}@example.com,Customer {n}\n" for n in range(20))
    )
    with pytest.raises(CommandError, match="more than 10 rows"):
        call_command("import_accounts", str(path), "--max-rows", "10")
    call_command("import_accounts", str(path), "--max-rows", "20")
    assert CustomerAccount.objects.count() == 20
