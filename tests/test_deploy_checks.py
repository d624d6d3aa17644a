"""The desk's `check --deploy` check (lookups/deploy_checks.py) refuses a database role the
audit log can't hold against.

Each role is real and connected to for real: the README's app role, one granted ALL PRIVILEGES,
the tables' owner and a superuser.
"""

from __future__ import annotations

import psycopg
import pytest
from django.core import checks

from lookups.deploy_checks import role_problems
from tests.fixtures.database_roles import OWNER_ROLE

pytestmark = pytest.mark.django_db(transaction=True)


def problem_ids(app: psycopg.Connection) -> set[str]:
    with app.cursor() as cursor:
        return {problem.id for problem in role_problems(cursor)}


def test_the_readme_grants_pass(as_readme_role):
    assert problem_ids(as_readme_role) == set()


def test_all_privileges_fail_for_trigger_and_truncate(as_all_privileges):
    with as_all_privileges.cursor() as cursor:
        problems = role_problems(cursor)

    assert {problem.id for problem in problems} == {"desk.E003"}
    assert len(problems) == 6
    assert "holds TRIGGER and TRUNCATE on lookups_tokenchange" in problems[0].msg


def test_the_owner_fails(as_owner):
    assert "desk.E002" in problem_ids(as_owner)


def test_a_member_of_the_owner_fails(as_readme_role, owner_role):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"GRANT {OWNER_ROLE} TO supportdesk_trust_app_readme")
    try:
        assert "desk.E002" in problem_ids(as_readme_role)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"REVOKE {OWNER_ROLE} FROM supportdesk_trust_app_readme")


def test_a_superuser_fails_and_check_deploy_runs_it(postgresql):
    """The tests connect as a superuser: the desk's check among `check --deploy`'s says so."""
    found = checks.run_checks(include_deployment_checks=True)

    assert "desk.E001" in {message.id for message in found}
    assert "desk.E001" not in {message.id for message in checks.run_checks()}


def test_with_the_readme_grants_the_app_role_can_not_attach_a_trigger(as_readme_role):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_readme_role.execute(
            "CREATE FUNCTION pg_temp.keep_nothing() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RETURN NULL; END; $$"
        )
        as_readme_role.execute(
            "CREATE TRIGGER aaa_first BEFORE UPDATE ON public.lookups_auditchainhead "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.keep_nothing()"
        )
