"""Which entry of an answer belongs to which recipient, and the results that follow from it.

A send's recipients are numbered by their position in the caller's `to`; a request carries some
of them (at most 200, repeats left out) and its answer has one entry per number. Each result is
put back at its recipient's position, so the caller gets one result per input, in input order,
whatever happened to the others. What cannot be matched is never guessed at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import OutcomeUnknownError
from .redact import scrub
from .results import MessageResult, SendResult

if TYPE_CHECKING:
    from .raw import RawResponse
    from .wire import WireEntry

__all__ = ["collect", "fill_duplicates", "match", "place"]


def match(entries: list[WireEntry] | None, batch: list[str]) -> list[WireEntry | None]:
    """The entry for each number of the request, in request order (None where there is none).

    The API answers in request order, so position decides, checked against the number each
    entry echoes. If the two disagree, entries are matched by number instead. A recipient left
    without an entry is never guessed at: it may have been sent, so its outcome is unknown.
    """
    if entries is None:
        entries = []
    if len(entries) == len(batch):
        echoed = [entry[0] for entry in entries]
        if echoed == batch or all(
            to is None or to.lstrip("+") == number for to, number in zip(echoed, batch, strict=True)
        ):
            return entries  # type: ignore[return-value]  # list is invariant; no None inside
    by_number: dict[str, WireEntry] = {}
    for entry in entries:
        if entry[0] is not None:
            by_number.setdefault(entry[0].lstrip("+"), entry)
    return [by_number.get(number) for number in batch]


def place(
    entries: list[WireEntry] | None,
    batch: list[str],
    indexes: list[int] | range,
    inputs: list[str],
    numbers: list[str],
    results: list[MessageResult | None],
    raw: RawResponse,
    position: tuple[int, int],
    client_message_id: str | None,
    key: str,
) -> None:
    """Put each recipient's result at its index in `results`, from one request's answer.

    Raises `OutcomeUnknownError` for the recipients the answer has no entry for, after placing
    the others (which the error's `partial` then carries).
    """
    missing: list[str] = []
    for index, entry in zip(indexes, match(entries, batch), strict=True):
        if entry is None:
            missing.append(numbers[index])
            continue
        _, accepted, api_message_id, code, error, description = entry
        if accepted is None:  # older answers: accepted means an ID and no error
            accepted = bool(api_message_id) and not error and not code
        results[index] = MessageResult(
            index,
            inputs[index],
            numbers[index],
            accepted,
            api_message_id,
            code,
            error,
            description,
            None,
            raw,
        )
    if missing:
        raise OutcomeUnknownError(
            scrub(
                f"the answer to request {position[0]} of {position[1]} (HTTP {raw.status})"
                f" has no entry for {len(missing)} of its {len(batch)} recipients; they may"
                " have been sent; not resent",
                key,
            ),
            recipients=missing,
            client_message_id=client_message_id,
            raw=raw,
        )


def fill_duplicates(
    results: list[MessageResult | None],
    inputs: list[str],
    numbers: list[str],
    duplicates: dict[int, int],
) -> None:
    """Each repeat's result: rejected locally, pointing at the first occurrence (if it has one)."""
    for index, first in duplicates.items():
        original = results[first]
        if original is None:
            continue
        results[index] = MessageResult(
            index,
            inputs[index],
            numbers[index],
            False,
            error="duplicate",
            description=f"same number as to[{first}]; sent once",
            duplicate_of=first,
            raw=original.raw,
        )


def collect(
    results: list[MessageResult | None],
    raws: list[RawResponse],
    inputs: list[str],
    numbers: list[str],
    duplicates: dict[int, int],
    client_message_id: str | None,
) -> SendResult:
    """The results known so far (a subset, in input order) for an error's `partial`."""
    done = list(results)
    fill_duplicates(done, inputs, numbers, duplicates)
    return SendResult([result for result in done if result is not None], raws, client_message_id)
