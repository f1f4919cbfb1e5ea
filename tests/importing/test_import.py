"""CSV import: every bad row reported by line with its reason, every good row kept."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from gtm_feedback.account.models import Account
from gtm_feedback.db.session import get_engine, session_scope
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feedback.models import Feedback, Severity
from gtm_feedback.importing.reader import CsvFormatError, read_csv_bytes
from gtm_feedback.importing.service import HeaderError, ImportReport, import_rows

ACCOUNTS = (
    b"id,name,type,region,arr,is_enterprise,website\n"
    b'A1,Acme Corp,customer,NA,"$1,200,000.50",yes,https://acme.example\n'
    b"A2,Beta GmbH,customer,EMEA,not-a-number,no,\n"  # line 3: wrong type
    b"A3,,customer,EMEA,100,no,\n"  # line 4: missing required name
    b"A1,Acme Again,customer,NA,5,no,\n"  # line 5: duplicate id
    b"A4,Caf\xe9 Ltd,customer,EMEA,300,no,\n"  # line 6: Latin-1 byte, not UTF-8
    b'A5,"Multi\nLine Inc",customer,APAC,42.5,false,\n'  # lines 7-8: quoted newline
    b"A6,Delta,customer,NA,10,maybe,\n"  # line 9: not a boolean
    b"A7,Ragged\n"  # line 10: too few fields
    b"A8,Echo,customer,LATAM,-5,no,\n"  # line 11: negative ARR
)


def run(url: str, kind: str, data: bytes) -> ImportReport:
    header, rows = read_csv_bytes(data)
    return import_rows(url, kind, header, rows, batch_size=2)


def test_bad_account_rows_are_reported_and_good_rows_kept(db_url: str) -> None:
    report = run(db_url, "accounts", ACCOUNTS)

    reasons = {error.line: error.reason for error in report.errors}
    assert sorted(reasons) == [3, 4, 5, 6, 9, 10, 11]
    assert "arr" in reasons[3]
    assert "name" in reasons[4]
    assert "duplicate id 'A1' (first on line 2)" in reasons[5]
    assert "not valid UTF-8 (byte 0xe9)" in reasons[6]
    assert "is_enterprise" in reasons[9]
    assert "has 2 fields" in reasons[10]
    assert "arr" in reasons[11]
    assert (report.total, report.created, report.updated) == (9, 2, 0)
    with session_scope(db_url) as session:
        acme = session.get(Account, "A1")
        multi = session.get(Account, "A5")
        assert acme is not None
        assert multi is not None
        assert (acme.name, str(acme.arr), acme.is_enterprise) == ("Acme Corp", "1200000.50", True)
        assert multi.name == "Multi\nLine Inc"
        assert session.scalar(select(func.count()).select_from(Account)) == 2


def test_rerun_updates_instead_of_duplicating(db_url: str) -> None:
    run(db_url, "accounts", ACCOUNTS)
    again = run(db_url, "accounts", ACCOUNTS.replace(b"Acme Corp", b"Acme Corporation"))
    assert (again.created, again.updated) == (0, 2)
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 2
        account = session.get(Account, "A1")
        assert account is not None
        assert account.name == "Acme Corporation"


def _load_world(url: str) -> None:
    run(url, "areas", b"id,name,description,firehose_channel\nar1,API & Developer Tools,APIs,api\n")
    run(url, "accounts", b"id,name,arr,is_enterprise\nA1,Acme,500000,true\nA2,Beta,1000,false\n")
    report = run(
        url,
        "requests",
        b"id,title,description,status,areas,creator_email\n"
        b"r1,Webhook retries with a failure log,Dropped events,open,"
        b"api-developer-tools,pm@x.example\n"
        b"r2,Higher rate limits for bulk,Throttled,open,no-such-area,\n"
        b"r3,Short,Too short title,open,ar1,\n",
    )
    assert [(e.line, "unknown product area" in e.reason) for e in report.errors][:1] == [(3, True)]
    assert "title" in report.errors[1].reason


def test_feedback_import_checks_references(db_url: str) -> None:
    _load_world(db_url)
    report = run(
        db_url,
        "feedback",
        b"id,request_id,account_id,severity,description,links,creator_email\n"
        b"f1,r1,A1,high,We lose events,https://a.example/1 https://a.example/2,ae@x.example\n"
        b"f2,webhook-retries-with-a-failure-log,A2,low,Nice to have,,\n"
        b"f3,r1,NOPE,high,Unknown account,,\n"
        b"f4,r9,A1,high,Unknown request,,\n"
        b"f5,r1,A1,urgent,Bad severity,,\n"
        b"f6,r1,A1,low,,,\n"
        b"f7,r1,A1,low,Bad link,not a url,\n",
    )
    reasons = {error.line: error.reason for error in report.errors}
    assert reasons[4] == "unknown account 'NOPE'"
    assert reasons[5] == "unknown request 'r9'"
    assert "severity" in reasons[6]
    assert "description" in reasons[7]
    assert "links" in reasons[8]
    assert report.created == 2
    with session_scope(db_url) as session:
        f1 = session.get(Feedback, "f1")
        request = session.get(FeatureRequest, "r1")
        assert f1 is not None
        assert request is not None
        assert (f1.severity, f1.links) == (
            Severity.HIGH,
            ["https://a.example/1", "https://a.example/2"],
        )
        assert {u.email for u in request.followers} == {"ae@x.example"}
        assert request.slug == "webhook-retries-with-a-failure-log"


def test_area_clash_rejects_only_that_row(db_url: str) -> None:
    report = run(
        db_url,
        "areas",
        b"id,name\nar1,Mobile\nar2,mobile\nar3,Billing\n",
    )
    assert [(e.line, "already exists" in e.reason) for e in report.errors] == [(3, True)]
    assert report.created == 2


def test_missing_required_column_is_a_file_error(db_url: str) -> None:
    header, rows = read_csv_bytes(b"name,arr\nAcme,10\n")
    with pytest.raises(HeaderError, match="missing required column"):
        import_rows(db_url, "accounts", header, rows)


@pytest.mark.parametrize(("data", "message"), [(b"", "empty"), (b"\x00\x01binary", "binary")])
def test_unreadable_files(data: bytes, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message):
        read_csv_bytes(data)


def test_utf8_bom_and_unknown_columns(sqlite_url: str) -> None:
    report = run(sqlite_url, "accounts", "\ufeffid,name,colour\nA1,Zürich AG,blue\n".encode())
    assert (report.created, report.errors, report.ignored_columns) == (1, [], ["colour"])


def test_a_batch_holds_the_write_lock_so_another_writer_cannot_break_it(sqlite_url: str) -> None:
    # Another process commits at the very moment the importer is about to write. With a
    # deferred transaction that commit wins and the batch fails at once ("database is
    # locked"); a batch that took the write lock up front makes the intruder wait instead.
    engine, path = get_engine(sqlite_url), make_url(sqlite_url).database
    assert path is not None
    intruder: list[str] = []

    def write_from_elsewhere(*args: object) -> None:
        if intruder or not str(args[2]).startswith("INSERT INTO accounts"):
            return
        other = sqlite3.connect(path, timeout=0.2)
        try:
            other.execute("CREATE TABLE IF NOT EXISTS intruder (x INTEGER)")
            other.commit()
            intruder.append("committed")
        except sqlite3.OperationalError:
            intruder.append("had to wait")
        finally:
            other.close()

    event.listen(engine, "before_cursor_execute", write_from_elsewhere)
    try:
        report = run(sqlite_url, "accounts", b"id,name\nA1,Acme\n")
    finally:
        event.remove(engine, "before_cursor_execute", write_from_elsewhere)
    assert (report.created, report.errors) == (1, [])
    assert intruder == ["had to wait"]


def test_an_oversize_field_rejects_its_row_not_the_file(sqlite_url: str) -> None:
    huge = b"x" * 1_000_001  # over the CSV reader's field limit
    data = b"id,name\nA1,Acme\nA2," + huge + b"\nA3,Gamma\n"
    report = run(sqlite_url, "accounts", data)
    assert [
        (error.line, "field larger than field limit" in error.reason) for error in report.errors
    ] == [(3, True)]
    assert report.created == 2
