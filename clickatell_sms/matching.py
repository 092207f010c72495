"""Which entry of an answer belongs to which recipient, and the results that follow from it.

A send's recipients are numbered by their position in the caller's `to`; a request carries some
of them (at most 200, repeats left out) and its answer has one entry per number. Each result is
put back at its recipient's position, so the caller gets one result per input, in input order,
whatever happened to the others. What cannot be matched is never guessed at.

An answer that does not add up is reported, never smoothed over: entries for numbers the
request did not carry, two recipients given the same apiMessageId, and a recipient accepted
without one each log a WARNING and become an `Anomaly` on the result (`SendResult.anomalies`,
and `MessageResult.anomaly` for the recipient concerned).
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Final, TypeVar

import msgspec

from .errors import ClickatellError, OutcomeUnknownError
from .numbers import find_duplicates
from .redact import mask_number, scrub
from .results import Anomaly, AnomalyKind, MessageResult, SendResult

if TYPE_CHECKING:
    from .options import Outgoing
    from .raw import RawResponse
    from .retry import RetryPolicy
    from .wire import Entry

__all__ = ["SendRequest", "SendRun", "match"]

_Call = TypeVar("_Call")

logger = logging.getLogger("clickatell_sms")
_TO: Final = operator.attrgetter("to")
_ID: Final = operator.attrgetter("api_message_id")


def match(
    entries: Sequence[Entry] | None, batch: list[str]
) -> tuple[Sequence[Entry | None], list[Entry]]:
    """The entry for each number of the request, in request order (None where there is none),
    and the entries that belong to no number of the request.

    The API answers in request order, so position decides, checked against the number each
    entry echoes. If the two disagree, entries are matched by number instead. A recipient left
    without an entry is never guessed at: it may have been sent, so its outcome is unknown.
    """
    if entries is None:
        entries = []
    if len(entries) == len(batch):
        echoed = list(map(_TO, entries))
        if echoed == batch or all(
            to is None or to.lstrip("+") == number for to, number in zip(echoed, batch, strict=True)
        ):
            return entries, []
    by_number: dict[str, Entry] = {}
    extra: list[Entry] = []
    wanted = set(batch)
    for entry in entries:
        to = None if entry.to is None else entry.to.lstrip("+")
        if to is None or to not in wanted or to in by_number:
            extra.append(entry)
        else:
            by_number[to] = entry
    return [by_number.get(number) for number in batch], extra


class SendRequest(msgspec.Struct, frozen=True, gc=False):
    """One request of a send: the checked message, its recipients and how it travels.

    `numbers` are this request's recipients (normalised, repeats left out) and `indexes` their
    positions in the caller's list; `position` is `(this request's number, how many the send
    needs)`, for messages. `timeout` (connect, read), `total_timeout` (the request's deadline,
    in seconds), `retry` and `headers` are the call's.
    """

    message: Outgoing
    numbers: list[str]
    indexes: list[int] | range
    position: tuple[int, int]
    headers: Mapping[str, str] | None
    timeout: tuple[float, float]
    total_timeout: float
    retry: RetryPolicy
    http: bool


class SendRun:
    """One send: its requests, and its results as they are answered, one slot per input,
    filled in input order.

    `order` lists the inputs that go out (first occurrences); repeats are answered locally at
    the end, pointing at their first occurrence. `requests` are made from it by the client. The
    clients' loops run each request's call (awaited or not), place its answer here, and on an
    error or a stop call `stopped`, so what a send leaves behind is decided once for both.
    """

    __slots__ = (
        "_anomalies",
        "_ids",
        "_key",
        "_log_numbers",
        "_out",
        "_raws",
        "_results",
        "duplicates",
        "inputs",
        "numbers",
        "opted_out",
        "order",
        "reference",
        "requests",
    )

    def __init__(
        self,
        inputs: list[str],
        numbers: list[str],
        reference: str | None,
        key: str,
        log_numbers: bool = False,
    ) -> None:
        self.inputs = inputs
        self.numbers = numbers
        self.reference = reference
        self._key = key
        count = len(numbers)
        self.order: list[int] | range
        if count > 1 and len(set(numbers)) != count:  # repeats: each sent once
            self.duplicates = duplicates = find_duplicates(numbers)
            self.order = [i for i in range(count) if i not in duplicates]
        else:
            self.duplicates = {}
            self.order = range(count)
        self._results: list[MessageResult | None] = [None] * count
        self.opted_out = 0
        self._raws: list[RawResponse] = []
        self._anomalies: list[Anomaly] = []
        self._ids: dict[str, int] = {}  # apiMessageId -> index of its first recipient
        self._log_numbers = log_numbers
        self.requests: Iterable[SendRequest] = ()
        self._out: SendRequest | None = None  # the request handed out and not yet placed

    def calls(self, make: Callable[[SendRequest], _Call]) -> Iterator[_Call]:
        """Each request's call (`make`: the exchange's `send_call`), in order; the request is
        out from here until placed."""
        for request in self.requests:
            self._out = request
            yield make(request)

    def skip_opted_out(self, found: Mapping[str, str]) -> None:
        """Leave out of `order` the inputs whose number opted out (`found`: number -> why),
        each rejected here with `error="opted out"`, as its repeats will be."""
        if not found:
            return
        numbers, results = self.numbers, self._results
        keep = []
        for index in self.order:
            why = found.get(numbers[index])
            if why is None:
                keep.append(index)
                continue
            self.opted_out += 1
            results[index] = MessageResult(
                index, self.inputs[index], numbers[index], False, error="opted out", description=why
            )
        self.order = keep

    def place(self, answer: tuple[RawResponse, Sequence[Entry] | None]) -> None:
        """Put each recipient's result at its index, from the answer to the request just
        handed out by `calls`.

        Raises `OutcomeUnknownError` for the recipients the answer has no entry for, after
        placing the others (which `partial()` then includes).
        """
        request = self._out
        assert request is not None  # handed out by calls()
        self._out = None
        raw, entries = answer  # (not `*answer`: a call with a star is not inlined)
        self._raws.append(raw)
        batch = request.numbers
        # As the API answers: one entry per number, in request order, each echoing its number
        # as sent (checked in C); anything else is matched by `match`.
        if entries is not None and list(map(_TO, entries)) == batch:
            matched: Sequence[Entry | None] = entries
            extra = None
        else:
            matched, extra = match(entries, batch)
        inputs, numbers, results = self.inputs, self.numbers, self._results
        missing: list[str] = []
        all_ids = True  # every entry has an apiMessageId (the usual answer)
        # Not strict: `matched` has one item per number by construction, and the keyword is
        # parsed anew on every call.
        for index, entry in zip(request.indexes, matched):  # noqa: B905
            if entry is None:
                missing.append(numbers[index])
                continue
            accepted, api_message_id, error = entry.accepted, entry.api_message_id, entry.error
            code = entry.error_code
            if not api_message_id:
                all_ids = False
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
                entry.error_description,
                None,
                raw,
            )
        # One entry with an ID, in a send of one request: no ID to share, nothing to check.
        if missing or not all_ids or len(matched) > 1 or request.position[1] > 1:
            self._check_ids(request, matched, all_ids and not missing)
        if extra:
            self._unexpected(extra, request)
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

    def stopped(self, stop: BaseException) -> None:
        """Attach to `stop` what the send leaves: an error gets the results known so far
        (`partial`); Ctrl-C or a cancelled task gets `outcome_unknown`, an
        `OutcomeUnknownError` with the recipients of the request that was out (none between
        requests) and the results known so far, as the CLI's do-not-resend notice reads it."""
        if isinstance(stop, ClickatellError):
            stop.partial = self.partial()
        elif not isinstance(stop, Exception):  # KeyboardInterrupt, asyncio.CancelledError
            stop.outcome_unknown = self.interrupted(self._out)  # type: ignore[attr-defined]

    def interrupted(self, request: SendRequest | None) -> OutcomeUnknownError:
        """What a send stopped by Ctrl-C or a cancellation leaves: `request` (the one that was
        out, if any) may have reached the API, so its unanswered recipients' outcome is unknown;
        the results known so far are the error's `partial`."""
        unknown = [] if request is None else self._unanswered(request)
        if unknown:
            assert request is not None
            position = request.position
            message = (
                f"interrupted while request {position[0]} of {position[1]} was out; its"
                f" {len(unknown)} recipients may have been sent; not resent"
            )
        else:
            message = "interrupted while no request was out; nothing else was sent"
        error = OutcomeUnknownError(message, recipients=unknown, client_message_id=self.reference)
        error.partial = self.partial()
        return error

    def _unanswered(self, request: SendRequest) -> list[str]:
        results, numbers = self._results, self.numbers
        return [numbers[index] for index in request.indexes if results[index] is None]

    def result(self) -> SendResult:
        """Every input's result (all requests answered)."""
        if self.duplicates:
            self._fill_duplicates(self._results)
        return SendResult(
            self._results,  # type: ignore[arg-type]  # every slot filled by now
            self._raws,
            self.reference,
            self._anomalies,
        )

    def partial(self) -> SendResult | None:
        """The results known so far (a subset, in input order), or None if none are."""
        done = list(self._results)
        if all(result is None for result in done):
            return None
        self._fill_duplicates(done)
        return SendResult(
            [r for r in done if r is not None], self._raws, self.reference, self._anomalies
        )

    # -- anomalies ----------------------------------------------------------------------------

    def _check_ids(
        self, request: SendRequest, matched: Sequence[Entry | None], all_ids: bool
    ) -> None:
        """Flag recipients accepted without an apiMessageId, or given one already given: in
        one pass of set operations when, as usual, there is neither. `all_ids`: every
        recipient has an entry, and every entry an apiMessageId."""
        seen = self._ids
        if all_ids:
            ids = list(map(_ID, matched))
            if len(set(ids)) == len(ids):  # each its own
                if request.position[1] == 1:
                    return  # one request: no earlier answer to share an ID with
                if seen.keys().isdisjoint(ids):
                    seen.update(zip(ids, request.indexes, strict=True))
                    return
        results = self._results
        for index, entry in zip(request.indexes, matched, strict=True):
            result = results[index]
            if entry is None or result is None:
                continue
            api_message_id = entry.api_message_id
            anomaly: AnomalyKind | None = None
            if api_message_id:
                first = seen.setdefault(api_message_id, index)
                if first != index:
                    anomaly = self._duplicate_id(index, first, api_message_id)
            elif result.accepted:
                anomaly = self._untracked(index)
            if anomaly is not None:
                results[index] = msgspec.structs.replace(result, anomaly=anomaly)

    def _shown(self, number: str) -> str:
        return mask_number(number, show=self._log_numbers)

    def _untracked(self, index: int) -> AnomalyKind:
        anomaly = Anomaly(
            "accepted-without-id",
            "accepted, but the answer gave no apiMessageId: its delivery cannot be tracked",
            index,
            self.numbers[index],
        )
        self._anomalies.append(anomaly)
        logger.warning(
            "answer anomaly: to[%d] (%s) was accepted without an apiMessageId; counted as"
            " accepted (it may be delivered), but it cannot be tracked",
            index,
            self._shown(self.numbers[index]),
        )
        return anomaly.kind

    def _duplicate_id(self, index: int, first: int, api_message_id: str) -> AnomalyKind:
        anomaly = Anomaly(
            "duplicate-id",
            f"the answer gave to[{first}] the same apiMessageId",
            index,
            self.numbers[index],
        )
        self._anomalies.append(anomaly)
        logger.warning(
            "answer anomaly: to[%d] (%s) and to[%d] (%s) were given the same apiMessageId %r",
            first,
            self._shown(self.numbers[first]),
            index,
            self._shown(self.numbers[index]),
            api_message_id,
        )
        return anomaly.kind

    def _unexpected(self, entries: Sequence[Entry], request: SendRequest) -> None:
        for entry in entries:
            to = entry.to
            self._anomalies.append(
                Anomaly(
                    "unexpected-entry",
                    f"the answer has an entry for {'no number' if to is None else to}, which"
                    f" request {request.position[0]} did not carry (accepted={entry.accepted},"
                    f" apiMessageId={entry.api_message_id!r})",
                    None,
                    to,
                )
            )
        shown = ", ".join("?" if e.to is None else self._shown(e.to) for e in entries[:5])
        logger.warning(
            "answer anomaly: the answer to request %d of %d has %d entr%s for numbers it did not"
            " carry (%s); ignored",
            *request.position,
            len(entries),
            "y" if len(entries) == 1 else "ies",
            shown,
        )

    def _fill_duplicates(self, results: list[MessageResult | None]) -> None:
        """Each repeat's result: rejected locally, pointing at its first occurrence (if known)."""
        for index, first in self.duplicates.items():
            original = results[first]
            if original is None:
                continue
            if original.error == "opted out":
                results[index] = msgspec.structs.replace(
                    original, index=index, to=self.inputs[index]
                )
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
