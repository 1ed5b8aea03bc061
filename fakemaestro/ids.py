"""Seeded identifiers: the same scenario and seed give the same ids, keys and secrets.

Formats follow production (CONTRACT.md §6): lowercase UUID v4 without prefixes,
API keys `fm_live_` + 32 base62 characters, webhook secrets `whsec_` + 64 hex.
"""
from __future__ import annotations

import hashlib
import random
import uuid
from functools import lru_cache
from typing import Callable

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class IdFactory:
    def __init__(self, seed: int | str) -> None:
        self._rng = random.Random(f"fakemaestro-ids:{seed}")
        self._taken: Callable[[str], bool] | None = None

    def avoid(self, taken: Callable[[str], bool]) -> None:
        """Never hand out an id for which `taken(id)` is true (the store's ids): such a
        draw is skipped and the next one taken, so the sequence stays deterministic. Ids
        a scenario gives explicitly (an export, say) can be the very ones the seed
        produces; made afterwards, a record must still get an id of its own."""
        self._taken = taken

    def uuid(self) -> str:
        while True:
            made = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            if self._taken is None or not self._taken(made):
                return made

    def api_key(self) -> str:
        # As production: 32 random bytes read as a big integer, base62, left-padded
        # to 43 characters, first 32 kept (CONTRACT.md §2.3).
        return "fm_live_" + base62(self._rng.getrandbits(256)).rjust(43, "0")[:32]

    def webhook_secret(self) -> str:
        return "whsec_" + self._rng.getrandbits(256).to_bytes(32, "big").hex()

    def randbits(self, n: int) -> int:
        return self._rng.getrandbits(n)


def base62(number: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits)) or "0"


@lru_cache(maxsize=256)  # every request hashes the key it presents; CI uses a handful of keys
def key_hash(raw_key: str) -> str:
    """Production stores and looks keys up by lowercase hex SHA-256 of the full key."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()
