"""Relevance scores in [0, 1] standing in for embedding cosine similarity.

Production embeds text with a provider model and ranks by cosine similarity; the
fake ranks by the cosine of term-count vectors, which is deterministic, needs no
model, and keeps production's properties (identical text scores 1, unrelated 0).
"""
from __future__ import annotations

import math
import re
from collections import Counter

_WORD = re.compile(r"[0-9a-z]+")


def terms(text: str) -> Counter:
    return Counter(_WORD.findall(text.lower()))


def cosine(query: str, text: str) -> float:
    a, b = terms(query), terms(text)
    dot = sum(count * b[t] for t, count in a.items())
    if not dot:
        return 0.0
    return dot / (math.sqrt(sum(c * c for c in a.values())) * math.sqrt(sum(c * c for c in b.values())))
