"""What an attempt's outcome means: the entries asked for, or which of our errors it is.

Every failure a transport can report and every answer the API can give is turned here into
either the entries the caller asked for or one typed error, with these rules:

- Success is read from the body, never from the status alone: the API has answered
  request-level errors with HTTP 200.
- A send that may have reached the API is never called failed: a read timeout, a broken
  connection, the deadline passing after the request went out, an unreadable 2xx or a 5xx other
  than 503 is an `OutcomeUnknownError`, not resent.
- Accepted recipients in an answer are reported as accepted, whatever else the answer says.
- A redirect is reported as one, with its target, and never followed.
- The key appears in no message, and on the GET send (whose URL holds it) in no error's cause.

`Answers` holds the reading and `Call` a request's attempts, shared by the urllib3 client
(`exchange.Exchange`) and the asyncio one (`async_exchange.AsyncExchange`); each adds only its
transport and a loop that sends and waits when the call says so. Nothing here does I/O or
imports an HTTP library.
"""

from __future__ import annotations

import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from functools import partial
from http import HTTPStatus  # loaded already: urllib3 and aiohttp import http.client
from typing import TYPE_CHECKING, Final, Generic, NamedTuple, TypedDict, TypeVar

from clickatell_wire.http_types import Request, RequestFailed, Response, WireDecodeError
from clickatell_wire.tables import error_codes_of_kind

from . import wire
from .errors import (
    APIError,
    AuthenticationError,
    ClickatellError,
    ConnectionError,
    OutcomeUnknownError,
    RateLimitError,
    RedirectError,
    ResponseError,
    TimeoutError,
    ValidationError,
)
from .raw import RawResponse
from .redact import (
    guard_urllib3_logs,
    key_forms,
    mask_number,
    redact_url,
    scrub,
    scrub_key,
    scrub_response,
)
from .retry import RETRY_STATUSES, RetryPolicy, RetryState, parse_retry_after

if TYPE_CHECKING:
    from .config import ClientConfig
    from .hooks import Outcome
    from .matching import SendRequest

__all__ = ["Answers", "Call", "LookUpCall", "SendAnswer", "SendCall"]

logger = logging.getLogger("clickatell_sms")

T = TypeVar("T")
F = TypeVar("F")

# From the spec's x-error-codes: the kinds decide the error class, not a copy of the codes.
_AUTH_CODES: Final = error_codes_of_kind("auth")  # authentication failed, IP lockdown, bad key
_LIMIT_CODES: Final = error_codes_of_kind("limit")  # "Maximum MT limit exceeded until <TIME>"
_UNIX_TIME: Final = re.compile(r"\b(\d{10})\b")
_SUCCESS: Final = range(HTTPStatus.OK, HTTPStatus.MULTIPLE_CHOICES)  # 2xx
_REDIRECT: Final = range(HTTPStatus.MULTIPLE_CHOICES, HTTPStatus.BAD_REQUEST)  # 3xx
_NOT_SUCCESS: Final = HTTPStatus.MULTIPLE_CHOICES  # this status and above: no success
_AUTH_STATUSES: Final = (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)


