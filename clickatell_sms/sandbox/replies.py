"""The sandbox's handsets answering: a share of the messages sent from a two-way number get a
reply, posted to the callback URL as Clickatell posts an MO ("reply") callback.

Only a message that reached its handset can be answered, and only one sent from one of the
sandbox's two-way numbers (replies go to a two-way number). Which messages are answered is
drawn from the seed and the message's ID, as the sandbox's other draws are, so a test can tell
which numbers replied from the sandbox's record alone (`Replies.drawn`). The reply comes
`delay` seconds after the handset received the message, from the recipient (`fromNumber`) to
the number that sent it (`toNumber`), naming the message it answers (`messageId`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from ..statuses import KNOWN_STATUSES
from .store import RecordedMessage
from .timeline import StatusEvent, unit_draw

__all__ = ["NO_REPLIES", "Replies"]

_RECEIVED: Final = KNOWN_STATUSES[4]


@dataclass(frozen=True, slots=True)
class Replies:
    """A `rate` share (0 to 1) of the messages sent from a two-way number get `text` back."""

    rate: float = 0.0
    text: str = "STOP"
    seed: int = 0
    delay: float = 0.05

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"a reply rate is between 0 and 1, not {self.rate}")
        if self.rate and not self.text:
            raise ValueError("a reply needs some text (--reply-text)")
        if self.delay < 0:
            raise ValueError("a reply's delay must not be negative")

    def drawn(self, api_message_id: str) -> bool:
        """Whether this message's handset replies (if it receives the message)."""
        return self.rate > 0.0 and unit_draw(self.seed, api_message_id, "reply") < self.rate

    def reply_at(
        self, record: RecordedMessage, events: list[StatusEvent], two_way: frozenset[str]
    ) -> float | None:
        """When the handset replies to this message (seconds since the epoch), or None."""
        sender = record.from_
        if not self.rate or sender is None or sender.removeprefix("+") not in two_way:
            return None
        final = events[-1]
        if final.status.code != _RECEIVED.code or not self.drawn(record.api_message_id):
            return None
        return final.at + self.delay

    def reply_id(self, api_message_id: str) -> str:
        """The reply's own ID: the same on every run with the same seed."""
        key = f"{self.seed}:reply-id:{api_message_id}".encode()
        return hashlib.blake2b(key, digest_size=16).hexdigest()


NO_REPLIES: Final = Replies()
