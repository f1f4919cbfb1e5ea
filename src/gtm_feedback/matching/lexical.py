"""Character n-gram TF-IDF similarity, used to re-rank the semantic shortlist.

Product names, error codes and jargon ("SCIM", "SAML", "p95") are where small sentence models
are weakest and exact wording is strongest. IDF is taken over the shortlist itself, so the
n-grams that tell the candidates apart weigh most.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

_SPACES = re.compile(r"\s+")
GRAM_SIZES = (3, 4, 5)


def char_grams(text: str) -> Counter[str]:
    """Counts of the 3-, 4- and 5-character grams of the lower-cased, space-padded text."""
    padded = f" {_SPACES.sub(' ', text.lower()).strip()} "
    return Counter(
        padded[i : i + size] for size in GRAM_SIZES for i in range(len(padded) - size + 1)
    )


def shortlist_similarities(query: str, documents: Sequence[str]) -> list[float]:
    """Cosine of the query's TF-IDF vector with each document's, in 0..1."""
    doc_grams = [char_grams(document) for document in documents]
    frequency: Counter[str] = Counter()
    for grams in doc_grams:
        frequency.update(grams.keys())
    n = len(documents)

    def weigh(grams: Counter[str]) -> dict[str, float]:
        return {
            gram: (1 + math.log(count)) * math.log((1 + n) / (1 + frequency[gram]) + 1)
            for gram, count in grams.items()
        }

    query_weights = weigh(char_grams(query))
    query_norm = math.sqrt(sum(v * v for v in query_weights.values()))
    out: list[float] = []
    for grams in doc_grams:
        weights = weigh(grams)
        norm = math.sqrt(sum(v * v for v in weights.values()))
        dot = sum(v * weights.get(gram, 0.0) for gram, v in query_weights.items())
        out.append(dot / (query_norm * norm) if query_norm and norm else 0.0)
    return out
