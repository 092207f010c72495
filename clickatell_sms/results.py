"""What the client returns: a send's result per recipient, a balance, a message's status.

Results are msgspec Structs: immutable, cheap to build (a send to 200 recipients builds 200 of
them) and serialisable with `msgspec.json.encode`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Literal, TypeAlias, overload

import msgspec

from .raw import RawResponse
from .statuses import MessageStatus

__all__ = ["Anomaly", "AnomalyKind", "Balance", "MessageResult", "SendResult", "StatusResult"]

AnomalyKind: TypeAlias = Literal["accepted-without-id", "duplicate-id", "unexpected-entry"]
"""What was odd about an answer:

* "accepted-without-id": a recipient accepted with no apiMessageId. It still counts as accepted
  (the API said it took the message; calling it rejected would invite a resend, so a second
  SMS), but nothing can track it: no status look-up, no callback to match.
* "duplicate-id": a recipient given the apiMessageId of another recipient of the same send.
* "unexpected-entry": an entry for a number the request did not carry; it belongs to no
  recipient and is not in the results.
"""


class Anomaly(msgspec.Struct, frozen=True, gc=False):
    """An answer that did not add up (also logged at WARNING when it arrived).

    `index` is the recipient's position in `to` (None for an unexpected entry), `number` the
    number concerned, `description` what was wrong.
    """

    kind: AnomalyKind
    description: str
    index: int | None = None
    number: str | None = None


class MessageResult(msgspec.Struct, frozen=True, gc=False, repr_omit_defaults=True):
    """The outcome for one recipient.

    `index` is its position in the `to` the caller gave, `to` the text given there and `number`
    the normalised digits that were sent. Either `accepted` is true and `api_message_id` is the
    ID that callbacks and status look-ups use, or it was rejected, with the API's `error_code`,
    `error` and `description` (any of which older API versions may leave out). A repeated number
    is sent once: its later occurrences are rejected here, locally, with `error="duplicate"` and
    `duplicate_of` pointing at the first. `raw` is the HTTP answer that carried this result.
    `anomaly` is set when the answer about this recipient did not add up (`AnomalyKind`:
    accepted without an apiMessageId, or one shared with another recipient).
    """

    index: int
    to: str
    number: str
    accepted: bool
    api_message_id: str | None = None
    error_code: int | None = None
    error: str | None = None
    description: str | None = None
    duplicate_of: int | None = None
    raw: RawResponse | None = None
    anomaly: AnomalyKind | None = None

    def __repr__(self) -> str:
        # Without `raw`: the same answer is shared by up to 200 results and would flood a log.
        head = f"MessageResult(index={self.index}, number={self.number!r}"
        if self.accepted:
            odd = f", anomaly={self.anomaly!r}" if self.anomaly else ""
            return f"{head}, accepted=True, api_message_id={self.api_message_id!r}{odd})"
        tail = "".join(
            f", {name}={value!r}"
            for name, value in (
                ("error_code", self.error_code),
                ("error", self.error),
                ("description", self.description),
                ("duplicate_of", self.duplicate_of),
                ("anomaly", self.anomaly),
            )
            if value is not None
        )
        return f"{head}, accepted=False{tail})"


class SendResult(Sequence[MessageResult]):
    """Each recipient's result in input order, and the raw answers of the requests behind them.

    A send to more than 200 numbers takes several requests; `raw_responses` has one entry per
    request, in the order they were sent. `anomalies` lists what did not add up in the answers
    (see `Anomaly`); `has_anomalies` is the flag to check.
    """

    __slots__ = ("_results", "anomalies", "client_message_id", "raw_responses")

    def __init__(
        self,
        results: list[MessageResult],
        raw_responses: Sequence[RawResponse] = (),
        client_message_id: str | None = None,
        anomalies: Iterable[Anomaly] = (),
    ) -> None:
        self._results = results
        self.raw_responses: tuple[RawResponse, ...] = tuple(raw_responses)
        self.client_message_id = client_message_id
        self.anomalies: tuple[Anomaly, ...] = tuple(anomalies)

    @property
    def has_anomalies(self) -> bool:
        """True when an answer did not add up; `anomalies` says how."""
        return bool(self.anomalies)

    @overload
    def __getitem__(self, index: int) -> MessageResult: ...
    @overload
    def __getitem__(self, index: slice) -> list[MessageResult]: ...
    def __getitem__(self, index: int | slice) -> MessageResult | list[MessageResult]:
        return self._results[index]

    def __len__(self) -> int:
        return len(self._results)

    def __iter__(self) -> Iterator[MessageResult]:
        return iter(self._results)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SendResult):
            return self._results == other._results
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    @property
    def accepted(self) -> list[MessageResult]:
        """The recipients the API took, in input order."""
        return [result for result in self._results if result.accepted]

    @property
    def rejected(self) -> list[MessageResult]:
        """The recipients refused, by the API or locally as duplicates, in input order."""
        return [result for result in self._results if not result.accepted]

    @property
    def all_accepted(self) -> bool:
        """True when every recipient was accepted."""
        return all(result.accepted for result in self._results)

    def __repr__(self) -> str:
        accepted = sum(1 for result in self._results if result.accepted)
        odd = f"; {len(self.anomalies)} anomalies" if self.anomalies else ""
        return (
            f"SendResult({len(self._results)} recipients: {accepted} accepted,"
            f" {len(self._results) - accepted} rejected; {len(self.raw_responses)} requests{odd})"
        )


class Balance(msgspec.Struct, frozen=True):
    """The account's balance: `amount` in `currency` (the account's billing currency, ISO 4217).

    `amount` is a Decimal read from the digits of the answer, never through a float, so
    `1267.92865` stays exactly that and sums of charges add up to the cent (and below: the API
    reports fractions of a cent). `raw` is the HTTP answer.
    """

    amount: Decimal
    currency: str
    raw: RawResponse | None = None

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def __repr__(self) -> str:
        return f"Balance(amount={self.amount!r}, currency={self.currency!r})"


class StatusResult(msgspec.Struct, frozen=True):
    """The latest status of one sent message, from a status look-up.

    The same names as a `StatusCallback`, so code that keeps the latest status can take either:
    `status` is a `MessageStatus` (`code`, `name`, `description`, `is_final`, `is_success`,
    `is_failure`), with unknown codes and names kept as the API sent them; `timestamp` is when
    it last changed, as an aware UTC datetime (None when the API did not say). `raw` is the
    HTTP answer.
    """

    api_message_id: str
    status: MessageStatus
    timestamp: datetime | None = None
    raw: RawResponse | None = None

    def __repr__(self) -> str:
        when = self.timestamp.isoformat() if self.timestamp is not None else None
        return (
            f"StatusResult(api_message_id={self.api_message_id!r}, status={self.status!r},"
            f" timestamp={when!r})"
        )
