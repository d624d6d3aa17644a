"""`{% live_poller %}`: a page polls for what it shows and, by role, the menu's counts."""

from __future__ import annotations

import pytest

from lookups.services import live
from lookups.templatetags.live import live_poller

pytestmark = pytest.mark.django_db


def polled_topics(user, **context) -> list[str]:
    poller = live_poller({"user": user, **context})
    return live.signed_topics(poller["live_token"])


def test_an_agent_polls_for_the_page_and_the_refund_queue(agent_user):
    page = [live.purchase_topic("2000000815627301")]
    assert polled_topics(agent_user, live_topics=page) == sorted([*page, live.REFUNDS])


def test_a_manager_polls_for_the_approvals_waiting(manager_user):
    assert polled_topics(manager_user) == [live.APPROVALS]


def test_an_auditor_polls_only_for_what_the_page_shows(auditor_user):
    assert polled_topics(auditor_user) == []
    assert polled_topics(auditor_user, live_topics=[live.account_topic(3)]) == ["account:3"]


def test_the_stamp_is_the_one_of_the_topics_as_rendered(agent_user, settings):
    poller = live_poller({"user": agent_user}, oob=True)
    assert poller["live_stamp"] == live.stamp([live.REFUNDS])
    assert poller["live_poll_seconds"] == settings.LIVE_POLL_SECONDS
    assert poller["oob"] is True
