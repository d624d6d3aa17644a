"""manage.py flush empties every table, the audit log's too, and leaves the log guarded after."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection

from lookups.models import AuditChainHead, TokenChange
from tests.fixtures.audit_log import (
    execute,
    settled,
    verify,
)
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.django_db

DELETE_REFUSED = "DELETE refused on lookups_tokenchange: the audit log is append-only"


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_audit_log_and_leaves_it_guarded(make_user, make_account):
    agent, account = make_user("flusher"), make_account()
    settled(agent, account)
    make_token_change(agent, account)

    call_command("flush", interactive=False, verbosity=0)

    assert not TokenChange.objects.exists()
    assert not AuditChainHead.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM lookups_auditlogflush")
        assert cursor.fetchone() == (0,)
    change = make_token_change(make_user("after-flush"), make_account())
    with pytest.raises(IntegrityError, match=DELETE_REFUSED):
        execute("DELETE FROM lookups_tokenchange WHERE id = %s", [change.pk])
    assert verify().startswith("Checked 0 settled token changes: OK")
