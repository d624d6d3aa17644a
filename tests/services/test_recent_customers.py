"""The customers each agent touched last, newest first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from lookups.services.recent_customers import recent_customers, touch

pytestmark = pytest.mark.django_db


def test_the_last_touched_come_first_each_once(agent_user, make_user, make_account):
    first, second, third = make_account(), make_account(), make_account()
    now = timezone.now()
    touch(agent_user, first, at=now - timedelta(minutes=3))
    touch(agent_user, second, at=now - timedelta(minutes=2))
    touch(agent_user, third, at=now - timedelta(minutes=1))
    touch(agent_user, first, at=now)
    touch(make_user("other-agent", "Support agents"), second, at=now + timedelta(minutes=1))
    assert recent_customers(agent_user) == [first, third, second]


def test_an_agent_who_touched_nobody_has_nobody(agent_user, make_account):
    make_account()
    assert recent_customers(agent_user) == []


def test_the_list_is_limited(agent_user, make_account):
    for _ in range(5):
        touch(agent_user, make_account())
    assert len(recent_customers(agent_user, limit=3)) == 3
