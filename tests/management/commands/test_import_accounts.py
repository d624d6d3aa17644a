"""manage.py import_accounts: its limits named on the command line, and an exit status that fails
only when the file can't be read."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from lookups.management.commands.import_accounts import Command
from lookups.models import CustomerAccount


@pytest.mark.django_db
def test_exit_status_is_nonzero_only_when_the_file_cannot_be_read(tmp_path, capsys):
    with_bad_rows = tmp_path / "bad-rows.csv"
    with_bad_rows.write_text("external_id,email,name\nc-1,bad,Ann\n")
    Command().run_from_argv(["manage.py", "import_accounts", str(with_bad_rows)])

    not_utf8 = tmp_path / "accounts.csv"
    not_utf8.write_bytes("external_id,email,name\nc-1,a@example.com,Zoë\n".encode("latin-1"))
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["manage.py", "import_accounts", str(not_utf8)])
    assert exited.value.code == 1
    assert "CommandError" in capsys.readouterr().err


@pytest.mark.django_db
def test_the_import_command_names_its_limits(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(
        "external_id,email,name\n"
        + "".join(f"c-{n},c{n}@example.com,Customer {n}\n" for n in range(20))
    )
    with pytest.raises(CommandError, match="more than 10 rows"):
        call_command("import_accounts", str(path), "--max-rows", "10")
    call_command("import_accounts", str(path), "--max-rows", "20")
    assert CustomerAccount.objects.count() == 20
