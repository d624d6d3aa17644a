"""Who may open which page: each view names one of these."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required

# Reading orders, histories and customers: agents, and managers deciding approvals.
agent_required = permission_required("lookups.look_up_orders", raise_exception=True)
# The changes an agent makes from an order or a customer (finishing a transaction, notes, the
# trainer's panel): managers read those pages but do not change them.
agent_work_required = permission_required("lookups.link_purchases", raise_exception=True)
linker_required = permission_required("lookups.link_purchases", raise_exception=True)
reports_required = permission_required("lookups.view_reports", raise_exception=True)
export_required = permission_required("lookups.export_csv", raise_exception=True)
approver_required = permission_required("lookups.approve_transfers", raise_exception=True)
extender_required = permission_required("lookups.extend_subscriptions", raise_exception=True)
extension_approver_required = permission_required(
    "lookups.approve_extensions", raise_exception=True
)
refund_answerer_required = permission_required(
    "lookups.answer_refund_requests", raise_exception=True
)
# Managers: the permission only they (and superusers) hold.
lockout_lifter_required = permission_required("lookups.approve_transfers", raise_exception=True)
