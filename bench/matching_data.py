"""Banking77 as matching data: requests, linked feedback and queries for each protocol."""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gtm_feedback.cli.evaluation import EvalData
from gtm_feedback.integrations.embeddings import Embedder, FloatMatrix
from gtm_feedback.matching.lexical import char_grams
from gtm_feedback.matching.matcher import RequestText, request_text


@dataclass(frozen=True)
class Banking77:
    """Train and test utterances with their intent labels."""

    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]

    @classmethod
    def load(cls, folder: Path) -> Banking77:
        """Read ``train.csv`` and ``test.csv`` (``text,category``)."""

        def read(name: str) -> tuple[list[str], list[str]]:
            with (folder / name).open(encoding="utf-8", newline="") as handle:
                rows = list(csv.DictReader(handle))
            return [r["text"] for r in rows], [r["category"] for r in rows]

        train, test = read("train.csv"), read("test.csv")
        return cls(train[0], train[1], test[0], test[1])

    @property
    def labels(self) -> list[str]:
        """The 77 intents, sorted."""
        return sorted(set(self.train_labels))

    def all_texts(self) -> list[str]:
        """Every utterance and intent name, to embed once."""
        return [*self.train_texts, *self.test_texts, *(label_title(x) for x in self.labels)]


def label_title(label: str) -> str:
    """An intent name as a request title: ``card_arrival`` -> ``card arrival``."""
    return label.replace("_", " ")


class CachedEmbedder:
    """Looks texts up in vectors computed once; embeds (and keeps) anything new."""

    def __init__(self, inner: Embedder, cache: dict[str, FloatMatrix]) -> None:
        self._inner, self._cache = inner, cache

    @classmethod
    def warm(cls, inner: Embedder, texts: Sequence[str]) -> CachedEmbedder:
        """Embed ``texts`` in one bulk call and keep them."""
        unique = list(dict.fromkeys(texts))
        return cls(inner, dict(zip(unique, inner.embed(unique), strict=True)))

    @property
    def model_id(self) -> str:
        """The wrapped model's id."""
        return self._inner.model_id

    @property
    def dimensions(self) -> int:
        """The wrapped model's width."""
        return self._inner.dimensions

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Vectors for ``texts`` in order."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self._inner.embed(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])


#: Training utterances per request: "one" is its text, the others are linked as feedback.
EXEMPLARS = {"one": 1, "five": 5, "twenty": 20}


@dataclass(frozen=True)
class Protocol:
    """One seed's requests and queries; ``eval_data`` is what the CLI would read from CSVs."""

    eval_data: EvalData
    known_queries: list[tuple[str, str]]  # (text, expected request id) for rows that have one


def build_protocol(
    data: Banking77, protocol: str, seed: int, *, held_out: float, split: str
) -> Protocol:
    """Requests from train utterances; queries from test (or the rest of train, to fit)."""
    rng = np.random.default_rng(seed)
    labels = data.labels
    by_label: dict[str, list[int]] = {label: [] for label in labels}
    for i, label in enumerate(data.train_labels):
        by_label[label].append(i)
    n_exemplars = EXEMPLARS[protocol]
    chosen = {label: rng.choice(by_label[label], n_exemplars, replace=False) for label in labels}
    absent = set(rng.choice(labels, round(held_out * len(labels)), replace=False))
    eval_data = EvalData()
    for label in labels:
        if label in absent:
            continue
        rows = [data.train_texts[i] for i in chosen[label]]
        if protocol == "one":
            eval_data.requests[label] = RequestText(rows[0])
        else:
            eval_data.requests[label] = RequestText(label_title(label))
            eval_data.linked.extend((label, text) for text in rows)
    texts, answers = _queries(data, chosen, split, rng)
    for text, label in zip(texts, answers, strict=True):
        eval_data.feedback.append((text, None if label in absent else label))
    known = [(t, e) for t, e in eval_data.feedback if e is not None]
    return Protocol(eval_data, known)


def _queries(
    data: Banking77, chosen: dict[str, np.ndarray], split: str, rng: np.random.Generator
) -> tuple[list[str], list[str]]:
    if split == "test":
        return data.test_texts, data.test_labels
    used = {int(i) for rows in chosen.values() for i in rows}
    rest = [i for i in range(len(data.train_texts)) if i not in used]
    picked = rng.choice(rest, 3000, replace=False)
    return [data.train_texts[i] for i in picked], [data.train_labels[i] for i in picked]


def text_cosine_top1(protocol: Protocol, embedder: Embedder) -> float:
    """Baseline: cosine to the request's own text only (what the reference system does)."""
    ids = list(protocol.eval_data.requests)
    texts = protocol.eval_data.requests.values()
    matrix = embedder.embed([request_text(t.title, t.description) for t in texts])
    return _top1(matrix, ids, protocol, embedder)


def centroid_top1(protocol: Protocol, embedder: Embedder) -> float:
    """Reference figure's method: cosine to the renormalised mean of the linked vectors."""
    ids = list(protocol.eval_data.requests)
    sums = {i: np.zeros(embedder.dimensions, np.float32) for i in ids}
    for request_id, text in protocol.eval_data.linked:
        sums[request_id] += embedder.embed([text])[0]
    matrix = np.stack([sums[i] / np.linalg.norm(sums[i]) for i in ids])
    return _top1(matrix, ids, protocol, embedder)


def _top1(matrix: FloatMatrix, ids: list[str], protocol: Protocol, embedder: Embedder) -> float:
    queries = embedder.embed([text for text, _ in protocol.known_queries])
    best = (queries @ matrix.T).argmax(axis=1)
    return float(
        np.mean([ids[b] == e for b, (_, e) in zip(best, protocol.known_queries, strict=True)])
    )


def tfidf_top1(protocol: Protocol) -> float:
    """Baseline: character 3–5-gram TF-IDF over each request's title and linked feedback."""
    linked: dict[str, list[str]] = {i: [] for i in protocol.eval_data.requests}
    for request_id, text in protocol.eval_data.linked:
        linked[request_id].append(text)
    ids = list(protocol.eval_data.requests)
    docs = [" ".join([protocol.eval_data.requests[i].title, *linked[i]]) for i in ids]
    grams = [char_grams(doc) for doc in docs]
    frequency: Counter[str] = Counter()
    for g in grams:
        frequency.update(g.keys())
    vocab = {gram: n for n, gram in enumerate(frequency)}
    idf = np.array([math.log((1 + len(docs)) / (1 + frequency[g])) + 1 for g in vocab])
    matrix = np.stack([_tfidf(g, vocab, idf) for g in grams])
    hits = 0
    for text, expected in protocol.known_queries:
        hits += ids[int((matrix @ _tfidf(char_grams(text), vocab, idf)).argmax())] == expected
    return hits / len(protocol.known_queries)


def _tfidf(grams: Counter[str], vocab: dict[str, int], idf: np.ndarray) -> np.ndarray:
    row = np.zeros(len(vocab), np.float32)
    for gram, count in grams.items():
        j = vocab.get(gram)
        if j is not None:
            row[j] = (1 + math.log(count)) * idf[j]
    norm = np.linalg.norm(row)
    return row / norm if norm else row
