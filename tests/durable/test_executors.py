"""Leases: who may hold an executor id, renewal, and exactly one taker of a dead one."""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import update

from gtm_feedback.db.session import session_scope
from gtm_feedback.durable import executors
from gtm_feedback.durable.executors import Executor, ExecutorInUseError, Identity
from gtm_feedback.durable.takeover import LeaseKeeper

LEASE = 30.0


def _me(executor_id: str = "host-worker-1", **changes: object) -> Identity:
    return replace(Identity(executor_id, "worker", "1.0"), **changes)  # type: ignore[arg-type]


def _age(url: str, executor_id: str, seconds: float) -> None:
    with session_scope(url, write=True) as session:
        session.execute(
            update(Executor)
            .where(Executor.executor_id == executor_id)
            .values(heartbeat_at=Executor.heartbeat_at - seconds)
        )


def test_a_live_holder_keeps_its_id_and_a_dead_one_gives_it_up(db_url: str) -> None:
    with subprocess.Popen(["sleep", "60"]) as alive:
        holder = _me(pid=alive.pid)
        executors.claim(db_url, holder, LEASE)
        with pytest.raises(ExecutorInUseError, match="held by a live process"):
            executors.claim(db_url, _me(), LEASE)  # same host, its process still runs
        alive.kill()
    restarted = _me()
    executors.claim(db_url, restarted, LEASE)  # the holder crashed: restarted at once, same id
    assert [row.instance for row in executors.live(db_url, LEASE)] == [restarted.instance]
    elsewhere = _me("other-worker-1", host="another-host", pid=1)
    executors.claim(db_url, elsewhere, LEASE)
    with pytest.raises(ExecutorInUseError):  # another host: only an expired lease frees it
        executors.claim(db_url, _me("other-worker-1"), LEASE)
    _age(db_url, "other-worker-1", LEASE + 1)
    assert executors.expired(db_url, LEASE) == ["other-worker-1"]
    executors.claim(db_url, _me("other-worker-1"), LEASE)
    assert executors.expired(db_url, LEASE) == []


def test_the_lease_is_renewed_and_won_back_after_a_takeover(db_url: str) -> None:
    me = _me()
    executors.claim(db_url, me, LEASE)
    assert executors.beat(db_url, me, LEASE) is True
    _age(db_url, me.executor_id, LEASE + 1)
    with session_scope(db_url, write=True) as session:
        assert executors.forget(session, me.executor_id, LEASE) is True
    assert executors.beat(db_url, me, LEASE) is False  # it noticed, and holds the id again
    assert [row.executor_id for row in executors.live(db_url, LEASE)] == [me.executor_id]
    executors.release(db_url, me)  # a clean stop: expired at once, for a live worker to take
    assert executors.expired(db_url, LEASE) == [me.executor_id]


def test_a_renewed_lease_is_not_taken_over(db_url: str) -> None:
    me = _me()
    executors.claim(db_url, me, LEASE)
    with session_scope(db_url, write=True) as session:
        assert executors.forget(session, me.executor_id, LEASE) is False
    assert executors.expired(db_url, LEASE) == []


@pytest.mark.postgres
def test_of_many_live_workers_exactly_one_takes_a_dead_one_over(postgres_url: str) -> None:
    dead = _me("dead-worker", host="gone-host")
    executors.claim(postgres_url, dead, LEASE)
    _age(postgres_url, dead.executor_id, LEASE + 1)
    handed: list[tuple[str, str]] = []
    start = threading.Barrier(6)

    def keeper(n: int) -> None:
        def hand_over(executor_id: str) -> int:
            handed.append((f"worker-{n}", executor_id))
            time.sleep(0.2)  # the others reach the row lock meanwhile
            return 3

        me = _me(f"worker-{n}")
        watcher = LeaseKeeper(postgres_url, me, LEASE, hand_over)
        watcher.claim()
        start.wait()
        watcher.take_over_expired()

    threads = [threading.Thread(target=keeper, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [executor for _, executor in handed] == ["dead-worker"]
    assert executors.expired(postgres_url, LEASE) == []


def test_a_keeper_judges_others_only_after_a_lease_of_its_own_good_health(sqlite_url: str) -> None:
    dead = _me("dead-worker", host="gone-host")
    executors.claim(sqlite_url, dead, 1.0)
    _age(sqlite_url, dead.executor_id, 5)
    handed: list[str] = []

    def hand_over(executor_id: str) -> int:
        handed.append(executor_id)
        return 0

    watcher = LeaseKeeper(sqlite_url, _me(), 1.0, hand_over)
    watcher.claim()
    watcher.tick()
    assert handed == []  # just (re)connected: the others get a lease to renew first
    deadline = time.monotonic() + 30
    while not handed and time.monotonic() < deadline:
        time.sleep(0.2)
        watcher.tick()
    assert handed == ["dead-worker"]
    assert watcher.taken_over == [("dead-worker", 0)]
