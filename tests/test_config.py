"""Settings: defaults, database URLs, durations, executor ids."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from gtm_feedback import __version__
from gtm_feedback.config import Settings, get_settings, normalise_database_url, parse_duration


def test_defaults_are_embedded(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.data_dir == Path(".gtmfb")
    assert settings.app_database_url == f"sqlite:///{tmp_path / '.gtmfb' / 'gtm_feedback.sqlite'}"
    assert settings.dbos_database_url == f"sqlite:///{tmp_path / '.gtmfb' / 'dbos_system.sqlite'}"
    assert settings.app_version == __version__
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.followup_delay == 3600


def test_postgres_app_database_hosts_dbos_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GTMFB_DATABASE_URL", "postgres://app@db:5432/gtm")
    settings = get_settings()
    assert settings.app_database_url == "postgresql+psycopg://app@db:5432/gtm"
    assert settings.dbos_database_url == settings.app_database_url


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("GTMFB_PORT=9100\nGTMFB_FOLLOWUP_DELAY=30m\n")
    settings = Settings()
    assert (settings.port, settings.followup_delay) == (9100, 1800)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), (5, 5), ("5s", 5), ("30m", 1800), ("1h", 3600), ("2d", 172800)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "-1h", "1w", ""])
def test_bad_duration_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("GTMFB_APPROVAL_TIMEOUT", bad)
    with pytest.raises(ValidationError, match="not a duration"):
        Settings()


def test_executor_ids_are_per_process_but_stable_for_the_server() -> None:
    settings = Settings(port=8123)
    server = settings.resolved_executor_id("server")
    assert server.endswith("-8123")
    assert server == Settings(port=8123).resolved_executor_id("server")
    assert settings.resolved_executor_id("cli").endswith(f"-cli-{os.getpid()}")
    assert Settings(executor_id="pinned").resolved_executor_id("cli") == "pinned"


def test_sqlite_urls_are_left_alone() -> None:
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_every_setting_is_documented_in_env_example() -> None:
    example = (Path(__file__).parents[1] / ".env.example").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"GTMFB_{name.upper()}=" not in example]
    assert missing == []


@pytest.mark.parametrize(
    "value", ["", "changeme", "CHANGE-ME-please", "xxxx", "<secret>", "your-key"]
)
def test_placeholder_secrets_are_refused_outside_the_embedded_default(value: str) -> None:
    with pytest.raises(ValueError, match="GTMFB_SESSION_SECRET is empty or a placeholder"):
        Settings(database_url="postgresql://db.example/gtm", session_secret=value)
    with pytest.raises(ValueError, match="GTMFB_OIDC_CLIENT_SECRET is empty or a placeholder"):
        Settings(database_url="postgresql://db.example/gtm", oidc_client_secret=value)


def test_an_empty_secret_on_the_embedded_default_means_unset(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, slack_signing_secret="", session_secret="")
    assert settings.slack_signing_secret is None
    assert settings.session_secret is None


def test_the_session_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "data").resolved_session_secret()
    again = Settings(data_dir=tmp_path / "data").resolved_session_secret()
    assert first == again
    assert len(first) >= 48
    assert (tmp_path / "data" / "session_secret").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["session_secret"]
    given = Settings(data_dir=tmp_path / "other", session_secret="s" * 40)
    assert given.resolved_session_secret() == "s" * 40
    assert not (tmp_path / "other").exists()
