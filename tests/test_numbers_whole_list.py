"""`normalize_many`'s whole-list fast path gives exactly the verdicts of one number at a time."""

from __future__ import annotations

import random

import pytest

from clickatell_sms import ValidationError
from clickatell_sms.numbers import all_bare_international, normalize_many, normalize_number

PREFIXES = ["2782", "2783", "4479", "1202", "3361", "4915", "9198", "8613", "6421", "5511"]


def _one_by_one(raws: list[str]) -> list[str] | str:
    try:
        return [normalize_number(raw) for raw in raws]
    except ValidationError as exc:
        return exc.problem


@pytest.mark.parametrize("seed", range(40))
def test_whole_lists_agree_with_one_number_at_a_time(seed: int) -> None:
    rng = random.Random(seed)
    size = rng.choice([16, 50, 200])
    raws = [
        rng.choice(PREFIXES) + "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 9)))
        for _ in range(size)
    ]
    expected = _one_by_one(raws)
    try:
        found: list[str] | str = normalize_many(raws)
    except ValidationError as exc:
        found = exc.problem
    assert found == expected


def test_the_whole_list_path_is_taken_for_a_usual_request_and_left_for_anything_else() -> None:
    usual = [f"2782{i:07d}" for i in range(200)]
    assert all_bare_international(usual) == usual and all_bare_international(usual) is not usual
    assert all_bare_international(usual[:15]) is None  # short lists: the loop is as quick
    assert all_bare_international([*usual[:20], "+27821234567"]) is None  # not bare digits
    assert all_bare_international([*usual[:20], "0821234567"]) is None  # national: needs a region
    assert all_bare_international([*usual[:20], "2782"]) is None  # too short
    with pytest.raises(ValidationError) as caught:
        normalize_many([*usual[:20], "27abc"])
    assert caught.value.field == "to[20]"
