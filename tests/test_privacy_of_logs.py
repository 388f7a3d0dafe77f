"""Library code never logs personal data: run the flows with DEBUG logging and look."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from dsar import check_against_files, inventory, load_catalog
from dsar.demo import generate
from dsar.engine import open_engine
from dsar.errors import ExportReadError
from tests.conftest import AS_OF


def test_no_personal_data_in_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    export = generate(tmp_path, users=40, seed=1, as_of=AS_OF)
    catalog = load_catalog(export.catalog_path)
    with open_engine(catalog) as engine:
        check_against_files(catalog, engine)
        inventory(catalog, engine)
        emails = engine.query("SELECT email, full_name FROM accounts")
        engine.query("SELECT * FROM accounts WHERE email = ?", [export.subject_email])
    dsar_records = [r for r in caplog.records if r.name.startswith(("dsar", "anonymize"))]
    text = "\n".join(r.getMessage() for r in dsar_records)
    for email, name in zip(emails.column(0).to_pylist(), emails.column(1).to_pylist(), strict=True):
        assert email not in text and name not in text


def test_read_errors_do_not_quote_the_row(tiny_catalog: Path) -> None:
    bad = "user_id,email,phone,full_name,signup_at\nu9,zed@secret.example,5,Zed Q,yesterday\n"
    (tiny_catalog.parent / "users.csv").write_text(bad, encoding="utf-8")
    with pytest.raises(ExportReadError) as info, open_engine(load_catalog(tiny_catalog)) as e:
        e.query("SELECT * FROM users")
    message = str(info.value)
    assert "line 2" in message
    for value in ("zed@secret.example", "Zed Q", "yesterday"):
        assert value not in message


def test_access_logs_no_personal_data(
    trap_catalog: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from dsar.access.answer import answer_access_requests
    from dsar.subjects.identity import SubjectRequest, parse_key

    caplog.set_level(logging.DEBUG)
    request = SubjectRequest("AR-LOG", (parse_key("email=ann@example.com"),))
    answer_access_requests(load_catalog(trap_catalog), [request], tmp_path)
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("dsar"))
    assert "AR-LOG" in text  # the request is named by its reference...
    for value in ("ann@example.com", "Ann Lee", "u1", "d_ann", "900001", "Bob"):
        assert value not in text  # ...never by who it is about
