"""Recipient normalisation: accepted forms, refusals with their messages, and the fast path."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import phonenumbers
import pytest
from clickatell_wire.tables import send_field
from hypothesis import example, given, settings
from hypothesis import strategies as st
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, region_code_for_country_code

from clickatell_sms import numbers
from clickatell_sms.errors import ValidationError
from clickatell_sms.numbers import find_duplicates, normalize_number

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+27 82 123-4567", "27821234567"),
        ("0027821234567", "27821234567"),
        ("00 27 82 123 4567", "27821234567"),
        ("27821234567", "27821234567"),
        ("+380976543211", "380976543211"),  # both forms from the API's own example
        ("380976543212", "380976543212"),
        ("  +27821234567\n", "27821234567"),
        ("+27 (0)82 123 4567", "27821234567"),  # the trunk 0 written after the country code
        ("27 082 123 4567", "27821234567"),
        ("(+27) 82.123.4567", "27821234567"),
        ("+1 (202) 555-0123", "12025550123"),
        ("+39 06 1234 5678", "390612345678"),  # Italy keeps its leading zero
        ("+44 7911 123456", "447911123456"),
        ("+27 82 123\u20114567", "27821234567"),  # non-breaking hyphen from a word processor
        ("２７８２１２３４５６７", "27821234567"),  # full-width digits
        ("٢٧٨٢١٢٣٤٥٦٧", "27821234567"),  # Arabic-Indic digits
    ],
)
def test_international_forms(raw: str, expected: str) -> None:
    assert normalize_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("082 123 4567", "ZA", "27821234567"),
        ("082 123 4567", "za", "27821234567"),
        ("0821234567", "ZA", "27821234567"),
        ("06 1234 5678", "IT", "390612345678"),
        ("07911 123456", "GB", "447911123456"),
        ("0027821234567", "GB", "27821234567"),  # 00 is international whatever the region
        ("447911123456", "ZA", "447911123456"),  # bare digits stay international
    ],
)
def test_national_numbers_with_a_default_region(raw: str, region: str, expected: str) -> None:
    assert normalize_number(raw, default_region=region) == expected


def test_possible_but_unassigned_ranges_are_accepted() -> None:
    # Ofcom's drama range and NANP 555: not "valid", yet a gateway may well route them.
    for raw in ("+447700900123", "+15555550100"):
        assert not phonenumbers.is_valid_number(phonenumbers.parse(raw))
        assert normalize_number(raw) == raw[1:]


def _refusal(raw: object, region: str | None = None) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        normalize_number(raw, default_region=region, field="to[3]")  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("1-800-FLOWERS", "contains letters (1-********ERS)"),
        ("+27 82 123 4567 ext 5", "contains letters (+2****************t 5)"),
        ("--", "has no digits (***)"),
        ("#27821234567", "contains '#', which is not part of a phone number (#2*******567)"),
        ("27+821234567", "has a '+' that is not at the start (27*******567)"),
        ("1234", "has 4 digits; too short for any country"),
        ("+1 234", "has 4 digits; too short for any country"),
        (
            "+27 1234 5678 9012 3456",
            "has 16 digits after +27; too long for +27 (27*************456)",
        ),
        (
            "+1 234 567 890 123 456 789",
            "has 19 digits; too long to be a phone number (12**************789)",
        ),
        ("+27 1234 5678 9012 345678", "has 20 digits; too long for any country"),
        ("+999 123456789", "does not start with a known country code (99*******789)"),
        ("+27 8212", "has 4 digits after +27; too short for +27 (27*212)"),
        ("+27 82 123 4567 89", "has 11 digits after +27; too long for +27 (27********789)"),
        ("+47 123456", "is not a possible number for +47 (47***456)"),
        ("+1 555 0123", "is a local number without its area code for +1 (15***123)"),
        (
            "082 123 4567",
            "has no country code (08*****567); give it in international format"
            " (+ and the country code) or set a default region for national numbers",
        ),
    ],
)
def test_refusals(raw: str, problem: str) -> None:
    error = _refusal(raw)
    assert (error.field, error.problem, error.value) == ("to[3]", problem, raw)
    assert str(error) == f"to[3]: {problem}"


def test_refusal_messages_do_not_carry_the_whole_number() -> None:
    for raw in ("+27 82 123 4567 89", "082 123 4567", "+999 123456789", "+47 123456"):
        message = str(_refusal(raw)).replace(" ", "")
        digits = "".join(c for c in raw if c.isdigit())
        assert digits not in message
        assert digits[2:-3] not in message


def test_not_a_string() -> None:
    error = _refusal(27821234567)
    assert (error.field, error.problem, error.value) == (
        "to[3]",
        "must be a string, not int",
        27821234567,
    )


def test_unknown_default_region() -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_number("+27821234567", default_region="XX")
    assert (caught.value.field, caught.value.value) == ("default_region", "XX")


def test_field_defaults_to_to() -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_number("")
    assert str(caught.value) == "to: is empty"


def test_global_digit_bounds_match_the_metadata() -> None:
    totals = []
    for code in COUNTRY_CODE_TO_REGION_CODE:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(
            code, region_code_for_country_code(code)
        )
        assert metadata is not None and metadata.general_desc is not None
        lengths = metadata.general_desc.possible_length
        totals += [len(str(code)) + min(lengths), len(str(code)) + max(lengths)]
    assert (min(totals), max(totals)) == (numbers._MIN_DIGITS, numbers._MAX_DIGITS)


def test_the_fast_paths_serve_the_specs_client_rule_and_its_bounds_are_this_modules() -> None:
    """The spec's `x-client-pattern` for recipients is the rule the fast paths were written
    for (else they step aside), and its digit bounds are the metadata's."""
    rule = re.compile(send_field("to").client_pattern or "")
    assert numbers._FAST_PATHS and rule.pattern == numbers._KNOWN_RULE
    low, high = numbers._MIN_DIGITS, numbers._MAX_DIGITS
    for digits in ("1" * low, "9" * high, "+" + "1" * low):
        assert rule.search(digits), digits
    for digits in ("1" * (low - 1), "1" * (high + 1), "0" + "1" * low, "++" + "1" * low):
        assert not rule.search(digits), digits


