"""Sending one batch: the engines' interface (`BatchPool`, where batches are sent), what
becomes of a batch (`BatchBook`), and the threaded engine's sender.

Every way a request can end becomes a status for each of its rows, never an exception, so one
bad request cannot stop a campaign; only the reader decides what happens next (the stop rule).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Protocol

from clickatell_wire.tables import error_codes_of_kind

from ..errors import (
    APIError,
    AuthenticationError,
    ClickatellError,
    OutcomeUnknownError,
    RateLimitError,
    TransportError,
    ValidationError,
)
from ._batches import Batch
from ._rate_limit import Limiter
from ._records import BulkSummary
from .journal import BatchState, JournalStore, JournalWriteError, Row, RowStatus

if TYPE_CHECKING:
    from ..config import ClientConfig
    from ..results import SendResult

__all__ = [
    "ACCOUNT_ERROR_CODES",
    "BatchBook",
    "BatchOutcome",
    "BatchPool",
    "BatchSender",
    "Configured",
    "MessageSender",
    "not_sent_reason",
]

logger = logging.getLogger("clickatell_sms.bulk")

ACCOUNT_ERROR_CODES: Final = error_codes_of_kind("auth", "account", "credit")
"""Errors that will repeat for every request until someone fixes the account or the key: the
spec's codes of kind auth (authentication failed, IP lockdown, bad API key), account (account
or integration not active) and credit (no credit left)."""


class Configured(Protocol):
    """What a run reads of a client: its settings (region, format, integration, connections)."""

    @property
    def config(self) -> ClientConfig: ...


class MessageSender(Configured, Protocol):
    """What the threaded engine needs of a client: its settings and one send of up to 200
    numbers.

    `Client` is one; the engine depends on this and not on `Client`, so it can drive any
    sender with the same results and errors (and the client can import the engine).
    """

    @property
    def send(self) -> Callable[..., SendResult]:
        """`send(numbers, content, **options)`, with `Client.send`'s options and errors."""
        ...


class BatchOutcome(NamedTuple):
    """What a sender reports back about one batch (already journalled)."""

    batch: Batch
    rows: list[Row]
    account_error: str | None  # why the batch counts towards the stop rule, if it does
    accepted: bool  # at least one recipient accepted
    sent: bool  # a request was made
    unknown: bool  # the request's outcome is unknown
    journal_failure: JournalWriteError | None = None  # the journal could not be written


class BatchPool(Protocol):
    """Where a run's batches are sent while its reader goes on: the threaded engine's threads,
    the asyncio engine's tasks on the caller's loop, the dry run's checks. Each batch is sent
    and journalled there (by a sender and its `BatchBook`); its outcome comes back to the
    reader through the future, never as an exception for what the API or the network did."""

    def submit(self, batch: Batch) -> Future[BatchOutcome]:
        """Send `batch` once there is room; its outcome, journalled, through the future."""
        ...

    def cancel(self) -> None:
        """Cut short the batches in flight, if the pool can (a cut request is journalled
        unknown); the run's stop keeps the others from sending."""
        ...

    def close(self) -> None:
        """Release what the pool holds; every batch submitted has been awaited."""
        ...


