"""Who may open what: every URL of the desk and of its admin, for each role, in one table.

Each cell of the table is a test of its own, so a failure names the URL and the role. Pages
test what they show elsewhere; here only whether a role gets in.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from lookups.models import (
    AdaptyDelivery,
    App,
    AppStoreNotification,
    AuditCheck,
    ConsumptionAnswer,
    CustomerNote,
    Export,
    OutageCompensation,
    Product,
    Purchase,
    QuarantinedNotification,
    RefundRequest,
    RefusedLink,
    RefusedNotificationCount,
    SubscriptionExtension,
    TokenChangeFollowUp,
    TransactionFinish,
)
from lookups.simulators.demo_data import PURCHASE_OFFER_CODE
from tests.fixtures.pages import csrf_client, token_from_page
from tests.fixtures.rows import make_lookup, make_token_change, make_transfer_request

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "agent", "auditor", "manager", "superuser")
USERS = {
    "agent": "agent_user",
    "auditor": "auditor_user",
    "manager": "manager_user",
    "superuser": "superuser",
}
SIGN_IN = "sign in"  # expected: a redirect to the sign-in page (the admin's, for admin URLs)


@dataclass(frozen=True)
class Route:
    """One URL, how to call it, and the status each role gets."""

    name: str
    expected: dict[str, int | str]
    kwargs: Callable[[dict[str, Any]], dict[str, Any]] = lambda objects: {}
    method: str = "get"
    data: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    def url(self, objects: dict[str, Any]) -> str:
        return reverse(self.name, kwargs=self.kwargs(objects))

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.label or self.name}"


def _statuses(anonymous, agent, auditor, manager, superuser) -> dict[str, int | str]:
    return dict(zip(ROLES, (anonymous, agent, auditor, manager, superuser), strict=True))


AGENTS_ONLY = _statuses(SIGN_IN, 200, 403, 403, 200)
MANAGERS_ONLY = _statuses(SIGN_IN, 403, 403, 200, 200)
# Orders and customers: agents, and managers reading them before they approve.
READERS = _statuses(SIGN_IN, 200, 403, 200, 200)

# Every named URL of our own. A URL added without a line here fails
# test_every_url_in_the_urlconf_is_in_the_permission_table.
ROUTES = [
    Route("login", _statuses(200, 200, 200, 200, 200)),
    Route("logout", _statuses(302, 302, 302, 302, 302), method="post"),
    # Agents go straight to Look up; auditors and managers get a home of their own.
    Route("lookups:home", _statuses(SIGN_IN, 302, 200, 200, 302)),
    Route("lookups:look_up", READERS),
    # Without a page's signed topics the poll has nothing to say: 204 for anyone signed in.
    Route("lookups:live", _statuses(SIGN_IN, 204, 204, 204, 204)),
    Route("lookups:menu_counts", _statuses(SIGN_IN, 200, 200, 200, 200)),
    # Agents link them, managers watch how many wait.
    Route("lookups:unlinked", _statuses(SIGN_IN, 200, 403, 200, 200)),
    Route("lookups:history", READERS, kwargs=lambda o: {"transaction_id": PURCHASE_OFFER_CODE}),
    Route(
        "lookups:app_download",
        READERS,
        kwargs=lambda o: {"transaction_id": PURCHASE_OFFER_CODE},
    ),
    Route(
        "lookups:link",
        AGENTS_ONLY,
        kwargs=lambda o: {"original_transaction_id": PURCHASE_OFFER_CODE},
    ),
    Route(
        "lookups:link",
        # Not a complete form: the agent is asked again, nothing is sent to Apple.
        _statuses(SIGN_IN, 422, 403, 403, 422),
        kwargs=lambda o: {"original_transaction_id": PURCHASE_OFFER_CODE},
        method="post",
    ),
    Route(
        "lookups:adapty_retry",
        # Adapty is off in tests: the page does not exist for those who may use it.
        _statuses(SIGN_IN, 404, 403, 403, 404),
        kwargs=lambda o: {"pk": o["token_change"].pk},
        method="post",
    ),
    Route("lookups:link_status", AGENTS_ONLY, kwargs=lambda o: {"pk": o["token_change"].pk}),
    Route("lookups:transfers", MANAGERS_ONLY),
    Route("lookups:lockouts", MANAGERS_ONLY),
    Route("lookups:lockouts", MANAGERS_ONLY, method="post"),
    # Local mode asks nobody for a second factor; the pages answer whoever is signed in.
    Route("lookups:second_factor", _statuses(SIGN_IN, 200, 200, 200, 200)),
    Route("lookups:second_factor", _statuses(SIGN_IN, 200, 200, 200, 200), method="post"),
    Route("lookups:second_factor_enrol", _statuses(SIGN_IN, 200, 200, 200, 200)),
    Route("lookups:second_factor_enrol", _statuses(SIGN_IN, 200, 200, 200, 200), method="post"),
    Route(
        "lookups:decide_transfer",
        # Each cell has a fresh open request: managers and superusers may reject it.
        MANAGERS_ONLY,
        kwargs=lambda o: {"pk": o["transfer"].pk, "decision": "reject"},
        method="post",
    ),
    Route(
        "lookups:extend",
        AGENTS_ONLY,
        kwargs=lambda o: {"original_transaction_id": PURCHASE_OFFER_CODE},
    ),
    Route(
        "lookups:extend",
        # Not a complete form: the agent is asked again, nothing is sent to Apple.
        _statuses(SIGN_IN, 400, 403, 403, 400),
        kwargs=lambda o: {"original_transaction_id": PURCHASE_OFFER_CODE},
        method="post",
    ),
    Route("lookups:extension_approvals", MANAGERS_ONLY),
    Route(
        "lookups:decide_extension",
        # Each cell has a fresh extension waiting: managers and superusers may reject it.
        MANAGERS_ONLY,
        kwargs=lambda o: {"pk": o["extension"].pk, "decision": "reject"},
        method="post",
    ),
    Route("lookups:outages", MANAGERS_ONLY),
    Route(
        "lookups:outages",
        # Not a complete form: the manager is asked again, nothing is written.
        _statuses(SIGN_IN, 403, 403, 400, 400),
        method="post",
    ),
    Route("lookups:outage_progress", MANAGERS_ONLY, kwargs=lambda o: {"pk": o["outage"].pk}),
    Route(
        "lookups:decide_outage",
        # Each cell has a fresh request by someone else: managers and superusers may reject it.
        MANAGERS_ONLY,
        kwargs=lambda o: {"pk": o["outage"].pk, "decision": "reject"},
        method="post",
    ),
    Route("lookups:finish", AGENTS_ONLY, kwargs=lambda o: {"transaction_id": PURCHASE_OFFER_CODE}),
    Route(
        "lookups:finish",
        # Not a complete form: the agent is asked again, nothing is sent to Apple.
        _statuses(SIGN_IN, 400, 403, 403, 400),
        kwargs=lambda o: {"transaction_id": PURCHASE_OFFER_CODE},
        method="post",
    ),
    Route("lookups:refund_requests", AGENTS_ONLY),
    Route(
        "lookups:answer_refund_request",
        # Not a complete form: the agent is asked again, nothing is sent to Apple.
        _statuses(SIGN_IN, 400, 403, 403, 400),
        kwargs=lambda o: {"pk": o["refund_request"].pk},
        method="post",
    ),
    # An agent's own transfers and extensions.
    Route("lookups:my_requests", AGENTS_ONLY),
    Route("lookups:search", READERS),
    Route("lookups:accounts", READERS),
    Route("lookups:account", READERS, kwargs=lambda o: {"pk": o["account"].pk}),
    Route(
        "lookups:add_note",
        # An empty note: the agent is asked again, nothing is kept.
        AGENTS_ONLY,
        kwargs=lambda o: {"pk": o["account"].pk},
        method="post",
    ),
    Route(
        "lookups:edit_note",
        AGENTS_ONLY,
        kwargs=lambda o: {"pk": o["account"].pk, "note_pk": o["note"].pk},
        method="post",
    ),
    Route(
        "lookups:account_refunds",
        READERS,
        kwargs=lambda o: {
            "pk": o["account"].pk,
            "original_transaction_id": o["purchase"].original_transaction_id,
        },
    ),
    Route("lookups:reports", MANAGERS_ONLY),
    *(
        Route(
            "lookups:export",
            MANAGERS_ONLY,
            kwargs=lambda o, table=table: {"table": table},
            label=f"lookups:export {table}",
        )
        for table in (
            "lookups",
            "token-changes",
            "customer-accounts",
            "extensions",
            "refund-requests",
        )
    ),
    # The trainers' simulator panel (local mode, as in tests). Not a complete form: the
    # agent is sent back and told why; nothing is sent to the simulator.
    Route("lookups:trainer_life", _statuses(SIGN_IN, 302, 403, 403, 302), method="post"),
    Route(
        "lookups:trainer_notification",
        AGENTS_ONLY,
        kwargs=lambda o: {"notification_uuid": o["notification"].notification_uuid},
    ),
    # Apple posts here without signing in; the signed payload is the proof. An empty body
    # is not a notification.
    Route("lookups:appstore_notifications", _statuses(400, 400, 400, 400, 400), method="post"),
    Route(
        "lookups:app_notifications",
        _statuses(400, 400, 400, 400, 400),
        method="post",
        kwargs=lambda o: {"app_id": o["app"].pk, "environment": "production"},
    ),
]
# The URLs Apple calls: no session, no CSRF token.
APPLE_CALLS = {"lookups:appstore_notifications", "lookups:app_notifications"}

# The admin: its own sign-in and index, and every page of every model it shows. Agents are not
# staff, so the admin sends them to its sign-in page like anyone else.
MANAGERS_EDIT = _statuses(SIGN_IN, SIGN_IN, 403, 200, 200)
ADMIN_ONLY_SUPERUSER = _statuses(SIGN_IN, SIGN_IN, 403, 403, 200)
STAFF_READ = _statuses(SIGN_IN, SIGN_IN, 200, 200, 200)
NOBODY = _statuses(SIGN_IN, SIGN_IN, 403, 403, 403)
# model -> (the fixture object it shows, whether a superuser may add and delete rows)
DESK_MODELS = {
    "customeraccount": ("account", True),
    "lookup": ("lookup", False),
    "tokenchange": ("token_change", False),
    "adaptydelivery": ("adapty_delivery", False),
    "export": ("export", False),
    "purchase": ("purchase", False),
    "refusedlink": ("refused_link", False),
    "transferrequest": ("transfer", False),
    "subscriptionextension": ("extension", False),
    "refundrequest": ("refund_request", False),
    "consumptionanswer": ("consumption_answer", False),
    "customernote": ("note", False),
    "auditcheck": ("audit_check", False),
    "outagecompensation": ("outage", False),
    "transactionfinish": ("finish", False),
}
# Superusers alone read what Apple sent and what was quarantined; nobody writes them here.
APPLE_NOTIFICATION_MODELS = {
    "appstorenotification": "notification",
    "quarantinednotification": "quarantined",
    "refusednotificationcount": "refused_count",
}
OTHER_MODELS = ["auth_group", "auth_user", "axes_accessattempt", "axes_accesslog"]
OTHER_MODELS += ["axes_accessfailurelog", "django_tasks_database_dbtaskresult"]
# django-otp's devices: a superuser removes a lost authenticator so its owner enrols again.
OTHER_MODELS += ["otp_static_staticdevice", "otp_totp_totpdevice"]


def _desk_model_routes(model: str, obj: str, superuser_writes: bool) -> list[Route]:
    writes = ADMIN_ONLY_SUPERUSER if superuser_writes else NOBODY
    of_the_object = lambda o, obj=obj: {"object_id": o[obj].pk}  # noqa: E731
    return [
        Route(f"admin:lookups_{model}_changelist", STAFF_READ),
        Route(f"admin:lookups_{model}_add", writes),
        Route(f"admin:lookups_{model}_change", STAFF_READ, kwargs=of_the_object),
        Route(f"admin:lookups_{model}_history", STAFF_READ, kwargs=of_the_object),
        Route(f"admin:lookups_{model}_delete", writes, kwargs=of_the_object),
    ]


def of_the_follow_up(objects: dict[str, Any]) -> dict[str, Any]:
    return {"object_id": objects["follow_up"].pk}


ADMIN_ROUTES = [
    Route("admin:login", _statuses(200, 200, 302, 302, 302)),
    Route("admin:index", STAFF_READ),
    Route(
        "admin:app_list",
        STAFF_READ,
        kwargs=lambda o: {"app_label": "lookups"},
        label="admin:app_list lookups",
    ),
    Route(
        "admin:app_list",
        # The admin hides an app nothing of which a user may see.
        _statuses(SIGN_IN, SIGN_IN, 404, 404, 200),
        kwargs=lambda o: {"app_label": "auth"},
        label="admin:app_list auth",
    ),
    *(
        route
        for model, (obj, writes) in DESK_MODELS.items()
        for route in _desk_model_routes(model, obj, writes)
    ),
    *(Route(f"admin:{model}_changelist", ADMIN_ONLY_SUPERUSER) for model in OTHER_MODELS),
    # The follow-ups of unanswered links: superusers read them; the workers alone write them.
    Route("admin:lookups_tokenchangefollowup_changelist", ADMIN_ONLY_SUPERUSER),
    Route("admin:lookups_tokenchangefollowup_add", NOBODY),
    *(
        Route(f"admin:lookups_tokenchangefollowup_{page}", expected, kwargs=of_the_follow_up)
        for page, expected in [
            ("change", ADMIN_ONLY_SUPERUSER),
            ("history", ADMIN_ONLY_SUPERUSER),
            ("delete", NOBODY),
        ]
    ),
    # The product catalogue: managers keep it; auditors have no need of it.
    *(
        Route(f"admin:lookups_product_{page}", MANAGERS_EDIT, kwargs=kwargs)
        for page, kwargs in [
            ("changelist", lambda o: {}),
            ("add", lambda o: {}),
            ("change", lambda o: {"object_id": o["product"].pk}),
            ("history", lambda o: {"object_id": o["product"].pk}),
            ("delete", lambda o: {"object_id": o["product"].pk}),
        ]
    ),
]
ADMIN_ROUTES += [
    Route(f"admin:lookups_{model}_{page}", expected, kwargs=kwargs)
    for model, obj in APPLE_NOTIFICATION_MODELS.items()
    for page, expected, kwargs in [
        ("changelist", ADMIN_ONLY_SUPERUSER, lambda o: {}),
        ("add", NOBODY, lambda o: {}),
        ("change", ADMIN_ONLY_SUPERUSER, lambda o, obj=obj: {"object_id": o[obj].pk}),
        ("history", ADMIN_ONLY_SUPERUSER, lambda o, obj=obj: {"object_id": o[obj].pk}),
        ("delete", NOBODY, lambda o, obj=obj: {"object_id": o[obj].pk}),
    ]
]
# The apps the desk serves: superusers register them; nobody else reads them.
ADMIN_ROUTES += [
    Route(f"admin:lookups_app_{page}", ADMIN_ONLY_SUPERUSER, kwargs=kwargs)
    for page, kwargs in [
        ("changelist", lambda o: {}),
        ("add", lambda o: {}),
        ("change", lambda o: {"object_id": o["app"].pk}),
        ("history", lambda o: {"object_id": o["app"].pk}),
        ("delete", lambda o: {"object_id": o["app"].pk}),
    ]
]
ADMIN_ROUTES += [
    # Request a Test Notification: superusers only. With no notification URL at the simulator
    # the POST answers Apple's refusal on the page.
    Route("admin:lookups_appstorenotification_test", ADMIN_ONLY_SUPERUSER),
    Route("admin:lookups_appstorenotification_test", ADMIN_ONLY_SUPERUSER, method="post"),
    # Auditors and managers start a check of the audit log; it answers with the list.
    Route(
        "admin:lookups_auditcheck_run", _statuses(SIGN_IN, SIGN_IN, 302, 302, 302), method="post"
    ),
]
ALL_ROUTES = ROUTES + ADMIN_ROUTES


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


def test_every_model_in_the_admin_is_in_the_permission_table():
    shown = {f"{m._meta.app_label}_{m._meta.model_name}" for m in admin.site._registry}
    in_table = {f"lookups_{model}" for model in DESK_MODELS} | set(OTHER_MODELS)
    in_table |= {"lookups_tokenchangefollowup", "lookups_product", "lookups_app"}
    in_table |= {f"lookups_{model}" for model in APPLE_NOTIFICATION_MODELS}
    assert shown == in_table


def test_nothing_but_the_sign_in_pages_opens_without_signing_in():
    for route in ALL_ROUTES:
        if route.name in ("login", "admin:login"):
            assert route.expected["anonymous"] == 200
        elif route.name == "logout":
            assert route.expected["anonymous"] == 302
        elif route.name in APPLE_CALLS:
            assert route.expected["anonymous"] != SIGN_IN
        else:
            assert route.expected["anonymous"] == SIGN_IN, route.id


@pytest.fixture
def objects(agent_user, manager_user, customer_account) -> dict[str, Any]:
    """One row of each kind, for the URLs that show one."""
    lookup = make_lookup(agent_user)
    token_change = make_token_change(agent_user, customer_account, lookup=lookup)
    refund_request = RefundRequest.objects.create(
        notification_uuid=str(uuid.uuid4()),
        environment="Production",
        transaction_id=PURCHASE_OFFER_CODE,
        original_transaction_id=PURCHASE_OFFER_CODE,
        requested_at=timezone.now(),
        deadline=timezone.now() + timedelta(hours=12),
    )
    return {
        "account": customer_account,
        "note": CustomerNote.objects.create(
            account=customer_account, author=agent_user, text="Called back"
        ),
        "lookup": lookup,
        "token_change": token_change,
        "adapty_delivery": AdaptyDelivery.objects.create(
            token_change=token_change, agent=agent_user, customer_user_id="cust-jane"
        ),
        "export": Export.objects.create(user=manager_user, table=Export.Table.LOOKUPS),
        "product": Product.objects.create(product_id="com.example.pro", display_name="Pro"),
        "app": App.objects.create(name="Second app", bundle_id="com.example.second"),
        "purchase": Purchase.objects.create(
            environment="Production",
            original_transaction_id=PURCHASE_OFFER_CODE,
            # Carrying the account's token, so the account's pages count it as the customer's.
            app_account_token=customer_account.app_account_token,
            latest_transaction={"originalTransactionId": PURCHASE_OFFER_CODE},
            learnt_at=timezone.now(),
            learnt_from=Purchase.Source.LOOKUP,
        ),
        "refused_link": RefusedLink.objects.create(
            agent=agent_user,
            environment="Production",
            original_transaction_id=PURCHASE_OFFER_CODE,
            account=customer_account,
            reason=RefusedLink.Reason.INVALID_FORM,
            message="Enter the support ticket this link is for.",
        ),
        "transfer": make_transfer_request(agent_user, customer_account),
        "extension": SubscriptionExtension.objects.create(
            agent=agent_user,
            environment="Production",
            original_transaction_id=PURCHASE_OFFER_CODE,
            extend_by_days=40,
            reason_code=SubscriptionExtension.Reason.CUSTOMER_SATISFACTION,
            ticket_reference="ZD-9",
            outcome=SubscriptionExtension.Outcome.AWAITING_APPROVAL,
        ),
        "refund_request": refund_request,
        "outage": OutageCompensation.objects.create(
            requested_by=agent_user,
            environment="Production",
            product_id="com.example.pro",
            extend_by_days=3,
            reason_code=3,
            note="Down on Saturday",
        ),
        "finish": TransactionFinish.objects.create(
            agent=agent_user,
            environment="Production",
            transaction_id="2000000843316691",
            original_transaction_id="2000000843316691",
            note="20 credits by hand",
        ),
        "consumption_answer": ConsumptionAnswer.objects.create(
            refund_request=refund_request,
            answered_by=agent_user,
            body={"deliveryStatus": "DELIVERED"},
        ),
        "follow_up": TokenChangeFollowUp.objects.create(token_change=token_change),
        "notification": AppStoreNotification.objects.create(
            notification_uuid="0f5e7b4e-8d0f-4d55-9f43-6f1d1c2b3a40",
            environment="Production",
            notification_type="DID_RENEW",
            payload={"notificationType": "DID_RENEW"},
        ),
        "quarantined": QuarantinedNotification.objects.create(reason="The body is not JSON."),
        "audit_check": AuditCheck.objects.create(outcome=AuditCheck.Outcome.OK),
        "refused_count": RefusedNotificationCount.objects.create(
            source="198.51.100.7", hour=timezone.now(), refused=1
        ),
    }


def client_for(request: pytest.FixtureRequest, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(request.getfixturevalue(USERS[role]))
    return client


def outcome(response, route: Route) -> int | str:
    sign_in_url = reverse("admin:login" if route.name.startswith("admin:") else "login")
    if response.status_code == 302 and response.url.startswith(sign_in_url + "?next="):
        return SIGN_IN
    return response.status_code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ALL_ROUTES, ids=lambda route: route.id)
def test_each_role_gets_what_the_permission_table_says(
    request, appstore_settings, objects, route, role
):
    response = getattr(client_for(request, role), route.method)(route.url(objects), route.data)
    assert outcome(response, route) == route.expected[role]


@pytest.mark.parametrize(
    "route",
    [r for r in ALL_ROUTES if r.method == "post" and r.name not in APPLE_CALLS],
    ids=lambda route: route.id,
)
def test_every_post_needs_the_csrf_token(superuser, appstore_settings, objects, route):
    client = csrf_client(superuser)
    assert client.post(route.url(objects), route.data).status_code == 403
    token = token_from_page(client, reverse("lookups:accounts"))
    response = client.post(route.url(objects), route.data, headers={"X-CSRFToken": token})
    assert response.status_code != 403
