"""Sending one batch, in a pool thread: the request, and its outcome journalled row by row.

Every way a request can end becomes a status for each of its rows, never an exception, so one
bad request cannot stop a campaign; only the reader decides what happens next (the stop rule).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
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
    "BatchOutcome",
    "BatchSender",
    "MessageSender",
    "not_sent_reason",
]

logger = logging.getLogger("clickatell_sms.bulk")

ACCOUNT_ERROR_CODES: Final = error_codes_of_kind("auth", "account", "credit")
"""Errors that will repeat for every request until someone fixes the account or the key: the
spec's codes of kind auth (authentication failed, IP lockdown, bad API key), account (account
or integration not active) and credit (no credit left)."""


class MessageSender(Protocol):
    """What the engine needs of a client: its settings and one send of up to 200 numbers.

    `Client` is one; the engine depends on this and not on `Client`, so it can drive any
    sender with the same results and errors (and the client can import the engine).
    """

    @property
    def config(self) -> ClientConfig: ...

    @property
    def send(self) -> Callable[..., SendResult]:
        """`send(numbers, content, **options)`, with `Client.send`'s options and errors."""
        ...


class BatchOutcome(NamedTuple):
    """What a sending thread reports back about one batch (already journalled)."""

    batch: Batch
    rows: list[Row]
    account_error: str | None  # why the batch counts towards the stop rule, if it does
    accepted: bool  # at least one recipient accepted
    sent: bool  # a request was made
    unknown: bool  # the request's outcome is unknown
    journal_failure: JournalWriteError | None = None  # the journal could not be written


class BatchSender:
    """Sends batches for one run, from any number of pool threads at once.

    It shares only the client (thread-safe), the journal (its own lock), the rate limiter and
    the stop event; `summary` is only read, for the reason the run stopped.
    """

    def __init__(
        self,
        client: MessageSender,
        journal: JournalStore,
        *,
        send_options: dict[str, Any],
        limiter: Limiter | None,
        stop: threading.Event,
        summary: BulkSummary,
    ) -> None:
        self._client = client
        self._journal = journal
        self._send_options = send_options
        # The HTTP integration's GET send cannot carry a clientMessageId; the batch's ID then
        # stays in the journal only, and reconciling unknown outcomes needs the journal.
        integration = send_options.get("integration", client.config.integration)
        self._ids_on_the_wire = integration != "http"
        self._limiter = limiter
        self._stop = stop
        self._summary = summary

    def send(self, batch: Batch) -> BatchOutcome:
        """Send one batch and journal its outcome; API failures become statuses, never raise.

        A journal that cannot be written is never raised either: the batch is not sent if it
        could not be marked `sending` (it stays `pending`, so a resume sends it), and its true
        outcome is reported if only the outcome could not be written (it stays `sending`, so a
        resume reports it unknown). Either way the outcome carries the failure, and the reader
        stops the run.
        """
        rows = batch.rows
        limiter = self._limiter
        if self._stop.is_set() or (
            limiter is not None and not limiter.acquire(len(rows), self._stop)
        ):
            reason = not_sent_reason(self._summary.stopped)
            return self._all(batch, "failed", "failed", None, "not sent", reason, sent=False)
        try:
            self._journal.mark_sending(batch.id)
        except JournalWriteError as exc:
            final = [m.settled("failed", None, None, "not sent", str(exc)) for m in rows]
            return BatchOutcome(batch, final, None, False, False, False, exc)
        return self._request(batch)

    def _request(self, batch: Batch) -> BatchOutcome:
        rows = batch.rows
        try:
            result = self._client.send(
                [m.number for m in rows],
                batch.content,
                client_message_id=batch.client_message_id if self._ids_on_the_wire else None,
                **self._send_options,
            )
        except OutcomeUnknownError as exc:
            return self._all(batch, "unknown", "unknown", None, "outcome unknown", str(exc))
        except TransportError as exc:
            return self._all(batch, "failed", "failed", None, "not sent", str(exc))
        except APIError as exc:
            if isinstance(exc, RateLimitError) or exc.status in (429, 503):
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
        except ValidationError as exc:  # refused before any request was made
            return self._all(batch, "failed", "failed", None, "invalid", str(exc), sent=False)
        except ClickatellError as exc:
            return self._all(batch, "failed", "failed", None, "not sent", str(exc))
        except Exception as exc:  # a bug: the request may or may not have gone out
            logger.exception("unexpected error sending batch %s", batch.client_message_id)
            return self._all(batch, "unknown", "unknown", None, "outcome unknown", repr(exc))
        if len(result) != len(rows):  # never expected; unsafe to guess which row is which
            problem = f"the answer had {len(result)} results for {len(rows)} recipients"
            return self._all(batch, "unknown", "unknown", None, "outcome unknown", problem)
        final: list[Row] = []
        accepted = False
        account_error = None
        for member, message in zip(rows, result, strict=True):
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


def not_sent_reason(stopped: str | None) -> str:
    """The description of a row not sent because the run stopped (`stopped`: why, if known)."""
    return f"not sent: {stopped or 'the run stopped'}"


def _describe(code: int | None, text: str) -> str:
    return f"error {code}: {text}" if code is not None else text
