"""The one way the desk changes something at Apple: the audited-action engine.

Every call that changes something at Apple (a link, the link behind an approved transfer, an
extension, a consumption answer, an outage compensation, a finished transaction) goes through
`engine`: the pending row in the hash-chained audit log is committed before the call, the
call is made, and Apple's answer settles the row into the chain. A call that timed out is
followed up (`engine.check_action`); a row whose process died mid-call is rescued by the
sweep (`engine.rescue_pending`); `manage.py reconcile_actions` settles any kind by hand.
Anything refused is an `ActionRefused`: a status code and a sentence for the agent, with
Apple's code when Apple's answer is the reason.

Adding a kind
-------------
1. The audit row: a `SettledOnceRecord` with `outcome` ("pending" while open) and
   `created_at`, naming its `CHAIN_HASHED_FIELDS`, its own `CHAIN_KIND`
   (`lookups/audit_chain.py`), its `KIND_NAME` and, where Apple's answer may settle it as more
   than succeeded or failed, its `SETTLED_OUTCOMES`; `settled_values(outcome, **extra)` returns
   what else it keeps of Apple's answer (the shared `settle` writes it). A partial unique
   constraint of one pending row per subject backs the lock.
2. Its follow-up: an `ActionFollowUp` subclass whose primary key is a one-to-one to the row,
   with `related_name="follow_up"`.
3. A module here defining `KIND`, an `ActionKind` (see `kind.py`): `name` (stored in queued
   tasks, never renamed), `label`, `audit_name`, `model`, `follow_up_model`, `describe(row)`,
   `call(row)` (the call to Apple, returning a `Settled`) and `read_back(row)` (ask Apple what
   became of it, returning a `Settled` or raising `StillUnknown`); optionally
   `after_success`, `expired` and `on_give_up`, and `request_id_field` where the row keeps its
   form's request id elsewhere than in its primary key. Add `KIND` to `engine.KINDS`.
4. Its rules, in the service agents call: under `locks.locked(...)` with the subject's key (and
   `agent_key(...)` where a per-agent limit applies), check the rules and write the pending
   row; then `engine.perform(KIND, row)` outside the lock. Refuse with `ActionRefused`. A
   resubmitted form gets the row its first submission made (`engine.first_submission`,
   asked before the rules, under the lock and after a unique-key clash). The subject's app and
   environment come from the purchase's picture (`acting_app.app_to_act_on`; a refund case or
   the manager's choice names its own): the rules read Apple as that app
   (`acting_app.acting_as`), the pending row records it in `app` and `environment`, and what
   truly can't be acted on (an environment the app does not use, its key unreadable, an app the
   person may not see) is refused in one sentence the pages show too. A decision on a waiting
   row (an approval) asks `acting_app` again, for the approver.
The engine does the rest: it calls Apple as the row's app in the row's environment
(`acting_app.acting_for`, in `perform`, `check` and `reconcile`), follows up after a timeout,
backs off, gives up, and the sweep's rescue and the command reach every app's rows alike.

| kind               | lock (rules checked, row written)     | read back from Apple            |
|--------------------|---------------------------------------|---------------------------------|
| link               | purchase; one pending per purchase    | token on the latest transaction |
| transfer approval  | purchase; transfer re-read, still open| as a link                       |
| extension          | purchase and agent's days; one pending| renewal date moved by the days  |
| consumption answer | refund case re-read; answered once    | the same body sent again        |
| outage compensation| product; a second manager, one run    | Get Status of Renewal Date      |
|                    | per product at a time                 | Extensions, until complete      |
| finish             | transaction; finished once by the desk| the same call again (idempotent)|

A kind whose work Apple does in the background (outage compensation) returns None from `call`
once Apple accepted it: the row stays pending and its progress is read (`next_check_in`) until
`read_back` settles it.
"""

from lookups.services.apple_actions.refusal import ActionRefused

__all__ = ["ActionRefused"]
