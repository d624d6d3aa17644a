"""The former name of `reconcile_actions`, kept for the runbooks and scripts that use it."""

from lookups.management.commands.reconcile_actions import Command, shortest_wait_minutes

__all__ = ["Command", "shortest_wait_minutes"]
