"""When a send is tried again, and when it never is.

`POST /messages` is not idempotent: a copy that reached Clickatell and is sent again reaches every
handset twice and is charged twice. So the policy retries only what provably did not arrive:

===========================================  =============  ====================================
What happened                                Retried?       If it still fails
===========================================  =============  ====================================
Connection refused, DNS failure              yes (backoff)  `ConnectionError`
Connect timeout (no TCP connection)          yes (backoff)  `TimeoutError`
HTTP 429 (Retry-After honoured up to a cap)  yes            `RateLimitError` with `retry_after`
HTTP 503 (Retry-After honoured up to a cap)  yes            `APIError` (status 503)
Retry-After longer than `retry_after_max`    no             `RateLimitError` / `APIError` at once
Read timeout after the request was written   never          `OutcomeUnknownError`
Connection dropped after it was written      never          `OutcomeUnknownError`
TLS or any other failure                     never          `ConnectionError` / outcome unknown
===========================================  =============  ====================================

A keep-alive connection that the server closed while it sat in the pool is not a retry case:
the transports test every pooled connection before reusing it and open a new one when the peer
has gone, so that case never reaches the policy. What does reach it, a peer that closes *after*
our request bytes were written, looks exactly like a server that read the request, acted on it
and then died; the two cannot be told apart from the client, so both are reported as outcome
unknown and never resent.

Every request has a deadline (`ClientConfig.total_timeout`): a wait that would pass it is not
waited, and the last answer or failure is reported at once (a 429's `retry_after` still says
how long the server asked for).

The policy is applied by the client's own loop, the same for the urllib3 and the asyncio
transports (each makes one attempt per call): `RetryState` decides after each attempt whether to
try again and after how long, and logs every decision (with its reason) at DEBUG. Its backoff
starts at the first retry (a 429 without Retry-After is not answered with an immediate retry).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from clickatell_wire.http_types import RequestFailed

__all__ = ["RETRY_STATUSES", "RetryPolicy", "RetryState", "parse_retry_after"]

logger = logging.getLogger("clickatell_sms.retry")

RETRY_STATUSES: Final = frozenset({429, 503})
"""Statuses that mean "not taken, try later": the request provably did not take effect."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often, and how patiently, a send that provably did not arrive is tried again.

    `max_retries` bounds the extra attempts per request (0 turns retrying off). The wait before
    retry *n* (from 1) is `min(backoff_max, backoff_factor * 2 ** (n - 1))`, shortened by a random
    fraction of up to `backoff_jitter` so that many clients do not retry in lock-step. A server's
    Retry-After replaces that wait, unless it is longer than `retry_after_max`: then the SDK does
    not sleep at all and raises at once, with the server's wait in `RateLimitError.retry_after`.
    """

    max_retries: int = 2
    backoff_factor: float = 0.5
    backoff_max: float = 8.0
    backoff_jitter: float = 0.25
    retry_after_max: float = 60.0

    def __post_init__(self) -> None:
        # Imported here: errors -> results -> ... must not be needed to build a policy.
        from .errors import ValidationError

        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise ValidationError("max_retries", "must be an int", self.max_retries)
        if self.max_retries < 0:
            raise ValidationError("max_retries", "must not be negative", self.max_retries)
        for name in ("backoff_factor", "backoff_max", "retry_after_max"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 0:
                raise ValidationError(name, "must be a number of seconds >= 0", value)
        if not 0 <= self.backoff_jitter <= 1:
            raise ValidationError("backoff_jitter", "must be a fraction from 0 to 1")

    @classmethod
    def coerce(cls, value: RetryPolicy | int | None) -> RetryPolicy:
        """A policy from a policy, a number of retries, or None (the default policy)."""
        if value is None:
            return _DEFAULT
        if isinstance(value, RetryPolicy):
            return value
        return cls(max_retries=value)

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (from 1) when the server names none."""
        if retry < 1 or self.backoff_factor <= 0:
            return 0.0
        delay = min(self.backoff_max, self.backoff_factor * 2 ** (retry - 1))
        return float(delay * (1 - self.backoff_jitter * random.random()))


_DEFAULT: Final = RetryPolicy()


class RetryState:
    """One request's retries: after each attempt, whether to try again and after how long.

    `idempotent` requests (the look-ups) are also retried after failures that may have reached
    the server; a send never is. Every wait must end before `deadline` (`time.monotonic()`).
    """

    __slots__ = ("_deadline", "_idempotent", "_policy", "retries")

    def __init__(self, policy: RetryPolicy, deadline: float, *, idempotent: bool) -> None:
        self._policy = policy
        self._deadline = deadline
        self._idempotent = idempotent
        self.retries = 0

    def after_status(self, status: int, retry_after: str | None) -> float | None:
        """Seconds to wait before trying again after an answer, or None: it is final."""
        if status not in RETRY_STATUSES:
            return None
        hint = f", Retry-After {retry_after!r}" if retry_after else ""
        reason = f"HTTP {status}{hint}; the request was not taken"
        wait = parse_retry_after(retry_after)
        cap = self._policy.retry_after_max
        if wait is not None and wait > cap:
            logger.debug(
                "not retrying: HTTP %s asks to wait %.0f s, more than the %.0f s cap",
                status,
                wait,
                cap,
            )
            return None
        return self._next(reason, wait or None)

    def after_failure(self, failure: RequestFailed) -> float | None:
        """Seconds to wait before trying again after an attempt without an answer, or None."""
        if failure.kind == "tls" or (failure.kind == "unknown" and not self._idempotent):
            logger.debug("not retrying (attempt %d): %s", self.retries + 1, failure.reason)
            return None
        return self._next(failure.reason, None)

    def _next(self, reason: str, server_wait: float | None) -> float | None:
        policy = self._policy
        if self.retries >= policy.max_retries:
            logger.debug("not retrying (attempt %d): %s", self.retries + 1, reason)
            return None
        wait = server_wait if server_wait is not None else policy.backoff(self.retries + 1)
        left = self._deadline - time.monotonic()
        if wait >= left:
            logger.debug(
                "not retrying (attempt %d): %s; waiting %.2f s would pass the deadline"
                " (%.2f s left)",
                self.retries + 1,
                reason,
                wait,
                max(left, 0.0),
            )
            return None
        self.retries += 1
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("retrying (retry %d of %d): %s", self.retries, policy.max_retries, reason)
            if server_wait is not None:
                logger.debug("waiting %.2f s as the server's Retry-After asks", wait)
            elif wait > 0:
                logger.debug("backing off %.2f s before the retry", wait)
        return wait


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    from email.utils import parsedate_to_datetime  # milliseconds: only a Retry-After date needs it

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when.timestamp() - time.time())
