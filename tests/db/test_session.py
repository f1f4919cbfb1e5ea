"""Sessions: a writer's turn on SQLite always goes back, whatever fails."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gtm_feedback.db import session as sessions
from gtm_feedback.db.session import dispose_engines, session_scope


def test_a_writer_that_fails_to_open_its_session_gives_its_turn_back(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = sessions.get_engine(sqlite_url)

    def broken() -> Session:
        raise KeyError(sqlite_url)  # as when another thread disposed the engines just now

    with monkeypatch.context() as patched:
        patched.setattr(sessions, "_bound", lambda url: (engine, broken))
        with pytest.raises(KeyError), session_scope(sqlite_url, write=True):
            pass
    assert sessions._writer_turn(sqlite_url).acquire(timeout=5)  # free at once, not after 30 s
    sessions._writer_turn(sqlite_url).release()


def test_writers_keep_working_while_another_thread_disposes_the_engines(sqlite_url: str) -> None:
    failures: list[BaseException] = []

    def write() -> None:
        for _ in range(40):
            try:
                with session_scope(sqlite_url, write=True) as session:
                    session.execute(text("SELECT 1"))
            except Exception as exc:  # collected, asserted on below
                failures.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(20):
        dispose_engines()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []


def test_a_connection_held_across_a_dispose_is_closed_when_it_comes_back(db_url: str) -> None:
    # As a lease beat or a request does while the app shuts down: left open, the old pool
    # would be garbage-collected with it (a ResourceWarning at some random later moment).
    url = db_url
    held = sessions.get_engine(url).connect()
    held.execute(text("SELECT 1"))
    raw = held.connection.dbapi_connection
    dispose_engines()
    assert raw is not None
    assert not _closed(raw)  # still in use: not pulled from under it
    held.execute(text("SELECT 1"))
    held.close()
    assert _closed(raw)
    with session_scope(url) as session:  # the engine comes back, fresh
        assert session.execute(text("SELECT 1")).scalar() == 1


def _closed(raw: object) -> bool:
    closed = getattr(raw, "closed", None)
    if closed is not None:  # psycopg
        return bool(closed)
    try:  # sqlite3 has no flag: a closed connection refuses work
        raw.execute("SELECT 1")  # type: ignore[attr-defined]
    except Exception:
        return True
    return False
