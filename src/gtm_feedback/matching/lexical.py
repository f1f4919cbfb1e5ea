"""Character n-gram TF-IDF similarity, used to re-rank the semantic shortlist.

Product names, error codes and jargon ("SCIM", "SAML", "p95") are where small sentence models
are weakest and exact wording is strongest. IDF is taken over the shortlist itself, so the
n-grams that tell the candidates apart weigh most.

A request's grams are counted once and kept (:class:`GramCache`, keyed by the document's text,
so an edit or new feedback is a new key): a match then only counts the query's grams and does
the arithmetic in NumPy. Grams are counted in NumPy too, keyed by a 64-bit hash (two grams
sharing a hash would count as one: about one chance in 10^10 for a 10,000-gram shortlist).
"""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_SPACES = re.compile(r"\s+")
GRAM_SIZES = (3, 4, 5)

Keys = npt.NDArray[np.uint64]
Values = npt.NDArray[np.float64]


def char_grams(text: str) -> Counter[str]:
    """Counts of the 3-, 4- and 5-character grams of the lower-cased, space-padded text."""
    padded = f" {_SPACES.sub(' ', text.lower()).strip()} "
    return Counter(
        padded[i : i + size] for size in GRAM_SIZES for i in range(len(padded) - size + 1)
    )


@dataclass(frozen=True)
class Grams:
    """One text's distinct grams as sorted integer keys, with their log term frequencies."""

    keys: Keys
    tf: Values

    @classmethod
    def of(cls, text: str) -> Grams:
        """Count the grams of ``text`` (as ``char_grams``), each keyed by a 64-bit polynomial
        hash of its characters and length, all in NumPy."""
        padded = f" {_SPACES.sub(' ', text.lower()).strip()} "
        codes = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        hashes = [_hashes(codes, size) for size in GRAM_SIZES if len(codes) >= size]
        if not hashes:
            return cls(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.float64))
        keys, counts = np.unique(np.concatenate(hashes), return_counts=True)
        return cls(keys, 1 + np.log(counts.astype(np.float64)))


#: An odd 64-bit multiplier (FNV's prime); arithmetic wraps modulo 2**64.
_PRIME = np.uint64(1099511628211)


def _hashes(codes: npt.NDArray[np.uint64], size: int) -> Keys:
    """The hash of every ``size``-character window of ``codes``, seeded by ``size``."""
    count = len(codes) - size + 1
    out: Keys = np.full(count, size, dtype=np.uint64)
    for offset in range(size):
        out = out * _PRIME + codes[offset : offset + count]
    return out


class GramCache:
    """The grams of recently seen documents, least recently used dropped first."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._grams: OrderedDict[tuple[int, int], Grams] = OrderedDict()

    def __len__(self) -> int:
        return len(self._grams)

    def get(self, text: str) -> Grams:
        """The grams of ``text``, counted once while it stays in the cache."""
        key = (len(text), hash(text))
        with self._lock:
            found = self._grams.get(key)
            if found is not None:
                self._grams.move_to_end(key)
                return found
        grams = Grams.of(text)
        with self._lock:
            self._grams[key] = grams
            while len(self._grams) > self._size:
                self._grams.popitem(last=False)
        return grams


DOCUMENTS = GramCache()


def shortlist_similarities(
    query: str, documents: Sequence[str], cache: GramCache = DOCUMENTS
) -> list[float]:
    """Cosine of the query's TF-IDF vector with each document's, in 0..1."""
    if not documents:
        return []
    grams = [cache.get(document) for document in documents]
    n = len(documents)
    keys = np.concatenate([g.keys for g in grams])
    owner = np.repeat(np.arange(n), [len(g.keys) for g in grams])
    vocabulary, inverse, df = np.unique(keys, return_inverse=True, return_counts=True)
    weights = np.concatenate([g.tf for g in grams]) * _idf(df[inverse], n)
    norms = np.sqrt(np.bincount(owner, weights=weights * weights, minlength=n))
    asked = Grams.of(query)
    at = np.searchsorted(vocabulary, asked.keys).clip(max=max(len(vocabulary) - 1, 0))
    seen = np.where(vocabulary[at] == asked.keys, df[at], 0) if len(vocabulary) else 0
    query_weights = asked.tf * _idf(seen, n)
    query_norm = float(np.linalg.norm(query_weights))
    # Each document gram shared with the query adds its weight times the query's.
    where = np.searchsorted(asked.keys, keys).clip(max=max(len(asked.keys) - 1, 0))
    shared = asked.keys[where] == keys if len(asked.keys) else np.zeros(len(keys), dtype=bool)
    dots = np.bincount(
        owner[shared], weights=weights[shared] * query_weights[where[shared]], minlength=n
    )
    scale = norms * query_norm
    return [float(d / s) if s else 0.0 for d, s in zip(dots, scale, strict=True)]


def _idf(df: npt.NDArray[np.int64] | int, n: int) -> Values:
    idf: Values = np.log((1 + n) / (1 + np.asarray(df, dtype=np.float64)) + 1)
    return idf
