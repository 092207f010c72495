"""How rows become requests: rows with the same text fill a group, and a group sent is a batch."""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from .journal import Member

__all__ = ["Batch", "Group", "dedupe_key"]


class Group:
    """Rows with the same message text, filling up towards one request."""

    __slots__ = ("_keyed", "content", "digest", "rows", "seen")

    def __init__(self, content: str) -> None:
        self.content = content
        self.digest = hashlib.blake2b(content.encode(), digest_size=8).digest()
        self.rows: list[Member] = []
        self.seen: dict[str, int] = {}  # number -> row of its first occurrence in this group
        # Keyed once: copying a keyed hash costs half of keying a new one, for every row.
        self._keyed = hashlib.blake2b(digest_size=8, key=self.digest)

    def key(self, number: str) -> int:
        """`dedupe_key(number, self.digest)`, for a row of this group."""
        hashed = self._keyed.copy()
        hashed.update(number.encode())
        return int.from_bytes(hashed.digest(), "big", signed=True)


class Batch(NamedTuple):
    """One request: its rows, journalled as `pending` before the request exists."""

    id: int
    client_message_id: str
    content: str
    rows: list[Member]


def dedupe_key(number: str, digest: bytes) -> int:
    """A 64-bit key for (number, message): what the journal indexes to recognise repeats.

    A collision (odds about 1 in 10^7 for a million rows) would report a row as a repeat and
    not send it: the safe direction.
    """
    value = hashlib.blake2b(number.encode(), digest_size=8, key=digest).digest()
    return int.from_bytes(value, "big", signed=True)