class BatchBook:
    """What becomes of one batch, without sending it: the request's arguments, the journal's
    steps (sending, then the outcome) and each row's status for every way a request can end.

    The threaded and the asyncio senders make the request, blocking or awaited, and hand its
    result or error here, so both engines book a batch the same way. Safe from any number of
    threads: it shares only the journal (its own lock), the stop event and the summary (read
    for why the run stopped).
    """

    def __init__(
        self,
        journal: JournalStore,
        *,
        send_options: dict[str, Any],
        config: ClientConfig,
        stop: threading.Event,
        summary: BulkSummary,
    ) -> None:
        self._journal = journal
        self._send_options = send_options
        # The HTTP integration's GET send cannot carry a clientMessageId; the batch's ID then
        # stays in the journal only, and reconciling unknown outcomes needs the journal.
        integration = send_options.get("integration", config.integration)
        self._ids_on_the_wire = integration != "http"
        self.stop = stop
        self._summary = summary

    def request(self, batch: Batch) -> tuple[list[str], str, dict[str, Any]]:
        """The send's arguments for the batch: numbers, content and options."""
        options = dict(self._send_options)
        options["client_message_id"] = batch.client_message_id if self._ids_on_the_wire else None
        return [m.number for m in batch.rows], batch.content, options

    def not_sent(self, batch: Batch) -> BatchOutcome:
        """The run stopped before the batch's request: every row failed, not sent (the batch
        stays pending in the journal, so a resume sends it)."""
        reason = not_sent_reason(self._summary.stopped)
        return self._all(batch, "failed", "failed", None, "not sent", reason, sent=False)

    def start(self, batch: Batch) -> BatchOutcome | None:
        """Journal the batch as sending, before its request exists; when that write fails,
        the outcome of a batch not sent (it stays pending, so a resume sends it), and the
        reader stops the run."""
        try:
            self._journal.mark_sending(batch.id)
        except JournalWriteError as exc:
            final = [m.settled("failed", None, None, "not sent", str(exc)) for m in batch.rows]
            return BatchOutcome(batch, final, None, False, False, False, exc)
        return None

    def settle(self, batch: Batch, outcome: SendResult | Exception) -> BatchOutcome:
        """Rows and journal for what the batch's send returned or raised: API failures
        become statuses, never exceptions. A journal that cannot take the outcome is reported
        in it (the batch stays sending, so a resume reports it unknown)."""
        if isinstance(outcome, Exception):
            return self._failed(batch, outcome)
        rows = batch.rows
        if len(outcome) != len(rows):  # never expected; unsafe to guess which row is which
            problem = f"the answer had {len(outcome)} results for {len(rows)} recipients"
            return self._all(batch, "unknown", "unknown", None, "outcome unknown", problem)
        final: list[Row] = []
        accepted = False
        account_error = None
        for member, message in zip(rows, outcome, strict=True):
            if message.accepted:
                accepted = True
                final.append(member.settled("accepted", message.api_message_id))
                continue
            code = message.error_code
            if code in ACCOUNT_ERROR_CODES and account_error is None:
                account_error = _describe(code, message.error or message.description or "")
            final.append(
                member.settled(
                    "rejected", None, code, message.error or "rejected", message.description
                )
            )
        failure = self._finish(batch, "answered", final)
        return BatchOutcome(
            batch, final, None if accepted else account_error, accepted, True, False, failure
        )

    def _failed(self, batch: Batch, exc: Exception) -> BatchOutcome:
        if isinstance(exc, OutcomeUnknownError):
            return self._all(batch, "unknown", "unknown", None, "outcome unknown", str(exc))
        if isinstance(exc, TransportError):
            return self._all(batch, "failed", "failed", None, "not sent", str(exc))
        if isinstance(exc, APIError):
            return self._refused(batch, exc)
        if isinstance(exc, ValidationError):  # refused before any request was made
            return self._all(batch, "failed", "failed", None, "invalid", str(exc), sent=False)
        if isinstance(exc, ClickatellError):
            return self._all(batch, "failed", "failed", None, "not sent", str(exc))
        # A bug: the request may or may not have gone out.
        logger.error("unexpected error sending batch %s", batch.client_message_id, exc_info=exc)
        return self._all(batch, "unknown", "unknown", None, "outcome unknown", repr(exc))

    def _refused(self, batch: Batch, exc: APIError) -> BatchOutcome:
        if isinstance(exc, RateLimitError) or exc.status in (
            HTTPStatus.TOO_MANY_REQUESTS,
            HTTPStatus.SERVICE_UNAVAILABLE,
        ):
            return self._all(batch, "failed", "failed", exc.error_code, "not sent", str(exc))
        account = None
        if isinstance(exc, AuthenticationError) or exc.error_code in ACCOUNT_ERROR_CODES:
            account = _describe(exc.error_code, exc.error or str(exc))
        return self._all(
            batch,
            "refused",
            "rejected",
            exc.error_code,
            exc.error or "refused",
            exc.description or str(exc),
            account_error=account,
        )

    def _all(
        self,
        batch: Batch,
        state: BatchState,
        status: RowStatus,
        error_code: int | None,
        error: str,
        description: str,
        *,
        sent: bool = True,
        account_error: str | None = None,
    ) -> BatchOutcome:
        """Every row of the batch ends in the same status: journal it and report it."""
        final = [m.settled(status, None, error_code, error, description) for m in batch.rows]
        failure = self._finish(batch, state, final, error_code=error_code, error=description)
        return BatchOutcome(batch, final, account_error, False, sent, status == "unknown", failure)

    def _finish(
        self,
        batch: Batch,
        state: BatchState,
        rows: list[Row],
        *,
        error_code: int | None = None,
        error: str | None = None,
    ) -> JournalWriteError | None:
        try:
            self._journal.finish(batch.id, state, rows, error_code=error_code, error=error)
        except JournalWriteError as exc:
            logger.debug("bulk: %s", exc)
            return exc
        return None


class BatchSender:
    """The threaded engine's sender: one batch per pool thread, blocking on `Client.send`
    (thread-safe), then booked by the run's `BatchBook`."""

    def __init__(self, client: MessageSender, book: BatchBook, limiter: Limiter | None) -> None:
        self._client = client
        self._book = book
        self._limiter = limiter

    def send(self, batch: Batch) -> BatchOutcome:
        """Send one batch and journal its outcome; API failures become statuses, never raise.

        A journal that cannot be written is never raised either (see `BatchBook`): either way
        the outcome carries the failure, and the reader stops the run.
        """
        book, limiter = self._book, self._limiter
        if book.stop.is_set() or (
            limiter is not None and not limiter.acquire(len(batch.rows), book.stop)
        ):
            return book.not_sent(batch)
        failed = book.start(batch)
        if failed is not None:
            return failed
        numbers, content, options = book.request(batch)
        try:
            result = self._client.send(numbers, content, **options)
        except Exception as exc:  # booked as a status: one bad request never stops a campaign
            return book.settle(batch, exc)
        return book.settle(batch, result)


def not_sent_reason(stopped: str | None) -> str:
    """The description of a row not sent because the run stopped (`stopped`: why, if known)."""
    return f"not sent: {stopped or 'the run stopped'}"


def _describe(code: int | None, text: str) -> str:
    return f"error {code}: {text}" if code is not None else text
