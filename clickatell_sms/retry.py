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
urllib3 tests every pooled connection (`is_connection_dropped`) before reusing it and opens a new
one when the peer has gone, so that case never reaches the policy. What does reach it, a peer that
closes *after* our request bytes were written, looks exactly like a server that read the request,
acted on it and then died; the two cannot be told apart from the client, so both are reported as
outcome unknown and never resent.

Built on urllib3's `Retry`, subclassed for three reasons: to log every decision (with its reason)
at DEBUG, to refuse a Retry-After longer than the cap (urllib3 would sleep up to six hours), and
to back off from the first retry on (urllib3 retries the first failure immediately, which is the
wrong answer to a 429 that came without Retry-After).

urllib3 is imported on first use only, so that `RetryPolicy` (and `ClientConfig`) cost nothing to
import.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Literal, Self

if TYPE_CHECKING:
    from types import TracebackType

    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse
    from urllib3.util.retry import Retry

__all__ = ["RETRY_STATUSES", "FailureKind", "RetryPolicy", "classify_failure", "parse_retry_after"]

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

    def to_urllib3(self) -> Retry:
        """The urllib3 `Retry` enforcing this policy (immutable: safe to share across threads)."""
        return _retry_class()(
            total=self.max_retries,
            connect=self.max_retries,
            read=0,  # never resend after the request may have been written
            other=0,  # TLS and other failures: not provably unsent
            redirect=0,
            status=self.max_retries,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=None,  # POST included: only the statuses above are retried
            raise_on_status=False,  # hand the last 429/503 back, so it becomes a typed error
            raise_on_redirect=False,
            respect_retry_after_header=True,
            backoff_factor=self.backoff_factor,
            backoff_max=self.backoff_max,
            backoff_jitter=self.backoff_jitter,
            retry_after_max=int(self.retry_after_max) + 1,
            policy=self,
        )


_DEFAULT: Final = RetryPolicy()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when.timestamp() - time.time())


@cache
def _retry_class() -> Callable[..., Retry]:
    """urllib3's Retry with our logging, our backoff curve and a ceiling on Retry-After.

    Defined on first use, so that importing this module does not import urllib3.
    """
    from urllib3.exceptions import MaxRetryError
    from urllib3.util.retry import Retry

    class PolicyRetry(Retry):
        def __init__(self, *args: Any, policy: RetryPolicy | None = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.policy = policy or _DEFAULT

        def new(self, **kw: Any) -> Self:
            kw.setdefault("policy", self.policy)
            return super().new(**kw)

        def increment(
            self,
            method: str | None = None,
            url: str | None = None,
            response: BaseHTTPResponse | None = None,
            error: Exception | None = None,
            _pool: ConnectionPool | None = None,
            _stacktrace: TracebackType | None = None,
        ) -> Self:
            attempt = len(self.history) + 1
            if response is not None:
                wait = self.get_retry_after(response)
                if wait is not None and wait > self.policy.retry_after_max:
                    logger.debug(
                        "not retrying: HTTP %s asks to wait %.0f s, more than the %.0f s cap",
                        response.status,
                        wait,
                        self.policy.retry_after_max,
                    )
                    raise MaxRetryError(_pool, url or "", None)  # type: ignore[arg-type]
            try:
                new = super().increment(method, url, response, error, _pool, _stacktrace)
            except Exception:
                # Out of retries (MaxRetryError), or an error urllib3 refuses to count.
                if logger.isEnabledFor(logging.DEBUG):
                    reason = _reason(response, error)
                    logger.debug("not retrying (attempt %d): %s", attempt, reason)
                raise
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "retrying (retry %d of %s): %s",
                    attempt,
                    self.policy.max_retries,
                    _reason(response, error),
                )
            return new

        def get_backoff_time(self) -> float:
            retries = len(self.history)
            if retries == 0 or self.backoff_factor <= 0:
                return 0.0
            delay = min(self.backoff_max, self.backoff_factor * 2 ** (retries - 1))
            return float(delay * (1 - self.backoff_jitter * random.random()))

        def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
            # A malformed header must not turn into an exception from the middle of urllib3.
            return parse_retry_after(response.headers.get("Retry-After"))

        def sleep(self, response: BaseHTTPResponse | None = None) -> None:
            if logger.isEnabledFor(logging.DEBUG):
                wait = self.get_retry_after(response) if response is not None else None
                if wait:
                    logger.debug("waiting %.2f s as the server's Retry-After asks", wait)
                else:
                    backoff = self.get_backoff_time()
                    if backoff > 0:
                        logger.debug("backing off %.2f s before the retry", backoff)
            super().sleep(response)

    return PolicyRetry


FailureKind = Literal["refused", "connect-timeout", "tls", "unknown"]
"""How a request without an HTTP answer failed: the first three provably sent nothing."""


def classify_failure(error: BaseException) -> tuple[FailureKind, str]:
    """Whether a failure with no HTTP answer provably sent nothing, and why, in words for people.

    Only failures that happen before a TCP connection exists (refused, DNS, connect timeout) or
    during certificate verification (before any request byte is written) count as unsent; every
    other failure may have happened after the request reached the API.
    """
    import ssl

    from urllib3.exceptions import (
        ConnectTimeoutError,
        MaxRetryError,
        NameResolutionError,
        NewConnectionError,
        ProtocolError,
        ReadTimeoutError,
        SSLError,
    )

    if isinstance(error, MaxRetryError) and error.reason is not None:
        error = error.reason
    if isinstance(error, NameResolutionError):
        return "refused", "the host name could not be resolved (DNS); nothing was sent"
    if isinstance(error, NewConnectionError):
        return "refused", "the connection could not be opened; nothing was sent"
    if isinstance(error, ConnectTimeoutError):
        return "connect-timeout", "no connection within the connect timeout; nothing was sent"
    if isinstance(error, ReadTimeoutError):
        return "unknown", "no answer within the read timeout after the request was sent"
    if isinstance(error, ProtocolError):
        return "unknown", "the connection broke after the request was sent"
    if isinstance(error, SSLError):
        cause = error.args[0] if error.args else None
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "tls", "the server's TLS certificate was refused; nothing was sent"
        return "unknown", "a TLS error, possibly after the request was sent"
    return "unknown", f"{type(error).__name__}, possibly after the request was sent"


def _reason(response: BaseHTTPResponse | None, error: Exception | None) -> str:
    """Why a retry was considered, in words for the log (never the URL's query or headers)."""
    if response is not None:
        retry_after = response.headers.get("Retry-After")
        hint = f", Retry-After {retry_after!r}" if retry_after else ""
        return f"HTTP {response.status}{hint}; the request was not taken"
    if error is None:
        return "unknown"
    return classify_failure(error)[1]