# --- the fast path for bare digits must give the full parse's verdicts --------------------------


def _slow(raw: str) -> tuple[str, str]:
    try:
        return ("ok", numbers._normalize(raw, None, "to"))
    except ValidationError as error:
        return ("refused", error.problem)


def _public(raw: str) -> tuple[str, str]:
    try:
        return ("ok", normalize_number(raw))
    except ValidationError as error:
        return ("refused", error.problem)


def test_the_fast_path_takes_common_numbers() -> None:
    for raw in ("27821234567", "380976543212", "447911123456", "12025550123", "4915123456789"):
        assert numbers._fast_international(raw) == raw


def test_the_fast_path_steps_aside_when_a_prefix_would_be_stripped() -> None:
    assert numbers._fast_international("270821234567") is None  # trunk 0 after the code
    assert numbers._fast_international("78123456789") is None  # Russia's trunk prefix 8
    assert normalize_number("270821234567") == "27821234567"


def _every_country_samples() -> list[str]:
    """For every country code, digit strings of every possible national length and around them."""
    rng = random.Random(20240601)
    samples = []
    for code in COUNTRY_CODE_TO_REGION_CODE:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(
            code, region_code_for_country_code(code)
        )
        assert metadata is not None and metadata.general_desc is not None
        lengths = set(metadata.general_desc.possible_length)
        lengths |= {n - 1 for n in lengths} | {n + 1 for n in lengths}
        for length in sorted(n for n in lengths if n > 0):
            for first in "0123456789":
                rest = "".join(rng.choice("0123456789") for _ in range(length - 1))
                samples.append(f"{code}{first}{rest}")
    return samples


def test_fast_path_agrees_with_the_full_parse_for_every_country() -> None:
    samples = _every_country_samples()
    assert len(samples) > 5000
    disagreements = [raw for raw in samples if _public(raw) != _slow(raw)]
    assert disagreements == []
    taken = sum(numbers._fast_international(raw) is not None for raw in samples)
    assert taken > len(samples) // 3  # the fast path is really exercised, not always skipped


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
@example("79161234567")
@example("8613800138000")
@example("6112345678")
def test_fast_path_agrees_with_the_full_parse_on_any_digits(raw: str) -> None:
    assert _public(raw) == _slow(raw)


# --- duplicates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numbers_in", "expected"),
    [
        ([], {}),
        (["27821234567"], {}),
        (["27821234567", "447911123456"], {}),
        (["27821234567", "447911123456", "27821234567"], {2: 0}),
        (["1", "2", "1", "3", "2", "1"], {2: 0, 4: 1, 5: 0}),
    ],
)
def test_find_duplicates(numbers_in: list[str], expected: dict[int, int]) -> None:
    assert find_duplicates(numbers_in) == expected


def test_duplicates_are_found_after_normalising() -> None:
    raw = ["+27 82 123 4567", "0027821234567", "082 123 4567", "+44 7911 123456"]
    normalised = [normalize_number(r, default_region="ZA") for r in raw]
    assert find_duplicates(normalised) == {1: 0, 2: 0}


# --- import cost --------------------------------------------------------------------------------


def test_importing_the_modules_does_not_import_phonenumbers() -> None:
    code = (
        "import sys, clickatell_sms.numbers, clickatell_sms.encoding; "
        "print('phonenumbers' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_normalize_many_gives_the_same_verdicts_as_one_at_a_time() -> None:
    from clickatell_sms.numbers import normalize_many

    good = ["27821234567", "+27 82 123 4567", "447911123456", "0027821234567", "14155550123"]
    assert normalize_many(good) == [normalize_number(raw) for raw in good]
    assert normalize_many(["0821234567"], default_region="ZA") == ["27821234567"]
    with pytest.raises(ValidationError) as caught:
        normalize_many(["27821234567", "447911123456", "27abc"])
    assert caught.value.field == "to[2]"
    with pytest.raises(ValidationError) as alone:
        normalize_number("27abc")
    assert caught.value.problem == alone.value.problem


def test_normalize_many_remembered_verdicts_never_differ_from_the_full_answer() -> None:
    """Verdicts cached by first digits and length must equal what each number alone gets."""
    import random

    from clickatell_sms.numbers import normalize_many

    rng = random.Random(7)
    prefixes = ["27", "44", "1", "49", "33", "91", "86", "380", "7", "0", "999", "2782", "4418"]
    samples = [
        p + "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 13 - len(p) + 2)))
        for p in prefixes
        for _ in range(300)
    ]
    samples = [s for s in samples if 6 <= len(s) <= 15]

    def one(raw: str) -> str:
        try:
            return normalize_number(raw)
        except ValidationError as exc:
            return "refused: " + exc.problem

    def many(raw: str) -> str:
        try:
            return normalize_many([raw])[0]
        except ValidationError as exc:
            return "refused: " + exc.problem

    for _ in range(2):  # the second pass answers from the verdict cache
        assert [many(s) for s in samples] == [one(s) for s in samples]
