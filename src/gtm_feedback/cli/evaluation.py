"""Offline evaluation of matching on exported CSVs (``gtm-feedback eval-matching``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gtm_feedback.errors import InvalidInputError
from gtm_feedback.importing.reader import CsvFormatError, RawRow, read_csv
from gtm_feedback.integrations.embeddings import Embedder
from gtm_feedback.matching import learn, second
from gtm_feedback.matching.evaluate import Outcome, Report, evaluate
from gtm_feedback.matching.index import IndexEntry, VectorIndex
from gtm_feedback.matching.matcher import (
    MatchConfig,
    MatchResult,
    RequestText,
    match,
    request_text,
)
from gtm_feedback.matching.tiers import Thresholds

_MAX_ERRORS = 20
Progress = Callable[[int], None]


class EvalInputError(InvalidInputError):
    """The evaluation files cannot be used; ``problems`` lists every reason found."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass
class EvalData:
    """Requests, feedback already linked to them, and feedback whose right request is known."""

    requests: dict[str, RequestText] = field(default_factory=dict)
    linked: list[tuple[str, str]] = field(default_factory=list)  # (request_id, text)
    feedback: list[tuple[str, str | None]] = field(default_factory=list)  # (text, expected)


def load_eval_data(requests: Path, feedback: Path, linked: Path | None = None) -> EvalData:
    """Read and check the three CSVs; raise :class:`EvalInputError` listing every problem."""
    data, problems = EvalData(), list[str]()
    _load_requests(data, problems, requests, linked)
    for row in _rows(feedback, ["text", "expected_request_id"], problems):
        expected = _known_id(feedback, row, "expected_request_id", data, problems, required=False)
        if (expected is not None or not row.cells["expected_request_id"].strip()) and _has_text(
            feedback, row, problems
        ):
            data.feedback.append((row.cells["text"], expected))
    _raise(problems)
    return data


def load_requests(requests: Path, linked: Path | None = None) -> EvalData:
    """Read and check the requests CSV (and linked feedback); raise :class:`EvalInputError`."""
    data, problems = EvalData(), list[str]()
    _load_requests(data, problems, requests, linked)
    _raise(problems)
    return data


def read_pairs(pairs: Path, data: EvalData) -> list[tuple[str, str]]:
    """Known duplicate pairs (``request_id,duplicate_of``) among ``data``'s requests."""
    problems: list[str] = []
    found = []
    for row in _rows(pairs, ["request_id", "duplicate_of"], problems):
        first = _known_id(pairs, row, "request_id", data, problems, required=True)
        second_id = _known_id(pairs, row, "duplicate_of", data, problems, required=True)
        if first is not None and second_id is not None:
            if first == second_id:
                problems.append(f"{pairs.name} line {row.line}: a request is not its own duplicate")
            else:
                found.append((first, second_id))
    _raise(problems)
    return found


def _raise(problems: list[str]) -> None:
    if problems:
        more = len(problems) - _MAX_ERRORS
        raise EvalInputError(problems[:_MAX_ERRORS] + ([f"… and {more} more"] if more > 0 else []))


def _load_requests(
    data: EvalData, problems: list[str], requests: Path, linked: Path | None
) -> None:
    for row in _rows(requests, ["id", "title"], problems):
        request_id = row.cells["id"].strip()
        if not request_id or not row.cells["title"].strip():
            problems.append(f"{requests.name} line {row.line}: id and title must not be empty")
        elif request_id in data.requests:
            problems.append(f"{requests.name} line {row.line}: duplicate request id {request_id!r}")
        else:
            description = row.cells.get("description", "")
            data.requests[request_id] = RequestText(row.cells["title"].strip(), description)
    if linked is not None:
        for row in _rows(linked, ["request_id", "text"], problems):
            owner = _known_id(linked, row, "request_id", data, problems, required=True)
            if owner is not None and _has_text(linked, row, problems):
                data.linked.append((owner, row.cells["text"]))


def _rows(path: Path, required: list[str], problems: list[str]) -> list[RawRow]:
    try:
        header, rows = read_csv(path)
    except (OSError, CsvFormatError) as exc:
        problems.append(f"{path.name}: {exc}")
        return []
    missing = [name for name in required if name not in header]
    if missing:
        problems.append(
            f"{path.name}: missing column(s) {', '.join(missing)} "
            f"(expected {','.join(required)}; found {','.join(header)})"
        )
        return []
    kept = []
    for row in rows:
        if row.fault:
            problems.append(f"{path.name} line {row.line}: {row.fault}")
        else:
            kept.append(row)
    if not kept and not any(p.startswith(f"{path.name} line") for p in problems):
        problems.append(f"{path.name}: the file has a header but no rows")
    return kept


