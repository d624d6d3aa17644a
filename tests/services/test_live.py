"""The live pages' version stamps: a bump moves a topic's stamp, and a signed token names the
topics a page may poll for."""

from __future__ import annotations

from django.core import signing

from lookups.services import live


def test_a_bump_moves_the_stamp_of_its_topic_only():
    maya = live.purchase_topic("2000000815627301")
    oliver = live.purchase_topic("2000000815627302")
    before_maya, before_oliver = live.stamp([maya]), live.stamp([oliver])

    live.bump(maya)

    assert live.stamp([maya]) != before_maya
    assert live.stamp([oliver]) == before_oliver


def test_a_stamp_covers_every_topic_of_a_page_whatever_their_order():
    topics = [live.REFUNDS, live.account_topic(7)]
    before = live.stamp(topics)
    assert live.stamp(list(reversed(topics))) == before

    live.bump(live.account_topic(7))

    assert live.stamp(topics) != before


def test_each_bump_gives_a_new_stamp():
    seen = {live.stamp([live.APPROVALS])}
    for _ in range(3):
        live.bump(live.APPROVALS)
        seen.add(live.stamp([live.APPROVALS]))
    assert len(seen) == 4


def test_a_signed_token_gives_back_its_topics():
    topics = [live.REFUNDS, live.purchase_topic("123")]
    assert live.signed_topics(live.sign_topics(topics, user_id=1)) == topics


def test_a_token_the_desk_did_not_sign_names_no_topics():
    forged = signing.dumps({"t": [live.REFUNDS], "u": 1}, salt="another.salt")
    assert live.signed_topics(forged) is None
    assert live.signed_topics("not-a-token") is None


def test_topics_of_unknown_shape_are_dropped():
    asked = "refunds,purchase:123,purchase:abc,account:9,account:,orders:1,approvals"
    assert live.parse_topics(asked) == ["refunds", "purchase:123", "account:9", "approvals"]


def test_a_page_asks_about_a_bounded_number_of_topics():
    asked = ",".join(f"purchase:{n}" for n in range(live.MAX_TOPICS + 20))
    assert len(live.parse_topics(asked)) == live.MAX_TOPICS