class Answers:
    """What an attempt's outcome means: entries, or the typed error (no I/O here)."""

    __slots__ = ("_config", "_key_forms", "send_call")

    def __init__(self, config: ClientConfig) -> None:
        self._config = config
        self._key_forms = key_forms(config.api_key)  # searched in every answer: found once
        # A partial, not a method: made for every request, it then costs no Python frame.
        self.send_call: Callable[[SendRequest], SendCall] = partial(SendCall, self)
        """One request of a send, as a call for the exchange to run."""

    # -- sends ------------------------------------------------------------------------------

    def log_send_request(self, request: SendRequest) -> None:
        """Say at DEBUG which request of a send goes out, and to how many (numbers masked)."""
        config = self._config
        batch = request.numbers
        shown = ", ".join(mask_number(n, show=config.log_numbers) for n in batch[:3])
        more = f" and {len(batch) - 3} more" if len(batch) > 3 else ""
        logger.debug(
            "%s (request %d of %d, %s): %d recipients (%s%s)",
            "GET /messages/http/send" if request.http else "POST /messages",
            *request.position,
            "query" if request.http else config.format,
            len(batch),
            shown,
            more,
        )

    def send_answer(
        self, request: SendRequest, response: Response, started: float | None
    ) -> tuple[RawResponse, Sequence[wire.Entry] | None]:
        """The raw answer to one request of a send and its entries, or the typed error.

        One function from the answer to its entries, as every request of a send runs it."""
        # What the server sends back is read only after the key is scrubbed out of it, so
        # neither `raw` nor a field decoded from the body (an error description) can hold it;
        # the GET send's URL can be echoed with its `apiKey=` too.
        if request.http:
            response = scrub_response(response, self._config.api_key)
        else:
            body = response.body
            for form in self._key_forms:  # (searched here: the usual answer holds none)
                if body.find(form) >= 0:  # not `in`: it tries the key as an int first, and fails
                    response = scrub_key(response, self._config.api_key)
                    break
        status = response.status
        raw = RawResponse(status, response.headers, response.body)
        if started is not None:  # DEBUG logging was on when the request was made
            logger.debug(
                "answer to request %d of %d: HTTP %d, %d bytes in %.1f ms",
                *request.position,
                status,
                len(raw.body),
                (time.perf_counter() - started) * 1000,
            )
        if status in _REDIRECT:
            raise _redirect(raw, self._config.api_key)
        read = wire.read_get_envelope if request.http else wire.read_envelope
        envelope: wire.Envelope | None = None
        problem = response.refused
        if problem is None:
            try:
                envelope = read(response)
            except WireDecodeError as exc:
                problem = str(exc)
        entries = None if envelope is None else envelope.entries
        if (
            envelope is not None
            and entries
            and (entries[0].accepted or any(e.accepted for e in entries))
        ):
            if status >= _NOT_SUCCESS or envelope.error_code is not None or envelope.error:
                # Never seen, but possible: accepted recipients beside an error status or a
                # request-level error. Those recipients were sent, so failing the whole request
                # would invite a resend: report per recipient instead.
                logger.debug(
                    "HTTP %d / error %r beside accepted recipients: kept",
                    status,
                    envelope.error_code,
                )
        else:
            self._refused(raw, request, envelope, problem or "")
        return raw, entries

    def unanswered(self, failure: RequestFailed, request: SendRequest) -> ClickatellError:
        """The typed error for a request of a send that got no HTTP answer."""
        batch, position = request.numbers, request.position
        where = self._config.base_url
        if failure.maybe_sent:
            logger.debug("not retrying: %s; reporting the outcome as unknown", failure.reason)
            return OutcomeUnknownError(
                f"request {position[0]} of {position[1]} to {where}: {failure.reason}; the"
                f" message may have been sent to {len(batch)} recipient(s) and was not resent",
                recipients=batch,
                client_message_id=request.message.client_message_id,
            )
        error_type = TimeoutError if failure.timed_out else ConnectionError
        return error_type(scrub(f"could not reach {where}: {failure.reason}", self._config.api_key))

    def cancelled(self, request: SendRequest) -> None:
        """Say, before a cancellation goes on, that a request it cut short may have been sent."""
        config = self._config
        shown = ", ".join(mask_number(n, show=config.log_numbers) for n in request.numbers[:10])
        more = f" and {len(request.numbers) - 10} more" if len(request.numbers) > 10 else ""
        logger.warning(
            "request %d of %d was cancelled after it went out: outcome unknown for %d"
            " recipient(s) (%s%s), client message ID %s; not resent",
            *request.position,
            len(request.numbers),
            shown,
            more,
            request.message.client_message_id or "(none)",
        )

    def _refused(
        self,
        raw: RawResponse,
        request: SendRequest,
        envelope: wire.Envelope | None,
        problem: str,
    ) -> None:
        """Raise the typed error for an answer to a send without accepted recipients, unless it
        is a clean one (no error named, a 2xx status: every recipient's entry says why)."""
        status, key = raw.status, self._config.api_key
        fields = _ErrorFields.of(raw, envelope)
        refused = _rate_or_auth(fields, key)
        if refused is not None:
            raise refused
        batch = request.numbers
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR and status != HTTPStatus.SERVICE_UNAVAILABLE:
            raise OutcomeUnknownError(
                scrub(
                    f"{fields.detail}: an error inside the API, after which it may or may not have"
                    f" sent the message to {len(batch)} recipient(s); not resent",
                    key,
                ),
                recipients=batch,
                client_message_id=request.message.client_message_id,
                raw=raw,
            )
        if envelope is None:
            if status in _SUCCESS:
                raise OutcomeUnknownError(
                    scrub(
                        f"HTTP {status} with an unreadable body ({problem}); the request was"
                        f" taken, so the message may have been sent; not resent",
                        key,
                    ),
                    recipients=batch,
                    client_message_id=request.message.client_message_id,
                    raw=raw,
                )
            raise ResponseError(
                scrub(f"HTTP {status} with an unreadable body: {problem}", key),
                status=status,
                raw=raw,
            )
        if fields.failed or status >= _NOT_SUCCESS:
            raise _api_error("request refused", fields, key)

    # -- look-ups ---------------------------------------------------------------------------

    def look_up_failed(self, what: str, failure: RequestFailed) -> ClickatellError:
        """The typed error for a look-up that got no answer (safe to repeat: never unknown)."""
        error_type = TimeoutError if failure.timed_out else ConnectionError
        where = self._config.base_url
        return error_type(
            scrub(f"{what} at {where} failed: {failure.reason}", self._config.api_key)
        )

    def look_up_answer(
        self,
        what: str,
        response: Response,
        read: Callable[[Response], tuple[wire.Envelope, T | None]],
        started: float | None,
    ) -> tuple[T, RawResponse]:
        """What `read` finds in a look-up's answer, or the typed error for nothing usable.

        `read` returns the answer's error fields and the document asked for (None when the
        answer is not one); it raises `WireDecodeError` for a body it cannot read.
        """
        response = scrub_key(response, self._config.api_key)
        raw = RawResponse(response.status, response.headers, response.body)
        if started is not None:  # DEBUG logging was on when the look-up was made
            logger.debug(
                "%s: HTTP %d, %d bytes in %.1f ms",
                what,
                raw.status,
                len(raw.body),
                (time.perf_counter() - started) * 1000,
            )
        if raw.status in _REDIRECT:
            raise _redirect(raw, self._config.api_key)
        try:
            if response.refused is not None:
                raise WireDecodeError(response.refused, response)
            envelope, found = read(response)
            problem = ""
        except WireDecodeError as exc:
            envelope, found, problem = None, None, str(exc)
        self._check_answer(what, raw, envelope, problem, found is not None)
        assert found is not None  # _check_answer raised otherwise
        return found, raw

    def _check_answer(
        self,
        what: str,
        raw: RawResponse,
        envelope: wire.Envelope | None,
        problem: str,
        found: bool,
    ) -> None:
        """Raise the typed error for a look-up answer that is not what was asked for."""
        fields = _ErrorFields.of(raw, envelope)
        status = raw.status
        key = self._config.api_key
        refused = _rate_or_auth(fields, key)
        if refused is not None:
            raise refused
        if fields.failed or status >= _NOT_SUCCESS:
            if envelope is None:
                raise ResponseError(
                    scrub(f"{what}: HTTP {status} with an unreadable body: {problem}", key),
                    status=status,
                    raw=raw,
                )
            raise _api_error(f"{what} refused", fields, key)
        if not found:
            why = problem or "the answer has none of the fields asked for"
            raise ResponseError(scrub(f"{what}: HTTP {status}: {why}", key), status=status, raw=raw)


