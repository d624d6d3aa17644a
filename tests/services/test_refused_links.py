"""Links refused before Apple is called leave a trace the auditors can read, and nobody can edit."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from lookups import roles
from lookups.models import AuditLogIsAppendOnly, RefusedLink, TokenChange
from lookups.simulators.demo_data import ORDER_FAMILY_SHARED, ORDER_OFFER_CODE
from tests.fixtures.links import (
    OFFER_CODE_PURCHASE,
    SOFIAS_PURCHASE,
    look_up,
    post_link,
    puts,
)
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.django_db


def test_a_form_without_a_ticket_is_recorded_with_who_what_and_why(
    agent_client, agent_user, appstore_settings, simulator, maya
):
    request_id = uuid.uuid4()
    response = post_link(
        agent_client, OFFER_CODE_PURCHASE, maya, ticket_reference=" ", request_id=str(request_id)
    )

    assert response.status_code == 422
    refused = RefusedLink.objects.get()
    assert (refused.agent, refused.account) == (agent_user, maya)
    assert refused.original_transaction_id == OFFER_CODE_PURCHASE
    assert refused.reason == RefusedLink.Reason.INVALID_FORM
    assert refused.request_id == request_id
    assert "Enter the support ticket" in refused.message
    assert puts(simulator) == 0


def test_moving_sofias_purchase_without_confirming_is_recorded_with_her_token(
    agent_client, appstore_settings, simulator, sofia, maya
):
    assert post_link(agent_client, SOFIAS_PURCHASE, maya).status_code == 422

    refused = RefusedLink.objects.get()
    assert refused.reason == RefusedLink.Reason.NEEDS_CONFIRMATION
    assert refused.account == maya and refused.token_before == sofia.app_account_token
    assert refused.ticket_reference == "ZD-2001"
    assert "Sofia Martinez" in refused.message
    assert puts(simulator) == 0


def test_a_link_while_another_is_in_progress_is_recorded(
    agent_client, appstore_settings, simulator, make_user, maya
):
    colleague = make_user("colleague", roles.AGENTS)
    make_token_change(colleague, maya, original_transaction_id=OFFER_CODE_PURCHASE)

    response = post_link(agent_client, OFFER_CODE_PURCHASE, maya)

    assert response.status_code == 409
    assert "colleague is linking this purchase to Maya Patel right now" in response.text
    refused = RefusedLink.objects.get()
    assert refused.reason == RefusedLink.Reason.IN_PROGRESS
    assert TokenChange.objects.count() == 1 and puts(simulator) == 0


def test_a_family_shared_purchase_is_recorded(agent_client, appstore_settings, simulator, maya):
    lookup = look_up(agent_client, ORDER_FAMILY_SHARED)
    shared = next(t["payload"] for t in lookup.transactions if t["verified"])

    response = post_link(agent_client, shared["originalTransactionId"], maya)

    assert response.status_code == 409
    assert RefusedLink.objects.get().reason == RefusedLink.Reason.FAMILY_SHARED
    assert puts(simulator) == 0


def test_a_link_that_reaches_apple_is_not_a_refusal(agent_client, appstore_settings, maya):
    look_up(agent_client, ORDER_OFFER_CODE)
    assert post_link(agent_client, OFFER_CODE_PURCHASE, maya).status_code == 200
    assert not RefusedLink.objects.exists()


def test_auditors_read_refused_links_in_the_admin_and_cannot_change_them(
    agent_client, auditor_client, appstore_settings, simulator, sofia, maya
):
    post_link(agent_client, SOFIAS_PURCHASE, maya)
    refused = RefusedLink.objects.get()

    listing = auditor_client.get(reverse("admin:lookups_refusedlink_changelist"))
    assert listing.status_code == 200
    assert SOFIAS_PURCHASE in listing.text and "Move not confirmed" in listing.text
    detail = auditor_client.get(reverse("admin:lookups_refusedlink_change", args=[refused.pk]))
    assert detail.status_code == 200 and "Sofia Martinez" in detail.text
    assert auditor_client.get(reverse("admin:lookups_refusedlink_add")).status_code == 403
    deleted = auditor_client.post(
        reverse("admin:lookups_refusedlink_delete", args=[refused.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 403
    assert RefusedLink.objects.filter(pk=refused.pk).exists()


def test_the_migration_lets_auditors_and_managers_view_refused_links():
    for name in (roles.AUDITORS, roles.MANAGERS):
        codenames = set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
        assert "view_refusedlink" in codenames
    agents = Group.objects.get(name=roles.AGENTS).permissions.values_list("codename", flat=True)
    assert "view_refusedlink" not in agents


def test_a_refused_link_is_never_changed_or_deleted(
    agent_client, appstore_settings, simulator, maya
):
    post_link(agent_client, OFFER_CODE_PURCHASE, maya, ticket_reference="")
    refused = RefusedLink.objects.get()

    refused.message = "nothing happened"
    with pytest.raises(AuditLogIsAppendOnly):
        refused.save()
    with pytest.raises(AuditLogIsAppendOnly):
        refused.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        RefusedLink.objects.all().delete()
    with pytest.raises(AuditLogIsAppendOnly):
        RefusedLink.objects.update(message="nothing happened")
    assert RefusedLink.objects.get().message.startswith("The form was incomplete")
