"""Recipient numbers in the one form the API wants: international, digits only, no "+" or "00".

The API echoes numbers back in that form, so normalising before sending is also what lets a
response be matched to the caller's input. Numbers are checked with `phonenumbers`'
*possible*-number test (length per country), not its *valid*-number test (known ranges): range
data lags behind operators, and a send to a new or test range must not be refused by a stale
table on the client. Numbers without an area code, which only work dialled locally, are refused.

`phonenumbers` costs tens of milliseconds to import, so it is imported on first use, never at
module import: the facade's cold import has to stay fast.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from clickatell_wire.tables import send_field

from .errors import ValidationError
from .redact import mask_number

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber

__all__ = [
    "REGION_ADVICE",
    "all_bare_international",
    "find_duplicates",
    "normalize_many",
    "normalize_number",
]

REGION_ADVICE: Final = "or set a default region for national numbers"
"""How a number without its country code is made readable, in words that fit every interface
(a keyword in Python, a flag on the command line, a bad row's reason in a results file): each
interface may name its own setting in their place."""

# Bounds over every country in phonenumbers' metadata (country code + national number);
# tests/test_numbers.py recomputes them so a metadata update that moves them fails loudly.
_MIN_DIGITS: Final = 6
_MAX_DIGITS: Final = 19
_FAST_MAX_DIGITS: Final = 15  # E.164's limit; longer inputs are rare enough to take the slow path

# The spec's rule for a number a client sends (`x-client-pattern` of `to`'s items: the API takes
# any string and answers a bad number in that number's own entry). phonenumbers' verdict comes
# first, as it says what is wrong; the rule is the last word, so a rule changed in the spec
# reaches the client with no edit here. The fast paths (6 to 15 digits, no leading 0, verdicts
# cached by a few leading digits) lie inside the rule this module was written for; under any other
# rule they step aside and every number takes the full parse and the rule.
_KNOWN_RULE: Final = r"^\+?[1-9][0-9]{5,18}$"
_CLIENT_RULE: Final = re.compile(send_field("to").client_pattern or "")
_FAST_PATHS: Final = _CLIENT_RULE.pattern == _KNOWN_RULE

# Characters people put between digits; everything else that is not a digit is refused.
_SEPARATORS: Final = re.compile(r"[\s\-.()/\u2010-\u2015]+")

# Per country code: national-number lengths that are possible, and the national-prefix pattern
# that phonenumbers would try to strip. Filled lazily, one country code at a time.
_fast_rules: dict[int, tuple[frozenset[int], re.Pattern[str] | None]] = {}

# normalize_many's memory of fast-path verdicts: first four digits -> how many leading digits
# decide the verdict, and (those digits, length) -> the verdict. Both stay small: a few entries
# per country code and length.
_LITERAL_ALTERNATION: Final = re.compile(r"[0-9]+(?:\|[0-9]+)*")
_VERDICT_CACHE_SIZE: Final = 10_000  # a bound for odd inputs; real campaigns need far fewer
_deciding: dict[str, int] = {}
_fast_verdicts: dict[tuple[str, int], bool] = {}
_verdicts_by_head: dict[str, dict[int, bool]] = {}  # the same, by first four digits and length
_country_codes: dict[str, int] = {}


def normalize_number(raw: str, *, default_region: str | None = None, field: str = "to") -> str:
    """The international digits for `raw`, or a ValidationError saying what is wrong with it.

    Starting with "+" or "00", or with a digit other than 0, means international (the API reads
    bare digits the same way). A single leading 0 means a national number, which needs
    `default_region` (an ISO 3166 code such as "ZA") to know its country.
    """
    if not isinstance(raw, str):
        raise ValidationError(field, f"must be a string, not {type(raw).__name__}", raw)
    region = _check_region(default_region) if default_region is not None else None
    if (
        _FAST_PATHS
        and _MIN_DIGITS <= len(raw) <= _FAST_MAX_DIGITS
        and raw.isdigit()
        and raw.isascii()
        and _fast_verdict(raw)
    ):
        return raw
    return _normalize(raw, region, field)


def normalize_many(
    raws: Sequence[str],
    *,
    default_region: str | None = None,
    field: str = "to",
    memo: dict[str, str] | None = None,
) -> list[str]:
    """`normalize_number` over a whole request's recipients, refusals naming `to[i]`.

    The same verdicts as calling `normalize_number` on each, but this loop runs for every
    recipient of every request, so the fast path's verdict is remembered by the few leading
    digits that decide it (see `_deciding_digits`) and the number's length. `memo` keeps the
    answers of the full parse, for inputs that come again (the caller bounds it).
    """
    whole = all_bare_international(raws) if len(raws) >= _WHOLE_LIST_FROM else None
    if whole is not None:
        return whole
    out: list[str] = []
    append = out.append
    by_head = _verdicts_by_head
    for index, raw in enumerate(raws):
        if raw.__class__ is str and raw.isdigit() and raw.isascii():
            # One look-up when the first four digits decide (most countries), else the full rule.
            lengths = by_head.get(raw[:4])
            verdict = None if lengths is None else lengths.get(len(raw))
            if verdict is None:
                verdict = (
                    _FAST_PATHS
                    and _MIN_DIGITS <= len(raw) <= _FAST_MAX_DIGITS
                    and _fast_verdict(raw)
                )
            if verdict:
                append(raw)
                continue
        known = memo.get(raw) if memo is not None and raw.__class__ is str else None
        if known is None:
            known = normalize_number(raw, default_region=default_region, field=f"{field}[{index}]")
            if memo is not None:
                memo[raw] = known
        append(known)
    return out


def _fast_verdict(raw: str) -> bool:
    """Whether the fast path takes these bare digits (6 to 15 ASCII ones), its verdict
    remembered by the leading digits that decide it (see `_deciding_digits`) and the length:
    the loop of every recipient of every request, and of every row of a bulk run."""
    count = _deciding.get(raw[:4])
    if count is None:
        count = _deciding_digits(raw)
    if not count:
        return _fast_international(raw) is not None
    key = (raw[:count], len(raw))
    verdict = _fast_verdicts.get(key)
    if verdict is None:
        if len(_fast_verdicts) >= _VERDICT_CACHE_SIZE:
            _fast_verdicts.clear()
            _verdicts_by_head.clear()
        verdict = _fast_verdicts[key] = _fast_international(raw) is not None
    if count <= 4:  # every number with these four digits and this length shares the verdict
        _verdicts_by_head.setdefault(raw[:4], {})[len(raw)] = verdict
    return verdict


_HEAD: Final = operator.itemgetter(slice(0, 4))
_WHOLE_LIST_FROM: Final = 16  # below, the loop is as quick as the whole-list operations
_DIGITS: Final = b"0123456789"


def all_bare_international(raws: Sequence[str]) -> list[str] | None:
    """`raws` as they are when every one takes the fast path, found with whole-list operations
    (a request of 200 bare international numbers, the usual bulk case, in a fraction of the
    loop's time); None when any may not, and the loop decides one by one.

    Only when the first four digits decide each verdict (`_deciding_digits` <= 4, as for most
    countries), so that (those digits, length) pairs stand for every number sharing them.
    """
    if not _FAST_PATHS or len(raws) < _WHOLE_LIST_FROM or set(map(type, raws)) != {str}:
        return None
    joined = "".join(raws)  # digits only: ASCII, and nothing left once digits are deleted
    if not joined.isascii() or joined.encode("ascii").translate(None, _DIGITS):
        return None
    lengths = set(map(len, raws))
    if min(lengths) < _MIN_DIGITS or max(lengths) > _FAST_MAX_DIGITS:
        return None
    low, high = min(raws), max(raws)
    count = _deciding.get(low[:4])
    if count is None:
        count = _deciding_digits(low)
    if 0 < count <= 4 and low[:count] == high[:count]:
        # Sorted, every number lies between these two, so all share the digits that decide:
        # one example of each length stands for them all.
        head = low[:4]
        examples = {
            (head, length): low if len(low) == length else _of_length(raws, length)
            for length in lengths
        }
    else:
        examples = dict(zip(zip(map(_HEAD, raws), map(len, raws), strict=True), raws, strict=True))
    verdicts = _fast_verdicts
    for (head, length), example in examples.items():
        count = _deciding.get(head)
        if count is None:
            count = _deciding_digits(example)
        if not count or count > 4:
            return None
        key = (head[:count], length)
        verdict = verdicts.get(key)
        if verdict is None:
            if len(verdicts) >= _VERDICT_CACHE_SIZE:
                verdicts.clear()
            verdict = verdicts[key] = _fast_international(example) is not None
        if not verdict:
            return None
    return list(raws)


def _of_length(raws: Sequence[str], length: int) -> str:
    return next(raw for raw in raws if len(raw) == length)


def _deciding_digits(digits: str) -> int:
    """How many leading digits, with the length, decide the fast path's verdict (0: not known).

    The verdict depends on the country code, the national number's length, its first digit and
    whether the country's national-prefix pattern matches its start. When that pattern is a
    plain list of digit strings (most countries: "0", "0|180020"), the country code plus the
    longest of those strings that starts with the national number's first digit decide it, so
    the answer holds for every number sharing them: a campaign needs a handful of entries.
    Keyed by the first four digits, which fix the country code and that first digit.
    """
    codes = _country_codes or _load_country_codes()
    if digits[0] == "0":
        count = 1
    else:
        width = next((w for w in (1, 2, 3) if digits[:w] in codes), 0)
        if not width:
            count = 3
        else:
            country_code = codes[digits[:width]]
            _, prefix = _fast_rules.get(country_code) or _load_fast_rules(country_code)
            if prefix is None:
                count = width + 1
            elif _LITERAL_ALTERNATION.fullmatch(prefix.pattern):
                first = digits[width : width + 1]
                starting = [len(p) for p in prefix.pattern.split("|") if p[0] == first]
                count = width + max(starting, default=1)
            else:
                count = 0
    _deciding[digits[:4]] = count
    return count


def find_duplicates(numbers: Sequence[str]) -> dict[int, int]:
    """Index of each repeat -> index of its first occurrence; compare normalised numbers.

    The facade reports repeats rather than merging them, so the caller's indexes stay meaningful.
    """
    first_seen: dict[str, int] = {}
    duplicates: dict[int, int] = {}
    for index, number in enumerate(numbers):
        first = first_seen.setdefault(number, index)
        if first != index:
            duplicates[index] = first
    return duplicates


def _fast_international(digits: str) -> str | None:
    """The answer for bare international digits when it is certain, without a full parse.

    Returns None (use the full parse) whenever phonenumbers would do anything but read the
    digits as country code + national number: a leading zero, a national prefix it might strip,
    or a length it would not accept. The full parse therefore decides every refusal.
    """
    if not _MIN_DIGITS <= len(digits) <= _FAST_MAX_DIGITS or digits[0] == "0":
        return None
    codes = _country_codes or _load_country_codes()
    for width in (1, 2, 3):
        country_code = codes.get(digits[:width])
        if country_code is not None:
            break
    else:
        return None
    national = digits[width:]
    rules = _fast_rules.get(country_code) or _load_fast_rules(country_code)
    lengths, national_prefix = rules
    if national[0] == "0" or len(national) not in lengths:
        return None
    if national_prefix is not None and national_prefix.match(national):
        return None
    return digits


def _normalize(raw: str, region: str | None, field: str) -> str:
    """The full parse: every refusal, and every input the fast path is unsure of, comes here."""
    import phonenumbers  # its metadata costs milliseconds: only numbers the fast path defers pay

    text = raw.strip()
    if not text:
        raise ValidationError(field, "is empty", raw)
    international = text.startswith(("+", "(+"))
    compact = _SEPARATORS.sub("", text.replace("+", "", 1) if international else text)
    if not compact.isdecimal():
        raise ValidationError(field, _bad_characters(compact, raw), raw)
    # Other scripts' decimal digits (Arabic-Indic, full-width...) become their ASCII values.
    digits = compact if compact.isascii() else "".join(str(int(char)) for char in compact)
    if not international and digits.startswith("00"):
        international, digits = True, digits[2:]
    if not international and digits.startswith("0"):
        if region is None:
            problem = (
                f"has no country code ({mask_number(digits)}); give it in international format"
                f" (+ and the country code) {REGION_ADVICE}"
            )
            raise ValidationError(field, problem, raw)
    else:
        international = True
    if len(digits) < _MIN_DIGITS:
        raise ValidationError(field, f"has {len(digits)} digits; too short for any country", raw)
    if len(digits) > _MAX_DIGITS:
        raise ValidationError(field, f"has {len(digits)} digits; too long for any country", raw)
    try:
        number = phonenumbers.parse("+" + digits if international else digits, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(field, _parse_problem(exc, digits), raw) from None
    impossible = _impossibility(number, digits)
    if impossible is not None:
        raise ValidationError(field, impossible, raw)
    found = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
    if _CLIENT_RULE.search(found) is None:
        rule = _CLIENT_RULE.pattern
        problem = f"does not match the contract's rule for numbers {rule} ({mask_number(found)})"
        raise ValidationError(field, problem, raw)
    return found


def _bad_characters(compact: str, raw: str) -> str:
    masked = mask_number(raw)
    if not compact:
        return f"has no digits ({masked})"
    if any(char.isalpha() for char in compact):
        return f"contains letters ({masked})"
    if "+" in compact:
        return f"has a '+' that is not at the start ({masked})"
    bad = next(char for char in compact if not char.isdecimal())
    return f"contains {bad!r}, which is not part of a phone number ({masked})"


def _parse_problem(exc: Exception, digits: str) -> str:
    from phonenumbers import NumberParseException  # loaded by the full parse already

    masked = mask_number(digits)
    error_type = getattr(exc, "error_type", None)
    if error_type == NumberParseException.INVALID_COUNTRY_CODE:
        return f"does not start with a known country code ({masked})"
    if error_type == NumberParseException.TOO_LONG:
        return f"has {len(digits)} digits; too long to be a phone number ({masked})"
    return f"has {len(digits)} digits; too short to be a phone number ({masked})"


def _impossibility(number: PhoneNumber, digits: str) -> str | None:
    """Why the parsed number cannot be dialled from abroad, or None when it can."""
    import phonenumbers  # loaded by the full parse already

    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    country = f"+{number.country_code}"
    masked = mask_number(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
    )
    national = len(phonenumbers.national_significant_number(number))
    if reason == phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
        return f"does not start with a known country code ({mask_number(digits)})"
    if reason == phonenumbers.ValidationResult.TOO_SHORT:
        return f"has {national} digits after {country}; too short for {country} ({masked})"
    if reason == phonenumbers.ValidationResult.TOO_LONG:
        return f"has {national} digits after {country}; too long for {country} ({masked})"
    if reason == phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        return f"is a local number without its area code for {country} ({masked})"
    return f"is not a possible number for {country} ({masked})"


def _check_region(default_region: str) -> str:
    import phonenumbers  # only a client with a default_region pays for it, when made

    region = default_region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(
            "default_region", "is not an ISO 3166 region code phonenumbers knows", default_region
        )
    return region


def _load_country_codes() -> dict[str, int]:
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE  # once, with the first number

    _country_codes.update((str(code), code) for code in COUNTRY_CODE_TO_REGION_CODE)
    return _country_codes


def _load_fast_rules(country_code: int) -> tuple[frozenset[int], re.Pattern[str] | None]:
    # Once per country code: its metadata is phonenumbers' to load, on demand.
    from phonenumbers import PhoneMetadata, region_code_for_country_code

    metadata = PhoneMetadata.metadata_for_region_or_calling_code(
        country_code, region_code_for_country_code(country_code)
    )
    if metadata is None or metadata.general_desc is None:  # not expected; then never fast
        rules: tuple[frozenset[int], re.Pattern[str] | None] = (frozenset(), None)
    else:
        prefix = metadata.national_prefix_for_parsing
        rules = (
            frozenset(metadata.general_desc.possible_length),
            re.compile(prefix) if prefix else None,
        )
    _fast_rules[country_code] = rules
    return rules