class Call(ABC, Generic[T]):
    """One request's life, without I/O: what to send, the deadline, the numbering, the hooks,
    after each attempt whether another follows and after how long, and what the last outcome
    comes to (the result, or the typed error).

    Both exchanges' loops (`Exchange.run`, `AsyncExchange.run`) only send and wait, so every
    decision about a request is made here, once. The retry decision is made lazily: an answer
    that is final on its status (the usual 2xx) costs no `RetryState`.
    """

    __slots__ = (
        "_began",
        "_config",
        "_idempotent",
        "_policy",
        "_retries",
        "_started",
        "attempt",
        "deadline",
        "request",
        "timeout",
    )

    def __init__(
        self,
        config: ClientConfig,
        request: Request,
        timeout: tuple[float, float],
        policy: RetryPolicy,
        total_timeout: float,
        idempotent: bool,
        began: float | None,
    ) -> None:
        self._config = config
        self.request = request
        self.timeout = timeout
        self._policy = policy
        self._idempotent = idempotent
        self._began = began  # when it began, for the log's timings (None: DEBUG logging off)
        self.deadline = time.monotonic() + total_timeout
        self._retries: RetryState | None = None
        self._started = 0.0
        self.attempt = 0

    def start(self) -> float:
        """An attempt begins (`on_request` sees it): the deadline it must keep."""
        self.attempt += 1
        hook = self._config.on_request
        if hook is not None:
            from .hooks import Attempt, call_hook  # loaded only for a client with hooks

            request = self.request
            call_hook(hook, Attempt(request.operation, request.method, request.path, self.attempt))
        if self._config.on_response is not None:
            self._started = time.perf_counter()
        return self.deadline

    def after(self, outcome: Response | RequestFailed) -> float | None:
        """An attempt's answer or failure: seconds to wait before the next attempt, or None
        when it is final (then `result` says what it comes to)."""
        if isinstance(outcome, RequestFailed):
            return self._failed(outcome)
        status = outcome.status
        if status not in RETRY_STATUSES:
            if self._config.on_response is not None:  # (checked here: most clients set none)
                self._report(status, "answered")
            return None
        wait = self._state().after_status(status, outcome.headers.get("Retry-After"))
        self._report(status, "answered" if wait is None else "retry")
        return wait

    def cancelled(self, maybe_sent: bool) -> None:
        """The task making the attempt was cancelled (asyncio); the cancellation goes on."""
        self._report(None, "cancelled", maybe_sent)

    @abstractmethod
    def result(self, outcome: Response | RequestFailed) -> T:
        """What the final outcome comes to: the result, or the typed error raised."""

    def _failed(self, failure: RequestFailed) -> float | None:
        wait = self._state().after_failure(failure)
        outcome: Outcome = (
            "retry" if wait is not None else "unknown" if failure.maybe_sent else "failed"
        )
        self._report(None, outcome, failure.maybe_sent)
        return wait

    def _state(self) -> RetryState:
        if self._retries is None:
            self._retries = RetryState(self._policy, self.deadline, idempotent=self._idempotent)
        return self._retries

    def _report(self, status: int | None, outcome: Outcome, maybe_sent: bool = False) -> None:
        hook = self._config.on_response
        if hook is not None:
            from .hooks import Attempt, call_hook  # loaded only for a client with hooks

            request = self.request
            event = Attempt(
                request.operation,
                request.method,
                request.path,
                self.attempt,
                status,
                time.perf_counter() - self._started,
                outcome,
                maybe_sent,
            )
            call_hook(hook, event)


