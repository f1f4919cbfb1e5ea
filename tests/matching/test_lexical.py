"""The cached, vectorised wording similarity gives the textbook TF-IDF cosine."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from gtm_feedback.matching.lexical import GramCache, char_grams, shortlist_similarities

WORDS = [
    "saml",
    "sso",
    "okta",
    "scim",
    "export",
    "csv",
    "weekly",
    "email",
    "p95",
    "latency",
    "azure",
    "ad",
    "seats",
    "audit",
    "log",
]


def textbook(query: str, documents: list[str]) -> list[float]:
    """The definition, term by term in Python (the implementation before the cache)."""
    doc_grams = [char_grams(d) for d in documents]
    frequency: Counter[str] = Counter()
    for grams in doc_grams:
        frequency.update(grams.keys())
    n = len(documents)

    def weigh(grams: Counter[str]) -> dict[str, float]:
        return {
            g: (1 + math.log(c)) * math.log((1 + n) / (1 + frequency[g]) + 1)
            for g, c in grams.items()
        }

    q = weigh(char_grams(query))
    q_norm = math.sqrt(sum(v * v for v in q.values()))
    out = []
    for grams in doc_grams:
        w = weigh(grams)
        norm = math.sqrt(sum(v * v for v in w.values()))
        dot = sum(v * w.get(g, 0.0) for g, v in q.items())
        out.append(dot / (q_norm * norm) if q_norm and norm else 0.0)
    return out


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 30)))


@pytest.mark.parametrize("seed", range(20))
def test_same_scores_as_the_definition(seed: int) -> None:
    rng = random.Random(seed)
    documents = [sentence(rng) for _ in range(rng.randint(1, 20))]
    query = sentence(rng)
    cache = GramCache(size=8)  # smaller than the shortlist: evictions on the way
    for _ in range(2):  # counted, then (partly) from the cache
        got = shortlist_similarities(query, documents, cache)
        assert got == pytest.approx(textbook(query, documents), abs=1e-12)


def test_edge_cases() -> None:
    assert shortlist_similarities("anything", []) == []
    assert shortlist_similarities("", ["", "x"]) == pytest.approx(textbook("", ["", "x"]))
    assert shortlist_similarities("SAML SSO", ["saml  sso"]) == pytest.approx([1.0])


def test_cache_keeps_at_most_its_size_newest_first() -> None:
    cache = GramCache(size=3)
    kept = [cache.get(f"document {n}") for n in range(10)]
    assert len(cache) == 3
    assert cache.get("document 9") is kept[9]  # still there: not counted again
    assert cache.get("document 0") is not kept[0]  # dropped long ago: counted again
