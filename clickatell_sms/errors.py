"""Every error the SDK raises: one short hierarchy, all rooted in `ClickatellError`.

    ClickatellError
    ├── ValidationError (also a ValueError)     bad input; nothing was sent
    ├── TransportError                          no answer, and provably nothing sent
    │   ├── ConnectionError (also the built-in ConnectionError)
    │   └── TimeoutError (also the built-in TimeoutError)
    ├── OutcomeUnknownError                     may have been sent; never resent by the SDK
    └── APIError                                the API answered: the request failed as a whole
        ├── AuthenticationError
        ├── RateLimitError
        └── ResponseError                       an answer that is not a document we can read
            └── RedirectError                   a redirect, never followed

`ConnectionError` and `TimeoutError` keep the names users expect and also subclass Python's
built-ins of the same names, so `except TimeoutError:` catches ours whichever one the caller
means. (An `OutcomeUnknownError` is deliberately neither: a send whose answer timed out may have
been sent, and code that retries on `TimeoutError` must not resend it.)

No urllib3, aiohttp, parser or socket exception escapes the facade, nor hangs off one of these
errors: the libraries' exceptions quote URLs and request headers, the key among them. A failure
without an answer has the transport's `RequestFailed` as its cause (the library's error as text,
the key taken out; a copy of the operating system's error behind it), and on the HTTP
integration's GET send, whose URL holds the key, no cause at all.
Which answer or failure becomes which error is decided in `answers`, for both clients (their
exchanges only send and wait); what each one means for the caller is said here.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .raw import RawResponse
    from .results import SendResult


class ClickatellError(Exception):
    """Root of everything the SDK raises, so `except ClickatellError` catches all of it."""

    partial: SendResult | None = None
    """Set when some results were known when the send failed (earlier requests of a send to more
    than 200 numbers, or the recipients an incomplete answer did cover): those results, so that
    nobody resends to them. Recipients in neither `partial` nor the failed request were never
    sent."""


class ValidationError(ClickatellError, ValueError):
    """Input the API would refuse (or silently mangle), caught before anything is sent."""

    def __init__(self, field: str, problem: str, value: object = None) -> None:
        self.field = field
        self.problem = problem
        self.value = value
        super().__init__(f"{field}: {problem}")


class TransportError(ClickatellError):
    """No HTTP answer, and nothing was done that a retry could repeat (safe to try again).

    For a send that means the request provably never reached the API; for the read-only
    look-ups (balance, status) any failure to get an answer is reported this way.
    """


class TimeoutError(TransportError, builtins.TimeoutError):
    """Connecting timed out, or the deadline passed before the request was sent (or, for a
    read-only look-up, waiting for its answer did).

    A send whose answer timed out is an `OutcomeUnknownError` instead: it may have been sent.
    Also a built-in `TimeoutError` (an `OSError`).
    """


class ConnectionError(TransportError, builtins.ConnectionError):
    """The connection could not be opened (refused, DNS failure, a proxy that would not connect,
    a certificate refused before sending). Also a built-in `ConnectionError` (an `OSError`)."""


class OutcomeUnknownError(ClickatellError):
    """The request may have reached the API, so it may have been sent (and charged) already.

    The SDK never resends such a request on its own: a second copy would reach the handsets
    twice. The recipients and `client_message_id` are here so the caller can reconcile (for
    example through delivery callbacks) and decide.
    """

    def __init__(
        self,
        message: str,
        *,
        recipients: Sequence[str],
        client_message_id: str | None,
        raw: RawResponse | None = None,
    ) -> None:
        self.recipients = list(recipients)
        self.client_message_id = client_message_id
        self.raw = raw  # the answer, when one came but could not be trusted (e.g. a 500)
        super().__init__(message)


class APIError(ClickatellError):
    """The API answered, and the answer says the request as a whole failed.

    `error_code`, `error` and `description` are the API's own fields (any may be missing on
    older or unusual responses); `raw` is the response exactly as received.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        error_code: int | None = None,
        error: str | None = None,
        description: str | None = None,
        raw: RawResponse | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.error = error
        self.description = description
        self.raw = raw
        super().__init__(message)


class AuthenticationError(APIError):
    """The API key is missing, wrong or not allowed (HTTP 401/403, or error codes 1, 7, 108)."""


class RateLimitError(APIError):
    """The API asked us to slow down (HTTP 429); `retry_after` is its hint in seconds, if any."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        retry_after: float | None = None,
        error_code: int | None = None,
        error: str | None = None,
        description: str | None = None,
        raw: RawResponse | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(
            message,
            status=status,
            error_code=error_code,
            error=error,
            description=description,
            raw=raw,
        )


class ResponseError(APIError):
    """The API answered with something that is not a document we can read; `raw` keeps it whole
    (its body is empty when the answer was refused unread: compressed, or over the size cap)."""


class RedirectError(ResponseError):
    """The server answered with a redirect (3xx). Redirects are never followed: a send moved to
    another host would carry the key there. `location` is the target without credentials or
    query (either may hold a secret); usually `base_url` needs changing to it."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        location: str | None,
        raw: RawResponse | None = None,
    ) -> None:
        self.location = location
        super().__init__(message, status=status, raw=raw)
