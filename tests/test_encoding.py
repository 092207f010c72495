"""Encoding detection and part counting, checked against hand-computed figures and an oracle."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clickatell_sms.encoding import MAX_PARTS, Estimate, check_parts, estimate, split
from clickatell_sms.errors import ValidationError

# GSM 03.38 basic table as Unicode scalar values, code 0x00 to 0x7F; None marks ESC (0x1B).
# Written independently of the module's string table, from 3GPP TS 23.038 section 6.2.1.
GSM_BASIC_CODE_POINTS = [
    *(0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A, 0xD8, 0xF8, 0x0D, 0xC5, 0xE5),
    *(0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, None),
    *(0xC6, 0xE6, 0xDF, 0xC9),
    *(0x20, 0x21, 0x22, 0x23, 0xA4), *range(0x25, 0x30),
    *range(0x30, 0x40),
    0xA1, *range(0x41, 0x50),
    *range(0x50, 0x5B), *(0xC4, 0xD6, 0xD1, 0xDC, 0xA7),
    0xBF, *range(0x61, 0x70),
    *range(0x70, 0x7B), *(0xE4, 0xF6, 0xF1, 0xFC, 0xE0),
]  # fmt: skip
GSM_EXTENSION_CODE_POINTS = [0x0C, 0x5E, 0x7B, 0x7D, 0x5C, 0x5B, 0x7E, 0x5D, 0x7C, 0x20AC]
BASIC = {chr(cp) for cp in GSM_BASIC_CODE_POINTS if cp is not None}
EXTENSION = {chr(cp) for cp in GSM_EXTENSION_CODE_POINTS}

WAP_PUSH_UDH = bytes.fromhex("0605040B8423F0")  # 7 octets: UDHL 06 + 16-bit port element
PORT8_UDH = bytes.fromhex("0404020B84")  # 5 octets: UDHL 04 + 8-bit port element

# (single part, per concatenated part), worked out by hand from the module docstring's rule:
# GSM-7 loses ceil(8*octets/7) septets, UCS-2 ceil(octets/2) units, binary the octets, where a
# concatenated part's header is 6 octets alone or the caller's header + 5.
CAPACITIES = {
    (None, "GSM-7"): (160, 153),
    (None, "UCS-2"): (70, 67),
    (None, "binary"): (140, 134),
    (WAP_PUSH_UDH, "GSM-7"): (152, 146),  # 7 octets -> 8 septets; 12 octets -> 14 septets
    (WAP_PUSH_UDH, "UCS-2"): (66, 64),  # 7 octets -> 4 units; 12 octets -> 6 units
    (WAP_PUSH_UDH, "binary"): (133, 128),
    (PORT8_UDH, "GSM-7"): (154, 148),  # 5 octets -> 6 septets; 10 octets -> 12 septets
    (PORT8_UDH, "UCS-2"): (67, 65),  # 5 octets -> 3 units; 10 octets -> 5 units
    (PORT8_UDH, "binary"): (135, 130),
}


def test_the_table_has_128_positions() -> None:
    assert len(GSM_BASIC_CODE_POINTS) == 128
    assert GSM_BASIC_CODE_POINTS[0x1B] is None
    assert len(BASIC) == 127


def test_every_bmp_character_is_classified_as_the_gsm_table_says() -> None:
    wrong = []
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        char = chr(cp)
        result = estimate(char)
        expected = ("GSM-7", 2) if char in EXTENSION else ("GSM-7", 1) if char in BASIC else None
        if expected is None:
            expected = ("UCS-2", 1)
        if (result.encoding, result.units) != expected:
            wrong.append((hex(cp), result.encoding, result.units))
    assert wrong == []


@pytest.mark.parametrize(
    ("content", "encoding", "units"),
    [
        ("Hello", "GSM-7", 5),
        ("€", "GSM-7", 2),
        ("Price: €5 {approx}", "GSM-7", 21),
        ("Café £3 à Ñoño", "GSM-7", 14),
        ("line\r\nbreak\f", "GSM-7", 13),
        ("Hello `world`", "UCS-2", 13),  # the backtick is not in GSM 03.38
        ("ESC\x1bitself", "UCS-2", 10),  # a raw ESC is not a character of the alphabet
        ("tab\there", "UCS-2", 8),
        ("ça va", "UCS-2", 5),  # only the capital Ç is in the table
        ("Ω is Greek; \u2126 is the ohm sign", "UCS-2", 29),
        ("😀", "UCS-2", 2),
        ("Hi 😀 €", "UCS-2", 7),  # in UCS-2 the euro sign is one unit again
    ],
)
def test_encoding_and_units(content: str, encoding: str, units: int) -> None:
    result = estimate(content)
    assert (result.encoding, result.units, result.characters) == (encoding, units, len(content))


@pytest.mark.parametrize(
    ("length", "parts", "per_part", "remaining"),
    [
        (1, 1, 160, 159),
        (160, 1, 160, 0),
        (161, 2, 153, 145),
        (306, 2, 153, 0),
        (307, 3, 153, 152),
        (5355, 35, 153, 0),
        (5356, 36, 153, 152),
    ],
)
def test_gsm_boundaries(length: int, parts: int, per_part: int, remaining: int) -> None:
    content = "x" * length
    assert estimate(content) == Estimate("GSM-7", length, length, parts, per_part, remaining)
    assert len(split(content)) == parts


@pytest.mark.parametrize(
    ("length", "parts", "per_part", "remaining"),
    [(70, 1, 70, 0), (71, 2, 67, 63), (134, 2, 67, 0), (135, 3, 67, 66)],
)
def test_ucs2_boundaries(length: int, parts: int, per_part: int, remaining: int) -> None:
    content = "ж" * length
    assert estimate(content) == Estimate("UCS-2", length, length, parts, per_part, remaining)
    assert len(split(content)) == parts


@pytest.mark.parametrize(
    ("octets", "parts", "per_part", "remaining"),
    [(0, 1, 140, 140), (140, 1, 140, 0), (141, 2, 134, 127), (268, 2, 134, 0), (269, 3, 134, 133)],
)
def test_binary_boundaries(octets: int, parts: int, per_part: int, remaining: int) -> None:
    content = "A5" * octets
    assert estimate(content, binary=True) == Estimate(
        "binary", octets, octets, parts, per_part, remaining
    )
    pieces = split(content, binary=True)
    assert len(pieces) == parts
    assert "".join(pieces) == content
    assert all(len(piece) % 2 == 0 for piece in pieces)


def test_binary_with_a_six_octet_header_fits_134_octets_in_one_part() -> None:
    concat_udh = bytes.fromhex("0500030F0201")
    assert estimate("00" * 134, binary=True, user_data_header=concat_udh).parts == 1
    result = estimate("00" * 135, binary=True, user_data_header=concat_udh)
    # Split, each part carries that header plus the concatenation element: 140 - 11 = 129.
    assert (result.parts, result.units_per_part) == (2, 129)


def test_euro_at_the_end_of_a_single_part_counts_two() -> None:
    assert estimate("x" * 158 + "€").parts == 1
    assert estimate("x" * 159 + "€") == Estimate("GSM-7", 160, 161, 2, 153, 145)


def test_escape_at_position_153_moves_to_the_next_part() -> None:
    content = "x" * 152 + "€" + "y" * 10
    assert split(content) == ["x" * 152, "€" + "y" * 10]
    assert estimate(content) == Estimate("GSM-7", 163, 164, 2, 153, 141)


def test_escape_that_ends_exactly_at_153_stays() -> None:
    content = "x" * 151 + "[" + "y" * 10
    assert split(content) == ["x" * 151 + "[", "y" * 10]
    assert estimate(content).remaining_in_last_part == 143


def test_an_escape_pushed_over_can_add_a_part() -> None:
    # 306 septets would be exactly two parts, but the brace cannot straddle septets 153-154.
    content = "x" * 152 + "}" + "y" * 152
    assert estimate(content).units == 306
    assert estimate(content).parts == 3
    assert split(content) == ["x" * 152, "}" + "y" * 151, "y"]


def test_emoji_straddling_67_moves_to_the_next_part() -> None:
    content = "ж" * 66 + "😀" + "ж" * 5
    assert split(content) == ["ж" * 66, "😀" + "ж" * 5]
    assert estimate(content) == Estimate("UCS-2", 72, 73, 2, 67, 60)


def test_emoji_ending_exactly_at_67_stays() -> None:
    content = "ж" * 65 + "😀" + "ж" * 5
    assert split(content) == ["ж" * 65 + "😀", "ж" * 5]


def test_thirty_five_emoji_fill_one_part_and_one_more_character_splits() -> None:
    assert estimate("😀" * 35) == Estimate("UCS-2", 35, 70, 1, 70, 0)
    parts = split("😀" * 35 + "!")
    assert parts == ["😀" * 33, "😀" * 2 + "!"]  # 66 units: a 34th emoji would make 68


def test_empty_content_is_one_empty_part() -> None:
    assert estimate("") == Estimate("GSM-7", 0, 0, 1, 160, 160)
    assert split("") == [""]
    assert estimate("", binary=True) == Estimate("binary", 0, 0, 1, 140, 140)


@pytest.mark.parametrize(
    ("udh", "content", "parts", "per_part"),
    [
        (WAP_PUSH_UDH, "x" * 152, 1, 152),
        (WAP_PUSH_UDH, "x" * 153, 2, 146),
        (WAP_PUSH_UDH, "ж" * 66, 1, 66),
        (WAP_PUSH_UDH, "ж" * 67, 2, 64),
        (PORT8_UDH, "x" * 154, 1, 154),
        (PORT8_UDH, "x" * 297, 3, 148),
    ],
)
def test_user_data_header_takes_room_from_each_part(
    udh: bytes, content: str, parts: int, per_part: int
) -> None:
    result = estimate(content, user_data_header=udh)
    assert (result.parts, result.units_per_part) == (parts, per_part)
    assert len(split(content, user_data_header=udh)) == parts


@pytest.mark.parametrize(
    ("udh", "problem"),
    [
        (b"", "is empty; pass None for no header"),
        (bytes.fromhex("0705040B8423F0"), "says 7 octets follow its length octet, but 6 do"),
        (bytes([140]) + bytes(140), "is 141 octets; a part carries at most 140"),
    ],
)
def test_bad_user_data_header(udh: bytes, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        estimate("hi", user_data_header=udh)
    assert (caught.value.field, caught.value.problem) == ("user_data_header", problem)


def test_header_too_big_to_split_with() -> None:
    udh = bytes([133]) + bytes(133)  # 134 octets: 6 septets left in one part, 1 when split
    assert estimate("x" * 6, user_data_header=udh).parts == 1
    with pytest.raises(ValidationError) as caught:
        estimate("x" * 7, user_data_header=udh)
    assert caught.value.field == "user_data_header"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("ABC", "has an odd number of hex digits (3); need whole octets"),
        ("GG", "is not hexadecimal; binary content is hex octets"),
        ("0A 0B", "is not hexadecimal; binary content is hex octets"),
        ("٠٠", "is not hexadecimal; binary content is hex octets"),  # Arabic-Indic zeros
    ],
)
def test_bad_binary_content(content: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        estimate(content, binary=True)
    assert (caught.value.field, caught.value.problem) == ("content", problem)


def test_lowercase_hex_is_binary_content() -> None:
    assert estimate("0a0bff", binary=True).units == 3


def test_unpaired_surrogate_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        estimate("ab\ud83dcd")
    assert caught.value.field == "content"
    assert "U+D83D" in caught.value.problem
    assert "index 2" in caught.value.problem


def test_check_parts_allows_35_and_refuses_36() -> None:
    assert check_parts("x" * 5355).parts == MAX_PARTS == 35
    with pytest.raises(ValidationError) as caught:
        check_parts("x" * 5356)
    assert caught.value.field == "content"
    assert caught.value.problem == (
        "needs 36 parts (5356 septets of GSM-7); the API allows at most 35"
    )
    assert str(caught.value) == f"content: {caught.value.problem}"


def test_check_parts_with_a_lower_limit_names_that_limit() -> None:
    assert check_parts("ж" * 201, max_parts=3).parts == 3
    with pytest.raises(ValidationError) as caught:
        check_parts("ж" * 202, max_parts=3)
    assert caught.value.problem == "needs 4 parts (202 UTF-16 code units of UCS-2); the limit is 3"


def test_check_parts_refuses_a_nonsense_limit() -> None:
    with pytest.raises(ValidationError) as caught:
        check_parts("hi", max_parts=0)
    assert caught.value.field == "max_parts"


def test_estimate_is_immutable_and_slotted() -> None:
    result = estimate("hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.parts = 2  # type: ignore[misc]
    assert not hasattr(result, "__dict__")


# --- properties against a deliberately naive oracle ------------------------------------------


def _weight(char: str, encoding: str) -> int:
    if encoding == "GSM-7":
        return 2 if char in EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def _oracle_split(content: str, encoding: str, single: int, per_part: int) -> list[str]:
    """One character at a time: start a new part whenever the next one would not fit."""
    if sum(_weight(c, encoding) for c in content) <= single:
        return [content]
    parts, current, used = [], "", 0
    for char in content:
        weight = _weight(char, encoding)
        if used + weight > per_part:
            parts.append(current)
            current, used = "", 0
        current += char
        used += weight
    parts.append(current)
    return parts


GSM_ALPHABET = "xyz 0@£Δ€[]{}^~|\\\n"
MIXED_ALPHABET = GSM_ALPHABET + "жé`😀🇿🇦"
headers = st.sampled_from([None, WAP_PUSH_UDH, PORT8_UDH])


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=GSM_ALPHABET, max_size=800),
        st.text(alphabet=MIXED_ALPHABET, max_size=400),
    ),
    headers,
)
def test_split_matches_the_oracle(content: str, udh: bytes | None) -> None:
    result = estimate(content, user_data_header=udh)
    single, per_part = CAPACITIES[(udh, result.encoding)]
    expected = _oracle_split(content, result.encoding, single, per_part)
    parts = split(content, user_data_header=udh)
    assert parts == expected
    assert result.parts == len(parts)
    assert result.units == sum(_weight(c, result.encoding) for c in content)
    last_units = sum(_weight(c, result.encoding) for c in parts[-1])
    assert result.units_per_part == (single if len(parts) == 1 else per_part)
    assert result.remaining_in_last_part == result.units_per_part - last_units


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=600), headers)
def test_binary_split_matches_octet_arithmetic(payload: bytes, udh: bytes | None) -> None:
    single, per_part = CAPACITIES[(udh, "binary")]
    content = payload.hex()
    parts = split(content, binary=True, user_data_header=udh)
    expected_parts = 1 if len(payload) <= single else -(-len(payload) // per_part)
    assert (
        len(parts) == expected_parts == estimate(content, binary=True, user_data_header=udh).parts
    )
    assert "".join(parts) == content
    assert all(len(bytes.fromhex(p)) <= (single if len(parts) == 1 else per_part) for p in parts)
