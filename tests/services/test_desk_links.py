"""The current desk link of a purchase: its latest succeeded change, in its own environment."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lookups.models import TokenChange
from lookups.services.desk_links import current_link, current_links, still_current_links
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.django_db

PURCHASE = "2000000815627301"


def settled(agent, account, outcome="succeeded", environment="Production"):
    change = make_token_change(
        agent, account, original_transaction_id=PURCHASE, environment=environment
    )
    change.settle(outcome)
    return change


def test_the_latest_succeeded_change_is_the_link_and_a_failed_one_is_not(agent_user, make_account):
    first = settled(agent_user, make_account())
    second = settled(agent_user, make_account())
    settled(agent_user, make_account(), outcome="failed")
    make_token_change(agent_user, make_account(), original_transaction_id=PURCHASE)

    assert current_link("Production", PURCHASE) == second
    assert still_current_links([first, second]) == [second]


def test_sandbox_and_production_are_apart(agent_user, make_account):
    production = settled(agent_user, make_account())
    sandbox = settled(agent_user, make_account(), environment="Sandbox")

    assert current_link("Production", PURCHASE) == production
    assert current_link("Sandbox", PURCHASE) == sandbox
    assert current_link("Production", "2000000000000001") is None


def test_many_purchases_links_are_read_in_one_query(agent_user, make_account):
    production = settled(agent_user, make_account())
    sandbox = settled(agent_user, make_account(), environment="Sandbox")
    keys = [("Production", PURCHASE), ("Sandbox", PURCHASE), ("Production", "2000000000000001")]

    with CaptureQueriesContext(connection) as queries:
        links = current_links(keys)

    assert len(queries) == 1
    assert links == {("Production", PURCHASE): production, ("Sandbox", PURCHASE): sandbox}
    assert current_links([]) == {}
    assert TokenChange.objects.count() == 2
