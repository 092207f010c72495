"""Which entry of an answer belongs to which recipient, and the results that follow from it.

A send's recipients are numbered by their position in the caller's `to`; a request carries some
of them (at most 200, repeats left out) and its answer has one entry per number. Each result is
put back at its recipient's position, so the caller gets one result per input, in input order,
whatever happened to the others. What cannot be matched is never guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import OutcomeUnknownError
from .numbers import find_duplicates
from .redact import scrub
from .results import MessageResult, SendResult

if TYPE_CHECKING:
    from urllib3.util.retry import Retry
    from urllib3.util.timeout import Timeout

    from .options import Outgoing
    from .raw import RawResponse
    from .wire import WireEntry

__all__ = ["ResultCollector", "SendRequest", "match"]


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


@dataclass(frozen=True, slots=True)
class SendRequest:
    """One request of a send: the checked message, its recipients and how it travels.

    `numbers` are this request's recipients (normalised, repeats left out) and `indexes` their
    positions in the caller's list; `position` is `(this request's number, how many the send
    needs)`, for messages. `timeout`, `retry` and `headers` are the call's.
    """

    message: Outgoing
    numbers: list[str]
    indexes: list[int] | range
    position: tuple[int, int]
    headers: Mapping[str, str] | None
    timeout: Timeout
    retry: Retry
    http: bool


class ResultCollector:
    """A send's results as its requests are answered: one slot per input, filled in input order.

    `order` lists the inputs that go out (first occurrences); repeats are answered locally at
    the end, pointing at their first occurrence.
    """

    __slots__ = (
        "_key",
        "_raws",
        "_results",
        "duplicates",
        "inputs",
        "numbers",
        "order",
        "reference",
    )

    def __init__(
        self, inputs: list[str], numbers: list[str], reference: str | None, key: str
    ) -> None:
        self.inputs = inputs
        self.numbers = numbers
        self.reference = reference
        self._key = key
        count = len(numbers)
        self.duplicates = find_duplicates(numbers) if len(set(numbers)) != count else {}
        self.order: list[int] | range = (
            [i for i in range(count) if i not in self.duplicates]
            if self.duplicates
            else range(count)
        )
        self._results: list[MessageResult | None] = [None] * count
        self._raws: list[RawResponse] = []

    def place(
        self, request: SendRequest, raw: RawResponse, entries: list[WireEntry] | None
    ) -> None:
        """Put each recipient's result at its index, from one request's answer.

        Raises `OutcomeUnknownError` for the recipients the answer has no entry for, after
        placing the others (which `partial()` then includes).
        """
        self._raws.append(raw)
        inputs, numbers, results = self.inputs, self.numbers, self._results
        missing: list[str] = []
        for index, entry in zip(request.indexes, match(entries, request.numbers), strict=True):
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
            position = request.position
            raise OutcomeUnknownError(
                scrub(
                    f"the answer to request {position[0]} of {position[1]} (HTTP {raw.status})"
                    f" has no entry for {len(missing)} of its {len(request.numbers)} recipients;"
                    " they may have been sent; not resent",
                    self._key,
                ),
                recipients=missing,
                client_message_id=self.reference,
                raw=raw,
            )

    def result(self) -> SendResult:
        """Every input's result (all requests answered)."""
        self._fill_duplicates(self._results)
        return SendResult(self._results, self._raws, self.reference)  # type: ignore[arg-type]

    def partial(self) -> SendResult | None:
        """The results known so far (a subset, in input order), or None if none are."""
        done = list(self._results)
        if all(result is None for result in done):
            return None
        self._fill_duplicates(done)
        return SendResult([r for r in done if r is not None], self._raws, self.reference)

    def _fill_duplicates(self, results: list[MessageResult | None]) -> None:
        """Each repeat's result: rejected locally, pointing at its first occurrence (if known)."""
        for index, first in self.duplicates.items():
            original = results[first]
            if original is None:
                continue
            results[index] = MessageResult(
                index,
                self.inputs[index],
                self.numbers[index],
                False,
                error="duplicate",
                description=f"same number as to[{first}]; sent once",
                duplicate_of=first,
                raw=original.raw,
            )
