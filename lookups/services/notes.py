"""Agents' notes on a customer: plain text, and an edit that keeps what it replaces.

A note never holds an app account token or Apple's signed data: the token is the key to the
customer's purchases at Apple and is shown on the customer's page anyway; signed data is
Apple's, kept in the purchase picture. Such a note is refused with the reason, and the agent
keeps the text to fix it.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from lookups.models import CustomerAccount, CustomerNote, CustomerNoteRevision

MAX_LENGTH = 5000
TICKET_MAX_LENGTH = 100

_TOKEN = re.compile(
    r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.IGNORECASE
)
# A JWS is three base64url parts; its header, JSON, always starts with `{"`, "eyJ" in base64.
_SIGNED = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")


class NoteRefused(ValueError):
    """Why a note can't be kept as written, in words for the agent."""


def check_text(text: str) -> str:
    """The note as it will be kept (trimmed), or NoteRefused."""
    text = text.strip()
    if not text:
        raise NoteRefused("Write the note first: it is empty.")
    if len(text) > MAX_LENGTH:
        raise NoteRefused(
            f"A note holds at most {MAX_LENGTH} characters; this one has {len(text)}."
        )
    if _TOKEN.search(text):
        raise NoteRefused(
            "Notes never hold app account tokens: the customer's token is on their page already. "
            "Remove it and save again."
        )
    if _SIGNED.search(text):
        raise NoteRefused(
            "Notes never hold Apple's signed data (JWS): the desk keeps Apple's verified "
            "answers itself. Remove it and save again."
        )
    return text


def _check_ticket(ticket: str) -> str:
    ticket = ticket.strip()
    if len(ticket) > TICKET_MAX_LENGTH:
        raise NoteRefused(f"A ticket reference has at most {TICKET_MAX_LENGTH} characters.")
    return ticket


def add_note(author, account: CustomerAccount, text: str, *, ticket: str) -> CustomerNote:
    return CustomerNote.objects.create(
        account=account,
        author=author,
        text=check_text(text),
        ticket_reference=_check_ticket(ticket),
    )


def edit_note(editor, note: CustomerNote, text: str, *, ticket: str) -> CustomerNote:
    """Replace the note's text, keeping the one it had as a revision. Only its author may."""
    text, ticket = check_text(text), _check_ticket(ticket)
    if editor.pk != note.author_id:
        raise NoteRefused("Only the note's author edits it; add a note of your own instead.")
    with transaction.atomic():
        current = CustomerNote.objects.select_for_update().get(pk=note.pk)
        if (current.text, current.ticket_reference) == (text, ticket):
            return current
        CustomerNoteRevision.objects.create(
            note=current,
            text=current.text,
            ticket_reference=current.ticket_reference,
            written_by_id=current.edited_by_id or current.author_id,
            written_at=current.edited_at or current.created_at,
        )
        current.text, current.ticket_reference = text, ticket
        current.edited_at, current.edited_by = timezone.now(), editor
        current.save(update_fields=["text", "ticket_reference", "edited_at", "edited_by"])
    note.refresh_from_db()
    return current
