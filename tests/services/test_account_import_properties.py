"""Property-based: a CSV of random bytes or rows imports, or is refused with UnreadableFile."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from lookups.services.account_import import UnreadableFile, import_accounts

field_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=120)
rows = st.lists(st.lists(field_text, min_size=0, max_size=6), max_size=20)
headers = st.one_of(
    st.just(["external_id", "email", "name"]),
    st.just(["external_id", "email", "name", "app_account_token"]),
    st.lists(st.sampled_from(["external_id", "email", "name", "app_account_token", "x"])),
)


def import_file(tmp_path_factory, content: bytes):
    path = tmp_path_factory.mktemp("import") / "accounts.csv"
    path.write_bytes(content)
    problems: list[tuple[int, str]] = []
    try:
        summary = import_accounts(
            path,
            report_problem=lambda line, message: problems.append((line, message)),
            report_progress=lambda rows_read: None,
            max_bytes=64 * 1024,
            max_rows=50,
        )
    except UnreadableFile as refusal:
        assert str(refusal)
        return None, problems
    assert all(message for _, message in problems)
    return summary, problems


@pytest.mark.django_db
@given(content=st.binary(max_size=4096))
@example(content=b"\xff\xfe\x00e\x00x")
@example(content=b"external_id,email,name\n" + b"a,b@example.com," + b"x" * 70_000 + b"\n")
def test_a_csv_of_random_bytes_imports_or_is_refused(tmp_path_factory, content):
    import_file(tmp_path_factory, content)


@pytest.mark.django_db
@given(header=headers, body=rows, token=st.uuids().map(str))
@example(header=["external_id", "email", "name"], body=[["a\x00", "a@example.com", "A"]], token="0")
@example(
    header=["external_id", "email", "name", "app_account_token"],
    body=[["a", "a@example.com", "A", "not-a-uuid"], ["b", "b@example.com", "B", "0" * 40]],
    token="0",
)
def test_csv_rows_of_random_text_import_or_are_reported(tmp_path_factory, header, body, token):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(body)
    writer.writerow(["acct-ok", "ok@example.com", "Okay", token][: len(header)])
    summary, _ = import_file(tmp_path_factory, out.getvalue().encode("utf-8"))
    if summary is not None:
        handled = summary.created + summary.updated + summary.unchanged
        assert handled + summary.skipped + summary.conflicts >= 1