def _known_id(
    path: Path, row: RawRow, column: str, data: EvalData, problems: list[str], *, required: bool
) -> str | None:
    value = row.cells.get(column, "").strip()
    if not value:
        if required:
            problems.append(f"{path.name} line {row.line}: {column} is empty")
        return None
    if value not in data.requests:
        problems.append(f"{path.name} line {row.line}: unknown request id {value!r}")
        return None
    return value


def _has_text(path: Path, row: RawRow, problems: list[str]) -> bool:
    if row.cells.get("text", "").strip():
        return True
    problems.append(f"{path.name} line {row.line}: text is empty")
    return False


def build_index(
    data: EvalData, embedder: Embedder
) -> tuple[VectorIndex, dict[str, RequestText], second.SecondOpinion]:
    """Embed the requests and their linked feedback into an index, with texts for reasons and
    the second-opinion classifier trained on the same items (as the nightly job does)."""
    index, texts = embed_requests(data, embedder)
    return index, texts, second.train(*index.labelled_items())


def embed_requests(
    data: EvalData, embedder: Embedder
) -> tuple[VectorIndex, dict[str, RequestText]]:
    """Embed the requests and their linked feedback into an index, with their texts."""
    ids = list(data.requests)
    vectors = embedder.embed([request_text(t.title, t.description) for t in data.requests.values()])
    linked_vectors = embedder.embed([text for _, text in data.linked])
    by_request: dict[str, list[int]] = {request_id: [] for request_id in ids}
    for row, (request_id, _) in enumerate(data.linked):
        by_request[request_id].append(row)
    texts: dict[str, RequestText] = {}
    entries = []
    for position, request_id in enumerate(ids):
        rows = by_request[request_id]
        feedback_ids = tuple(f"L{row}" for row in rows)
        base = data.requests[request_id]
        feedback = {f"L{row}": data.linked[row][1] for row in rows}
        texts[request_id] = RequestText(base.title, base.description, feedback)
        block = linked_vectors[rows] if rows else np.zeros((0, embedder.dimensions), np.float32)
        entries.append(IndexEntry(request_id, vectors[position], block, feedback_ids))
    return VectorIndex(entries, embedder.dimensions), texts


def match_all(
    data: EvalData,
    embedder: Embedder,
    config: MatchConfig,
    progress: Progress | None = None,
    *,
    opinion: bool = True,
) -> list[MatchResult]:
    """Match every feedback row against the requests (and their linked feedback), with the
    second-opinion classifier trained on them unless ``opinion`` is False."""
    index, texts, classifier = build_index(data, embedder)
    if opinion:
        config = dataclasses.replace(config, second=classifier)
    queries = embedder.embed([text for text, _ in data.feedback])
    results = []
    for row, (text, _) in enumerate(data.feedback):
        results.append(
            match(queries[row], text, index, lambda ids, _closest: _subset(texts, ids), config)
        )
        if progress is not None:
            progress(1)
    return results


def outcome_of(result: MatchResult, expected: str | None) -> Outcome:
    """What one match did, in the terms the report scores."""
    best = result.best
    return Outcome(
        expected=expected,
        ranked=[candidate.request_id for candidate in result.candidates],
        confidence=best.confidence if best else None,
        tier=result.tier,
        exists=result.exists,
    )


def run_eval(
    data: EvalData, embedder: Embedder, config: MatchConfig, progress: Progress | None = None
) -> Report:
    """Match every feedback row and score the outcomes."""
    results = match_all(data, embedder, config, progress)
    return evaluate(
        [
            outcome_of(result, expected)
            for result, (_, expected) in zip(results, data.feedback, strict=True)
        ]
    )


def _subset(texts: dict[str, RequestText], ids: Iterable[str]) -> dict[str, RequestText]:
    return {request_id: texts[request_id] for request_id in ids if request_id in texts}


def learn_config(
    past: EvalData,
    embedder: Embedder,
    config: MatchConfig,
    policy: learn.Policy,
    progress: Progress | None = None,
) -> tuple[MatchConfig, learn.Proposal | None]:
    """Refit from labelled past rows exactly as the online refit does; the config it gives.

    Every row of ``past`` with a candidate is a decision on its best candidate (right when it
    is the expected request), and all of them stand for the recent matches the threshold is
    estimated on.
    """
    decisions = []
    results = match_all(past, embedder, config, progress)
    for result, (_, expected) in zip(results, past.feedback, strict=True):
        best = result.best
        if best is not None:
            right = best.request_id == expected
            decisions.append(
                learn.Decision(best.score, best.margin, best.linked, 0.0, best.opinion, right=right)
            )
    proposal = learn.refit(decisions, decisions, config.calibration, config.thresholds.auto, policy)
    if proposal is None or not proposal.accepted:  # as the server: a kept refit is not used
        return config, proposal
    thresholds = Thresholds(
        max(proposal.auto_threshold, config.thresholds.approval), config.thresholds.approval
    )
    return dataclasses.replace(
        config, calibration=proposal.calibration, thresholds=thresholds
    ), proposal
