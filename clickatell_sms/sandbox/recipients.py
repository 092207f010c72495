"""Which recipients the sandbox accepts, and the magic numbers that are refused on purpose.

A recipient is read as the API echoes it: one leading `+` dropped. It is accepted when what is
left is 6 to 19 digits starting with 1-9 (international format; `00` and national numbers with a
leading 0 are refused, as the legacy docs say). Refused recipients do not fail the request: their
entry in the `202` answer has `accepted: false` and the error code.

Magic endings let a test get the other per-recipient refusals (see `codes`):
`...9114` cannot be routed (114), `...9121` is blocked (121), `...9122` opted out (122).
"""

from __future__ import annotations

import re
from typing import Final

from .codes import BLOCKED, CANNOT_ROUTE, INVALID_DESTINATION, OPTED_OUT, ApiError

__all__ = ["MAGIC_REFUSALS", "check_recipient"]

_INTERNATIONAL: Final = re.compile(r"[1-9][0-9]{5,18}")
MAGIC_REFUSALS: Final[dict[str, ApiError]] = {
    "9114": CANNOT_ROUTE,
    "9121": BLOCKED,
    "9122": OPTED_OUT,
}


def check_recipient(raw: str) -> tuple[str, ApiError | None]:
    """The number as the API echoes it, and why it is refused (None when accepted)."""
    number = raw[1:] if raw.startswith("+") else raw
    if not (number.isascii() and _INTERNATIONAL.fullmatch(number)):
        return number, INVALID_DESTINATION
    refusal = MAGIC_REFUSALS.get(number[-4:])
    return number, refusal
