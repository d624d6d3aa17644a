"""Finish Transaction for a consumable delivered by hand (`apple_actions.transaction_finish`).

The transaction is read from Apple (fresh picture or a new read) so only a consumable the
customer still holds is finished; the rules and the pending row are written under the
transaction's lock, so two agents finishing it at once make one call. A second submission of
the same form returns the first one's row; a transaction the desk finished already is refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import IntegrityError

from lookups.appstore.transactions import ProductType
from lookups.models import Purchase, TransactionFinish
from lookups.services.apple_actions import ActionRefused, engine
from lookups.services.apple_actions.locks import locked, transaction_key
from lookups.services.apple_actions.transaction_finish import KIND as FINISH
from lookups.services.purchase_picture import purchase_to_act_on

Outcome = TransactionFinish.Outcome


class FinishRefused(ActionRefused):
    """Nothing was sent to Apple; `message` says why."""


@dataclass(frozen=True)
class FinishRequest:
    transaction_id: str
    note: str
    # Rendered into the form: a double submission is one row.
    request_id: uuid.UUID
    # The order the agent looked up (Apple's transaction doesn't carry it).
    order_id: str = ""


def finish_transaction(agent, request: FinishRequest) -> TransactionFinish:
    """Tell Apple the agent delivered this consumable; audited pending, then settled."""
    earlier = TransactionFinish.objects.filter(pk=request.request_id).first()
    if earlier is not None:
        return earlier
    if not request.note.strip():
        raise FinishRefused(
            "Say what you delivered by hand (and the ticket): the audit log keeps it.", status=400
        )
    purchase = _consumable(request.transaction_id, agent)
    try:
        with locked(transaction_key(purchase.environment, request.transaction_id)):
            earlier = TransactionFinish.objects.filter(pk=request.request_id).first()
            if earlier is not None:
                return earlier
            _refuse_if_finished_or_pending(purchase.environment, request.transaction_id)
            row = TransactionFinish.objects.create(
                id=request.request_id,
                agent=agent,
                app=purchase.app,
                environment=purchase.environment,
                transaction_id=request.transaction_id,
                original_transaction_id=purchase.original_transaction_id,
                product_id=purchase.product_id,
                order_id=purchase.order_id or request.order_id[:32],
                note=request.note.strip(),
            )
    except IntegrityError:
        raise FinishRefused(
            "Someone else is finishing this purchase at this moment: look again in a minute."
        ) from None
    return engine.perform(FINISH, row)


def finished_by_the_desk(
    environment: str, transaction_ids: list[str]
) -> dict[str, TransactionFinish]:
    """The latest finish the desk sent for each transaction (for the order page)."""
    rows = TransactionFinish.objects.filter(
        environment=environment, transaction_id__in=transaction_ids
    ).exclude(outcome=Outcome.FAILED)
    latest: dict[str, TransactionFinish] = {}
    for row in rows.order_by("created_at"):
        latest[row.transaction_id] = row
    return latest


def _refuse_if_finished_or_pending(environment: str, transaction_id: str) -> None:
    done = (
        TransactionFinish.objects.filter(environment=environment, transaction_id=transaction_id)
        .exclude(outcome=Outcome.FAILED)
        .select_related("agent")
        .first()
    )
    if done is None:
        return
    who = done.agent.get_username()
    if done.outcome == Outcome.PENDING:
        raise FinishRefused(f"{who} is finishing this purchase; the desk records Apple's answer.")
    raise FinishRefused(f"{who} already marked this purchase finished.")


def _consumable(transaction_id: str, agent) -> Purchase:
    purchase = purchase_to_act_on(transaction_id, FinishRefused, agent)
    if purchase.transaction.type != ProductType.CONSUMABLE:
        raise FinishRefused("Only consumables are finished by hand.", status=400)
    if purchase.is_revoked:
        raise FinishRefused("Apple refunded this purchase: there is nothing to deliver.")
    return purchase
