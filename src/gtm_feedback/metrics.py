"""Metrics each process records for Prometheus: HTTP latency, agent and LLM calls, matching.

Every process of a host writes its values to files in one folder (prometheus-client's
multiprocess mode), so the web process's ``/metrics`` also reports what the workers beside it
did. The folder is chosen once per process, before the first value is recorded: the operator's
``PROMETHEUS_MULTIPROC_DIR`` if set, else ``GTMFB_METRICS_DIR`` (``DATA_DIR/metrics``).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, values

ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Seconds: from a cached page (milliseconds) to a slow import upload.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONFIDENCE_BUCKETS = tuple(round(0.1 * step, 1) for step in range(1, 11))

_lock = threading.Lock()
#: The folder this process shares its metrics through; None: kept in this process's memory.
_shared: list[Path] = []


def configure(directory: Path) -> Path | None:
    """Share this process's metrics through ``directory`` (the operator's folder wins); the
    folder in use. Only before the first value: after it, they stay in memory."""
    with _lock:
        if not _shared and _metrics.cache_info().currsize == 0:
            chosen = Path(os.environ.setdefault(ENV, str(directory)))
            chosen.mkdir(parents=True, exist_ok=True)
            # prometheus-client picks file-backed values when it is imported, from the
            # environment; the folder is only known from the settings, later.
            values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
            _shared.append(chosen)
        return _shared[0] if _shared else None


def registry() -> CollectorRegistry:
    """A registry of this host's processes' values (or this process's, kept in memory)."""
    found = CollectorRegistry()
    if _shared:
        multiprocess.MultiProcessCollector(found, path=str(_shared[0]))  # type: ignore[no-untyped-call]
    else:
        for metric in vars(_metrics()).values():
            found.register(metric)
    return found


@dataclass(frozen=True)
class _Metrics:
    http: Histogram
    agent_runs: Counter
    llm_requests: Counter
    llm_tokens: Counter
    matches: Counter
    confidence: Histogram


@cache
def _metrics() -> _Metrics:
    # Built at the first value, after configure(): metrics built before it would stay in
    # this process's memory, unseen by the other processes' /metrics.
    none = CollectorRegistry()  # the multiprocess collector reads them back from the files
    return _Metrics(
        http=Histogram(
            "gtmfb_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status class.",
            ("method", "route", "status"),
            buckets=LATENCY_BUCKETS,
            registry=none,
        ),
        agent_runs=Counter(
            "gtmfb_agent_runs",
            "Agent runs by agent and the engine that answered (llm, offline, fallback).",
            ("agent", "engine"),
            registry=none,
        ),
        llm_requests=Counter(
            "gtmfb_llm_requests",
            "Requests to the LLM endpoint by model and outcome (ok, error).",
            ("model", "outcome"),
            registry=none,
        ),
        llm_tokens=Counter(
            "gtmfb_llm_tokens",
            "Tokens the LLM endpoint counted, by model and kind (prompt, completion).",
            ("model", "kind"),
            registry=none,
        ),
        matches=Counter(
            "gtmfb_match_decisions",
            "Matching decisions by tier (automatic, review, new).",
            ("tier",),
            registry=none,
        ),
        confidence=Histogram(
            "gtmfb_match_confidence",
            "The calibrated confidence of the best candidate of each matching decision.",
            buckets=CONFIDENCE_BUCKETS,
            registry=none,
        ),
    )


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """One answered HTTP request (``route``: the template, never the raw path)."""
    _metrics().http.labels(method, route, f"{status // 100}xx").observe(seconds)


def count_agent_run(agent: str, engine: str) -> None:
    """One agent run, answered by ``engine`` (llm, offline, or fallback after a failure)."""
    _metrics().agent_runs.labels(agent, engine).inc()


def count_llm_request(model: str, ok: bool, prompt_tokens: int, completion_tokens: int) -> None:
    """One request to the LLM endpoint and the tokens it reported."""
    found = _metrics()
    found.llm_requests.labels(model, "ok" if ok else "error").inc()
    found.llm_tokens.labels(model, "prompt").inc(prompt_tokens)
    found.llm_tokens.labels(model, "completion").inc(completion_tokens)


def count_match(tier: str, confidence: float) -> None:
    """One matching decision and the confidence it rested on."""
    found = _metrics()
    found.matches.labels(tier).inc()
    found.confidence.observe(confidence)