SendAnswer = tuple[RawResponse, "Sequence[wire.Entry] | None"]
"""One request of a send answered: the raw answer and its per-recipient entries."""


class SendCall(Call[SendAnswer]):
    """One request of a send: never retried once it may have arrived, and a cancellation after
    it went out is logged as outcome unknown."""

    __slots__ = ("_answers", "_send")

    def __init__(self, answers: Answers, send: SendRequest) -> None:
        # The wire request (JSON, XML or the GET send's query) is made here, in the one call
        # every request makes, and the named base's __init__ is cheaper than super()'s.
        config = answers._config
        debug = logger.isEnabledFor(logging.DEBUG)  # asked once for the request and its answer
        if debug:
            answers.log_send_request(send)
        if send.http:
            guard_urllib3_logs()
            try:
                request = wire.send_get_request(send.message, send.numbers, send.headers)
            except ValueError:  # quote() refusing text: options' UTF-8 check prevents it
                raise ValidationError("content", "cannot be encoded as UTF-8") from None
        else:
            body = wire.build_request(config.format, send.message, send.numbers)
            try:
                request = wire.post_request(body, headers=send.headers)
            except ValueError as exc:  # the XML writer refusing a value: validation prevents it
                raise ValidationError("content", scrub(str(exc), config.api_key)) from exc
        began = time.perf_counter() if debug else None
        Call.__init__(
            self, config, request, send.timeout, send.retry, send.total_timeout, False, began
        )
        self._answers = answers
        self._send = send

    def result(self, outcome: Response | RequestFailed) -> SendAnswer:
        if isinstance(outcome, RequestFailed):
            failure = self._answers.unanswered(outcome, self._send)
            if self._send.http:
                # The GET send's URL holds the key and the libraries' exceptions quote it: this
                # error has neither a cause nor a context.
                raise failure
            raise failure from outcome
        return self._answers.send_answer(self._send, outcome, self._began)

    def cancelled(self, maybe_sent: bool) -> None:
        super().cancelled(maybe_sent)
        if maybe_sent:
            self._answers.cancelled(self._send)


