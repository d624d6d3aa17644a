"""What every kind of action at Apple gives the engine, and the defaults a kind may keep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import models
from django.utils import timezone

from lookups.models import SettledOnceRecord
from lookups.services.apple_actions import engine
from lookups.services.apple_actions.kind import ActionKind, Settled


@pytest.mark.parametrize("kind", engine.KINDS, ids=str)
def test_each_kind_names_a_settled_once_row_and_a_follow_up_keyed_by_it(kind):
    assert issubclass(kind.model, SettledOnceRecord)
    outcomes = dict(kind.model._meta.get_field("outcome").choices)
    assert "pending" in outcomes and {"succeeded", "failed"} <= set(outcomes)
    assert isinstance(kind.model._meta.get_field("created_at"), models.DateTimeField)
    key = kind.follow_up_model._meta.pk
    assert isinstance(key, models.OneToOneField) and key.related_model is kind.model
    # The engine reaches the follow-up from the row by this name (the sweep's rescue).
    assert key.remote_field.related_name == "follow_up"


def test_the_kinds_names_in_queued_tasks_are_distinct():
    names = [kind.name for kind in engine.KINDS]
    assert len(set(names)) == len(names)


def test_a_kind_keeps_the_engines_defaults_unless_it_says_otherwise():
    class Bare(ActionKind):
        label = "bare action"

    bare = Bare()
    assert bare.next_check_in(3) is None
    assert bare.expired(object(), timezone.now()) is None
    assert bare.on_give_up(object(), "nobody answered") is None
    assert bare.describe(7) == "7" and str(bare) == "bare action"
    with pytest.raises(NotImplementedError):
        bare.call(object())
    with pytest.raises(NotImplementedError):
        bare.read_back(object())


def test_settled_values_of_one_answer_are_not_shared_with_another():
    first, second = Settled("succeeded"), Settled("succeeded")
    first.extra["effective_date"] = timezone.now() + timedelta(days=3)
    assert second.extra == {}
