"""Customer notes: plain text, an edit keeps the earlier text, no tokens or signed data."""

from __future__ import annotations

import uuid

import pytest

from lookups.models import AuditLogIsAppendOnly, CustomerNoteRevision
from lookups.services.notes import NoteRefused, add_note, edit_note

pytestmark = pytest.mark.django_db

JWS = (
    "eyJhbGciOiJFUzI1NiIsIng1YyI6WyJNSUlC"
    ".eyJ0cmFuc2FjdGlvbklkIjoiMjAwMDAwMDgxNTYyNzMwMSJ9"
    ".c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
)


def test_a_note_keeps_its_author_time_ticket_and_text(agent_user, maya):
    note = add_note(agent_user, maya, "  Asked for a refund by phone.  ", ticket="SD-1")
    assert (note.author, note.account, note.ticket_reference) == (agent_user, maya, "SD-1")
    assert note.text == "Asked for a refund by phone."
    assert note.created_at is not None and note.edited_at is None


def test_an_edit_keeps_the_earlier_text(agent_user, maya):
    note = add_note(agent_user, maya, "Wants a call back", ticket="")
    edit_note(agent_user, note, "Wants a call back after 5 pm", ticket="SD-2")
    note.refresh_from_db()
    assert note.text == "Wants a call back after 5 pm" and note.ticket_reference == "SD-2"
    assert note.edited_by == agent_user and note.edited_at is not None
    earlier = CustomerNoteRevision.objects.get(note=note)
    assert earlier.text == "Wants a call back" and earlier.written_by == agent_user


def test_earlier_texts_are_never_changed_or_deleted(agent_user, maya):
    note = add_note(agent_user, maya, "First", ticket="")
    edit_note(agent_user, note, "Second", ticket="")
    with pytest.raises(AuditLogIsAppendOnly):
        CustomerNoteRevision.objects.update(text="rewritten")
    with pytest.raises(AuditLogIsAppendOnly):
        CustomerNoteRevision.objects.all().delete()


def test_only_the_author_edits_a_note(agent_user, make_user, maya):
    note = add_note(agent_user, maya, "Mine", ticket="")
    with pytest.raises(NoteRefused, match="Only the note's author"):
        edit_note(make_user("another", "Support agents"), note, "Theirs", ticket="")


@pytest.mark.parametrize(
    "text",
    [
        "Her token is 3f2b8c1e-7d4a-4c9e-9b6f-2a1d5e8c7b40",
        "token 3F2B8C1E7D4A4C9E9B6F2A1D5E8C7B40 from the app",
        f"Apple sent {JWS}",
    ],
)
def test_tokens_and_apples_signed_data_never_go_into_a_note(agent_user, maya, text):
    with pytest.raises(NoteRefused, match="never hold"):
        add_note(agent_user, maya, text, ticket="")
    note = add_note(agent_user, maya, "Fine", ticket="")
    with pytest.raises(NoteRefused, match="never hold"):
        edit_note(agent_user, note, text, ticket="")


@pytest.mark.parametrize("text", ["", "   ", "x" * 5001])
def test_an_empty_or_overlong_note_is_refused(agent_user, maya, text):
    with pytest.raises(NoteRefused):
        add_note(agent_user, maya, text, ticket="")


def test_a_note_may_name_order_and_transaction_ids(agent_user, maya):
    text = f"Order MK5TTTVWJH, transaction 2000000815627301, ref {uuid.uuid4().hex[:8]}"
    assert add_note(agent_user, maya, text, ticket="").text == text
