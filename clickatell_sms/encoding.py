"""How many SMS parts a message needs, and which alphabet the network will carry it in.

Clickatell picks the encoding itself (GSM-7 when every character allows it, UCS-2 otherwise) and
charges per part, so a client that predicts both can warn about cost before anything is sent and
refuse messages that the API would reject for having too many parts.

Sizes follow 3GPP TS 23.040/23.038. A user data header (UDH) is carried inside every part, so its
octets come out of each part's capacity: for GSM-7 it occupies ``ceil(octets * 8 / 7)`` septets
(the header is padded to a septet boundary), for UCS-2 ``ceil(octets / 2)`` code units, for binary
its octets. A concatenated message needs a 5-octet concatenation element in that header; with no
caller header that makes the familiar 6-octet header (153 / 67 / 134 per part), and with a caller
header the two share its length octet, so each part loses ``len(header) + 5`` octets.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Final, Literal

from .errors import ValidationError

__all__ = ["MAX_PARTS", "Encoding", "Estimate", "check_parts", "estimate", "split"]

Encoding = Literal["GSM-7", "UCS-2", "binary"]

MAX_PARTS: Final = 35
"""Clickatell's ceiling on the parts of one concatenated message."""

# The GSM 03.38 default alphabet, code points 0x00-0x7F in order (one string per 16 codes).
# 0x1B is ESC, the switch to the extension table, not a character of its own.
_GSM_BASIC: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# Reached through ESC, so each costs two septets: FF ^ { } \ [ ~ ] | €
_GSM_EXTENSION: Final = "\f^{}\\[~]|€"

_GSM_CHARS: Final = frozenset(_GSM_BASIC.replace("\x1b", "") + _GSM_EXTENSION)
_ESCAPED: Final = frozenset(_GSM_EXTENSION)

# Pure ASCII text is the common case; bytes.translate answers for it at C speed (no regex: its
# compilation alone would add a millisecond to the facade's import).
_GSM_ASCII_BYTES: Final = bytes(sorted(ord(c) for c in _GSM_CHARS if ord(c) < 0x80))
_ALL_BUT_ESCAPED_ASCII: Final = bytes(b for b in range(256) if chr(b) not in _ESCAPED)
_HEX_DIGITS: Final = b"0123456789ABCDEFabcdef"

_SINGLE_PART: Final[dict[Encoding, int]] = {"GSM-7": 160, "UCS-2": 70, "binary": 140}
_UNIT_NAMES: Final[dict[Encoding, str]] = {
    "GSM-7": "septets",
    "UCS-2": "UTF-16 code units",
    "binary": "octets",
}
_CONCAT_HEADER: Final = 6  # UDHL + IEI 00 + length + reference, total, sequence
_CONCAT_ELEMENT: Final = 5  # the same element added to a header that already has its UDHL


@dataclass(frozen=True, slots=True)
class Estimate:
    """What a message will cost, in the units the network counts.

    ``characters`` is the length the caller sees (code points; octets for binary). ``units`` is
    septets (GSM-7), UTF-16 code units (UCS-2) or octets (binary). ``units_per_part`` is the
    capacity of one part in the layout actually used: single-part capacity when it fits in one,
    concatenated capacity otherwise. ``remaining_in_last_part`` is what could still be added
    without needing another part. Empty content is one (empty) part, as an SMS with no text is.
    """

    encoding: Encoding
    characters: int
    units: int
    parts: int
    units_per_part: int
    remaining_in_last_part: int


def estimate(
    content: str, *, binary: bool = False, user_data_header: bytes | None = None
) -> Estimate:
    """Cost before sending: parts are what is charged, and the encoding decides how many."""
    encoding, units, heavy = _measure(content, binary)
    header = _header_length(user_data_header)
    single = _capacity(encoding, header)
    characters = units if binary else len(content)
    if units <= single:
        return Estimate(encoding, characters, units, 1, single, single - units)
    per_part = _multipart_capacity(encoding, header)
    if not heavy:
        parts = _ceil_div(units, per_part)
        return Estimate(encoding, characters, units, parts, per_part, parts * per_part - units)
    ends = _part_ends(content, per_part, encoding)
    last = _units(content[ends[-2] :], encoding)
    return Estimate(encoding, characters, units, len(ends), per_part, per_part - last)


def split(
    content: str, *, binary: bool = False, user_data_header: bytes | None = None
) -> list[str]:
    """The parts as the network cuts them, so a preview or a test can see where each one ends."""
    encoding, units, heavy = _measure(content, binary)
    header = _header_length(user_data_header)
    if units <= _capacity(encoding, header):
        return [content]
    per_part = _multipart_capacity(encoding, header)
    if binary:
        step = 2 * per_part
        return [content[i : i + step] for i in range(0, len(content), step)]
    if not heavy:
        return [content[i : i + per_part] for i in range(0, len(content), per_part)]
    return [content[a:b] for a, b in pairwise([0, *_part_ends(content, per_part, encoding)])]


