"""The vocabulary of message states: one table shared by callbacks, status queries, the campaign
report and the sandbox.

Clickatell reports a message's progress as a numeric code (1-14) and, on the Platform, an
UPPER_SNAKE name. The table is the spec's `x-message-statuses` (`clickatell_wire.tables`). Only
two of those names are confirmed, and the API may grow new states, so this module never rejects
what it does not know: an unknown code or name comes through unchanged and is simply classified
as "not final".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from clickatell_wire.tables import MESSAGE_STATUSES, StatusKind

__all__ = ["KNOWN_STATUSES", "STATUS_BY_NAME", "MessageStatus", "StatusKind", "status_from"]


@dataclass(frozen=True, slots=True)
class MessageStatus:
    """One state of a sent message, as reported by Clickatell.

    `code` is the numeric status (None when only a name was reported and it is not in our
    table); `name` is the Platform's name for it ("" when none was given and the code is
    unknown). Classification goes by `code` alone, because the numeric table is the documented
    vocabulary while most names are our own guesses.
    """

    code: int | None
    name: str
    description: str

    @property
    def kind(self) -> StatusKind:
        """What the code means: unknown, queued, scheduled, gateway, received, failed, expired
        or cancelled ("unknown" for a code the table does not have)."""
        entry = MESSAGE_STATUSES.get(self.code) if self.code is not None else None
        return "unknown" if entry is None else entry.kind

    @property
    def reached_gateway(self) -> bool:
        """The status says the message got as far as the upstream gateway (delivered to it,
        received by the handset, or failed at the handset)."""
        entry = MESSAGE_STATUSES.get(self.code) if self.code is not None else None
        return entry is not None and entry.reached_gateway

    @property
    def is_final(self) -> bool:
        """No further status will follow (received, failed, expired or cancelled)."""
        entry = MESSAGE_STATUSES.get(self.code) if self.code is not None else None
        return entry is not None and entry.final

    @property
    def is_success(self) -> bool:
        """The handset confirmed receipt."""
        return self.kind == "received"

    @property
    def is_failure(self) -> bool:
        """Final without reaching the handset; cancellations and credit or limit stops count."""
        return self.is_final and not self.is_success

    def __str__(self) -> str:
        return self.name or f"status {self.code}"


# Names for codes 3 and 4 are the only ones Clickatell has been seen to send. The others are
# UNCONFIRMED: the spec's, derived from the legacy descriptions in the same style, so that a
# status query or the sandbox can print something readable. Never match on them for behaviour.
KNOWN_STATUSES: Mapping[int, MessageStatus] = MappingProxyType(
    {
        code: MessageStatus(code, entry.name, entry.description)
        for code, entry in MESSAGE_STATUSES.items()
    }
)

STATUS_BY_NAME: Mapping[str, MessageStatus] = MappingProxyType(
    {status.name: status for status in KNOWN_STATUSES.values()}
)

_INTEGER = re.compile(r"[+-]?[0-9]+")


def _code_from(value: int | str | None) -> int | None:
    """Read "004", "4", " 4 " or 4 as 4; anything that is not a whole number becomes None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):  # JSON numbers may arrive as 4.0
        return int(value) if value.is_integer() else None
    text = str(value).strip()
    return int(text) if _INTEGER.fullmatch(text) else None


def _name_key(name: str) -> str:
    """Lookup key for a name: "received by recipient" and "Received-By-Recipient" both match."""
    return re.sub(r"[\s-]+", "_", name.strip()).upper()


def status_from(
    code: int | str | None, name: str | None, description: str | None = None
) -> MessageStatus:
    """The status for a code and/or name as reported; never raises.

    What was reported wins over the table: a given name or description is kept as given, and
    the table only fills in what is missing. A known name without a code gets the table's code.
    An unknown code, or an unknown name with no code, comes through as-is and is classified as
    not final (and neither success nor failure), since we cannot know what it means. A code that
    is not a whole number is treated as absent; the caller's raw data still holds it.
    """
    number = _code_from(code)
    given_name = name.strip() if name else ""
    known = KNOWN_STATUSES.get(number) if number is not None else None
    if known is None and number is None and given_name:
        known = STATUS_BY_NAME.get(_name_key(given_name))
        number = known.code if known else None
    return MessageStatus(
        code=number,
        name=given_name or (known.name if known else ""),
        description=description or (known.description if known else ""),
    )
