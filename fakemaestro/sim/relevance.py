"""Relevance scores in [0, 1] standing in for production's embedding similarity.

Production embeds text with a provider model and ranks by cosine similarity
(`1 - (embedding <=> query)`). The fake needs no model and stays deterministic:

* `rank` scores a collection against a query with BM25 (the `bm25s` library):
  term rarity across the collection counts, so a chunk matching the query's rare
  words beats one matching its common words. Knowledge-base queries use it (§5.6):
  they only order and cut, no threshold applies.
* `similarity` is the cosine of two texts' term-count vectors: a property of the
  pair alone, as an embedding cosine is, so a fixed threshold keeps one meaning
  whatever else is stored. Memory search filters by such a threshold (§5.3).

Both give 1 for text identical to the query (in its words) and 0 for text sharing
none of them.
"""
from __future__ import annotations

import logging
import math
import re
from collections import Counter
from typing import Sequence

_WORD = re.compile(r"\w+")


def terms(text: str) -> list[str]:
    """Lowercase words (letters, digits, underscore; any script)."""
    return _WORD.findall(text.lower())


def similarity(a: str, b: str) -> float:
    """Cosine of the term-count vectors of `a` and `b`."""
    left, right = Counter(terms(a)), Counter(terms(b))
    dot = sum(count * right[t] for t, count in left.items())
    if not dot:
        return 0.0
    # one square root of the integer product: identical texts give exactly 1
    return min(1.0, dot / math.sqrt(sum(c * c for c in left.values()) * sum(c * c for c in right.values())))


def rank(query: str, texts: Sequence[str]) -> list[float]:
    """BM25 score of each text for `query`, divided by the score the query earns as
    a text of the same collection (so identical text scores 1) and clipped to [0, 1]."""
    words = terms(query)
    if not words or not texts:
        return [0.0] * len(texts)
    retriever = _bm25()
    # The query joins the collection as its last text: its own score is the scale,
    # computed by the same arithmetic as every other text's.
    retriever.index([terms(t) for t in texts] + [words], show_progress=False)
    scores = retriever.get_scores(words)
    scale = float(scores[-1])
    return [min(1.0, max(0.0, float(s) / scale)) for s in scores[:-1]]


def _bm25():
    # Imported on first use: numpy and bm25s cost a quarter second and some memory,
    # which a server that is never asked to rank need not pay.
    import bm25s
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each indexing at DEBUG
    return bm25s.BM25(dtype="float64")  # Lucene's BM25 (k1 1.5, b 0.75), double precision
