"""The raw HTTP exchange, kept on every result and error so users can see what really came back."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec


class RawResponse(msgspec.Struct, frozen=True, gc=False):
    """Status, headers and body exactly as received (the body is never decoded or trimmed).

    A frozen msgspec Struct: one is made for every answer, at a fraction of a frozen
    dataclass's cost (this module loads with the first request, not with the SDK)."""

    status: int
    headers: Mapping[str, str] = msgspec.field(default_factory=dict)
    body: bytes = b""

    def text(self) -> str:
        """The body as text, lossless for UTF-8 and readable (with replacement marks) otherwise."""
        return self.body.decode("utf-8", errors="replace")

    def __repr__(self) -> str:
        # Bodies can be large; a repr that floods a log line helps nobody.
        preview = self.body[:200]
        more = "..." if len(self.body) > 200 else ""
        return f"RawResponse(status={self.status}, body={preview!r}{more})"
