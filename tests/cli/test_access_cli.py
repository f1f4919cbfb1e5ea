"""``gtm-feedback users``, ``tokens`` and ``audit`` through Typer's runner, on a temp database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gtm_feedback import migrations
from gtm_feedback.cli import app
from gtm_feedback.config import get_settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.user import passwords, tokens
from gtm_feedback.user import service as users

runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated embedded database the command line points at."""
    monkeypatch.setenv("GTMFB_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    found = get_settings().app_database_url
    migrations.upgrade(found)
    return found


def _password_of(url: str, email: str) -> str | None:
    with session_scope(url) as session:
        user = users.get_by_email(session=session, email=email)
        return None if user is None else user.password_hash


def test_users_add_prints_a_generated_password_once_that_works(url: str) -> None:
    added = runner.invoke(app, ["users", "add", "Ana@Company.example", "--role", "approver"])
    assert added.exit_code == 0, added.output
    printed = added.output.strip().splitlines()[-1]
    assert passwords.verify(_password_of(url, "ana@company.example"), printed)
    listed = runner.invoke(app, ["users", "list"])
    assert "ana@company.example" in listed.output
    assert "approver" in listed.output


def test_passwords_from_stdin_and_resets(url: str) -> None:
    given = "correct horse battery staple"
    added = runner.invoke(
        app, ["users", "add", "bo@company.example", "--password-stdin"], input=f"{given}\n"
    )
    assert added.exit_code == 0, added.output
    assert given not in added.output
    assert passwords.verify(_password_of(url, "bo@company.example"), given)
    short = runner.invoke(app, ["users", "set-password", "bo@company.example", "--password-stdin"])
    assert short.exit_code == 2  # empty input: too short, nothing changed
    assert passwords.verify(_password_of(url, "bo@company.example"), given)
    reset = runner.invoke(app, ["users", "set-password", "bo@company.example"])
    assert reset.exit_code == 0
    assert passwords.verify(_password_of(url, "bo@company.example"), reset.output.split()[-1])
    missing = runner.invoke(app, ["users", "set-password", "nobody@company.example"])
    assert missing.exit_code == 1
    assert "No user nobody@company.example" in missing.output


def test_tokens_create_list_revoke_and_the_audit_log(url: str) -> None:
    runner.invoke(app, ["users", "add", "bot@company.example", "--role", "member"])
    made = runner.invoke(
        app, ["tokens", "create", "--user", "bot@company.example", "--name", "zendesk"]
    )
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]  # on its own line, for scripts
    assert secret.startswith("gtmfb_tok_")
    with session_scope(url) as session:
        found = tokens.verify(session=session, presented=secret)
        assert found is not None
        assert found[1].email == "bot@company.example"
    token_id = tokens.split(secret)[0]
    assert "active" in runner.invoke(app, ["tokens", "list"]).output
    assert runner.invoke(app, ["tokens", "revoke", token_id]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["tokens", "list"]).output
    with session_scope(url) as session:
        assert tokens.verify(session=session, presented=secret) is None
    assert runner.invoke(app, ["tokens", "revoke", "tok_nope"]).exit_code == 1
    log = runner.invoke(app, ["audit", "--limit", "10"]).output
    for action in ("user.add", "token.create", "token.revoke"):
        assert action in log


def test_init_tells_how_to_sign_in_on_the_embedded_default(url: str, tmp_path: Path) -> None:
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    kept = (tmp_path / "data" / "demo-admin-password").read_text(encoding="utf-8")
    assert f"password: {kept}" in first.output
    assert "demo-admin@example.com" in first.output
    assert passwords.verify(_password_of(url, "demo-admin@example.com"), kept)
    again = runner.invoke(app, ["init"])
    assert f"password: {kept}" in again.output  # the same account, not a new password


def test_a_disabled_person_loses_sign_in_and_tokens(url: str) -> None:
    added = runner.invoke(app, ["users", "add", "leaver@company.example"])
    password = added.output.strip().splitlines()[-1]
    made = runner.invoke(
        app, ["tokens", "create", "--user", "leaver@company.example", "--name", "laptop"]
    )
    secret = made.stdout.strip().splitlines()[-1]
    assert runner.invoke(app, ["users", "disable", "leaver@company.example"]).exit_code == 0
    with session_scope(url) as session:
        assert tokens.verify(session=session, presented=secret) is None
        user = users.get_by_email(session=session, email="leaver@company.example")
        assert user is not None
        assert user.disabled
    assert "disabled" in runner.invoke(app, ["users", "list"]).output
    assert (
        runner.invoke(app, ["users", "disable", "leaver@company.example", "--enable"]).exit_code
        == 0
    )
    with session_scope(url) as session:
        assert tokens.verify(session=session, presented=secret) is not None
        again = users.get_by_email(session=session, email="leaver@company.example")
        assert again is not None
        assert passwords.verify(again.password_hash, password)
