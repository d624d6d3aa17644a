"""Apple's codes in the sentences an agent reads aloud."""

from __future__ import annotations

from lookups import wording


def test_a_subtype_says_more_than_its_type():
    assert wording.notification_sentence("EXPIRED", "VOLUNTARY") == (
        "Expired: the customer cancelled it"
    )
    assert wording.notification_sentence("EXPIRED") == "Expired"


def test_an_unknown_subtype_falls_back_to_its_type():
    assert wording.notification_sentence("DID_RENEW", "SOMETHING_NEW") == "Renewed"


def test_a_type_apple_adds_later_is_still_readable():
    assert wording.notification_sentence("ONE_MORE_KIND") == "One more kind"


def test_every_known_type_and_subtype_has_a_sentence_of_its_own():
    for notification_type in wording.NOTIFICATIONS:
        assert wording.notification_sentence(notification_type) != notification_type
    for notification_type, subtype in wording.NOTIFICATION_SUBTYPES:
        said = wording.notification_sentence(notification_type, subtype)
        assert said == wording.NOTIFICATION_SUBTYPES[notification_type, subtype]


def test_refund_reasons_are_sentences_and_a_missing_one_is_said():
    assert wording.refund_reason("UNINTENDED_PURCHASE") == (
        "The customer says they bought it by mistake"
    )
    assert wording.refund_reason("") == "No reason given"
    assert wording.refund_reason("NEW_REASON") == "New reason"