class LookUpCall(Call[T], Generic[F, T]):
    """A GET that changes nothing: retried on every failure the policy allows; `read` finds the
    document in its answer, `make` the result from it."""

    __slots__ = ("_answers", "_make", "_read", "_what")

    def __init__(
        self,
        answers: Answers,
        what: str,
        request: Request,
        read: Callable[[Response], tuple[wire.Envelope, F | None]],
        make: Callable[[F, RawResponse], T],
        settings: tuple[tuple[float, float], float, RetryPolicy],
    ) -> None:
        timeout, total_timeout, policy = settings
        began = time.perf_counter() if logger.isEnabledFor(logging.DEBUG) else None
        super().__init__(answers._config, request, timeout, policy, total_timeout, True, began)
        self._answers = answers
        self._what = what
        self._read = read
        self._make = make

    def result(self, outcome: Response | RequestFailed) -> T:
        if isinstance(outcome, RequestFailed):
            raise self._answers.look_up_failed(self._what, outcome) from outcome
        found, raw = self._answers.look_up_answer(self._what, outcome, self._read, self._began)
        return self._make(found, raw)


def _redirect(raw: RawResponse, key: str) -> RedirectError:
    """A 3xx as what it is: where the server points, without credentials or query."""
    location = raw.headers.get("Location")
    shown = redact_url(location, query=False) if location else None
    where = f" to {shown}" if shown else " (no Location given)"
    return RedirectError(
        scrub(
            f"HTTP {raw.status}: the server redirects{where}; redirects are not followed (the"
            " key would go with the request): check base_url",
            key,
        ),
        status=raw.status,
        location=shown,
        raw=raw,
    )


class _ErrorArgs(TypedDict):
    status: int
    error_code: int | None
    error: str | None
    description: str | None
    raw: RawResponse


class _ErrorFields(NamedTuple):
    """An answer's request-level error fields (none when its body was unreadable) and the
    answer itself: what every `APIError` made from it carries."""

    raw: RawResponse
    code: int | None
    error: str | None
    description: str | None

    @classmethod
    def of(cls, raw: RawResponse, envelope: wire.Envelope | None) -> _ErrorFields:
        if envelope is None:
            return cls(raw, None, None, None)
        return cls(raw, envelope.error_code, envelope.error, envelope.description)

    @property
    def failed(self) -> bool:
        """The body names an error, whatever the status says."""
        return self.code is not None or bool(self.error)

    @property
    def detail(self) -> str:
        """`HTTP <status> error <code>: <error> - <description>` (what the answer has of it),
        as the errors' messages quote an answer."""
        parts = [f"HTTP {self.raw.status}"]
        if self.code is not None:
            parts.append(f"error {self.code}")
        text = " - ".join(part for part in (self.error, self.description) if part)
        return " ".join(parts) + (f": {text}" if text else "")

    def args(self) -> _ErrorArgs:
        """The keyword arguments of an `APIError` (or subclass) for this answer."""
        return _ErrorArgs(
            status=self.raw.status,
            error_code=self.code,
            error=self.error,
            description=self.description,
            raw=self.raw,
        )


def _rate_or_auth(fields: _ErrorFields, key: str) -> APIError | None:
    """The RateLimitError or AuthenticationError an answer calls for, if it calls for one."""
    raw, code = fields.raw, fields.code
    if raw.status == HTTPStatus.TOO_MANY_REQUESTS or (fields.failed and code in _LIMIT_CODES):
        retry_after = parse_retry_after(raw.headers.get("Retry-After"))
        if retry_after is None and code in _LIMIT_CODES:
            retry_after = _seconds_until(fields.description or fields.error or "")
        wait = f"; retry after {retry_after:.0f} s" if retry_after is not None else ""
        return RateLimitError(
            scrub(f"rate limited: {fields.detail}{wait}", key),
            retry_after=retry_after,
            **fields.args(),
        )
    if raw.status in _AUTH_STATUSES or (fields.failed and code in _AUTH_CODES):
        return AuthenticationError(
            scrub(f"authentication failed: {fields.detail}", key), **fields.args()
        )
    return None


def _api_error(what: str, fields: _ErrorFields, key: str) -> APIError:
    detail = fields.detail
    retry_after = parse_retry_after(fields.raw.headers.get("Retry-After"))
    if retry_after is not None:
        detail += f"; retry after {retry_after:.0f} s"
    return APIError(scrub(f"{what}: {detail}", key), **fields.args())


def _seconds_until(text: str) -> float | None:
    found = _UNIX_TIME.search(text)
    if found is None:
        return None
    return max(0.0, int(found.group(1)) - time.time())