def check_parts(
    content: str,
    *,
    binary: bool = False,
    user_data_header: bytes | None = None,
    max_parts: int = MAX_PARTS,
) -> Estimate:
    """Estimate, and refuse here a message too long for the API, before a request is spent on it."""
    if max_parts < 1:
        raise ValidationError("max_parts", f"must be at least 1, not {max_parts}", max_parts)
    result = estimate(content, binary=binary, user_data_header=user_data_header)
    if result.parts > max_parts:
        limit = (
            f"the API allows at most {MAX_PARTS}"
            if max_parts == MAX_PARTS
            else f"the limit is {max_parts}"
        )
        problem = (
            f"needs {result.parts} parts ({result.units} {_UNIT_NAMES[result.encoding]}"
            f" of {result.encoding}); {limit}"
        )
        raise ValidationError("content", problem, content)
    return result


def _measure(content: str, binary: bool) -> tuple[Encoding, int, int]:
    """Encoding, total units, and how many characters take two units (escapes or astral)."""
    if binary:
        if not content.isascii() or content.encode("ascii").translate(None, _HEX_DIGITS):
            raise ValidationError("content", "is not hexadecimal; binary content is hex octets")
        if len(content) % 2:
            raise ValidationError(
                "content", f"has an odd number of hex digits ({len(content)}); need whole octets"
            )
        return "binary", len(content) // 2, 0
    if content.isascii():
        if not content.encode("ascii").translate(None, _GSM_ASCII_BYTES):
            escapes = _escapes(content)
            return "GSM-7", len(content) + escapes, escapes
    elif _GSM_CHARS.issuperset(content):
        escapes = _escapes(content)
        return "GSM-7", len(content) + escapes, escapes
    try:
        units = len(content.encode("utf-16-le")) // 2
    except UnicodeEncodeError as exc:
        problem = (
            f"contains an unpaired surrogate (U+{ord(content[exc.start]):04X}) at index"
            f" {exc.start}, which cannot be sent"
        )
        raise ValidationError("content", problem) from None
    return "UCS-2", units, units - len(content)


def _escapes(text: str) -> int:
    """Extension-table characters in GSM text; ASCII ones stay single bytes in UTF-8."""
    return len(text.encode("utf-8").translate(None, _ALL_BUT_ESCAPED_ASCII)) + text.count("€")


def _units(text: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return len(text) + _escapes(text)
    return len(text.encode("utf-16-le")) // 2


def _part_ends(content: str, capacity: int, encoding: Encoding) -> list[int]:
    """Greedy cut points: fill each part, then step back so a two-unit character stays whole.

    Stepping back one character at a time beats bisecting here: the overflow is a handful of
    units, and each step is cheaper than recounting a slice.
    """
    escaped = _ESCAPED
    ends: list[int] = []
    start, length = 0, len(content)
    while start < length:
        end = min(start + capacity, length)
        excess = _units(content[start:end], encoding) - capacity
        while excess > 0:
            end -= 1
            char = content[end]
            excess -= 2 if (char in escaped if encoding == "GSM-7" else char > "\uffff") else 1
        ends.append(end)
        start = end
    return ends


def _header_length(user_data_header: bytes | None) -> int:
    """Octets of the caller's header, after checking that its length octet tells the truth."""
    if user_data_header is None:
        return 0
    size = len(user_data_header)
    if size == 0:
        raise ValidationError("user_data_header", "is empty; pass None for no header", b"")
    if size > _SINGLE_PART["binary"]:
        problem = f"is {size} octets; a part carries at most {_SINGLE_PART['binary']}"
        raise ValidationError("user_data_header", problem, user_data_header)
    if user_data_header[0] != size - 1:
        problem = f"says {user_data_header[0]} octets follow its length octet, but {size - 1} do"
        raise ValidationError("user_data_header", problem, user_data_header)
    return size


def _capacity(encoding: Encoding, header_octets: int) -> int:
    single = _SINGLE_PART[encoding]
    if encoding == "GSM-7":
        return single - _ceil_div(header_octets * 8, 7)
    if encoding == "UCS-2":
        return single - _ceil_div(header_octets, 2)
    return single - header_octets


def _multipart_capacity(encoding: Encoding, header_octets: int) -> int:
    header = header_octets + _CONCAT_ELEMENT if header_octets else _CONCAT_HEADER
    capacity = _capacity(encoding, header)
    if capacity < 2:  # a two-unit character must fit in a part, or splitting cannot progress
        problem = f"is {header_octets} octets; too long to split a {encoding} message into parts"
        raise ValidationError("user_data_header", problem)
    return capacity


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)
