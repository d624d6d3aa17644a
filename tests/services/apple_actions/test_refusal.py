"""The one refusal of an action at Apple: a status for the page and a sentence for the agent."""

from __future__ import annotations

from lookups.services.apple_actions.refusal import ActionRefused


def test_a_refusal_is_a_conflict_unless_it_says_otherwise():
    assert ActionRefused("Another extension is on its way.").status == 409
    assert ActionRefused("Not yours to decide.", status=403).status == 403


def test_the_sentence_names_apples_code_when_apple_is_the_reason():
    refused = ActionRefused("Apple refused the extension.", status=502, apple_code=4030004)
    assert refused.sentence == "Apple refused the extension. (Apple error 4030004)"
    assert refused.apple_code == 4030004


def test_a_code_the_message_already_names_is_not_said_twice():
    refused = ActionRefused("Apple answered 4030004: too many extensions.", apple_code=4030004)
    assert refused.sentence == refused.message


def test_without_a_code_the_sentence_is_the_message():
    refused = ActionRefused("Try again in a minute.")
    assert refused.sentence == "Try again in a minute." == str(refused)
