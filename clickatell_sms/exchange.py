"""One request and its answer: what went out, what came back, and which of our errors it means.

Everything urllib3 can raise and every answer the API can give is turned here into either the
entries the caller asked for or one typed error, with these rules:

- Success is read from the body, never from the status alone: the API has answered
  request-level errors with HTTP 200.
- A send that may have reached the API is never called failed: a read timeout, a broken
  connection, an unreadable 2xx or a 5xx other than 503 is an `OutcomeUnknownError`, not resent.
- Accepted recipients in an answer are reported as accepted, whatever else the answer says.
- The key appears in no message, and on the GET send (whose URL holds it) in no error's cause.

Imported when the first client is made: it loads urllib3 and the wire models.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, TypeVar

from clickatell_wire.tables import error_codes_of_kind
from clickatell_wire.transport import Response, Transport, WireDecodeError
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import MaxRetryError, ReadTimeoutError
from urllib3.util.timeout import Timeout

from . import wire
from .errors import (
    APIError,
    AuthenticationError,
    ClickatellError,
    ConnectionError,
    OutcomeUnknownError,
    RateLimitError,
    ResponseError,
    TimeoutError,
    ValidationError,
)
from .options import timeout_pair
from .raw import RawResponse
from .redact import guard_urllib3_logs, mask_number, scrub, scrub_response
from .retry import classify_failure, parse_retry_after

if TYPE_CHECKING:
    from urllib3.util.retry import Retry

    from .config import ClientConfig, TimeoutArg
    from .matching import SendRequest

__all__ = ["Exchange", "as_timeout"]

logger = logging.getLogger("clickatell_sms")

T = TypeVar("T")

# From the spec's x-error-codes: the kinds decide the error class, not a copy of the codes.
_AUTH_CODES: Final = error_codes_of_kind("auth")  # authentication failed, IP lockdown, bad key
_LIMIT_CODES: Final = error_codes_of_kind("limit")  # "Maximum MT limit exceeded until <TIME>"
_UNIX_TIME: Final = re.compile(r"\b(\d{10})\b")


class Exchange:
    """A client's requests over its one connection pool (thread-safe, as the pool is)."""

    __slots__ = ("_config", "_transport")

    def __init__(self, config: ClientConfig) -> None:
        self._config = config
        self._transport = _make_transport(config)

    def close(self) -> None:
        self._transport.close()

    # -- sends ------------------------------------------------------------------------------

    def send(self, request: SendRequest) -> tuple[RawResponse, list[wire.WireEntry] | None]:
        """Send one request of a send: the raw answer and its entries, or the typed error it
        calls for."""
        config = self._config
        message, batch, position = request.message, request.numbers, request.position
        debug = logger.isEnabledFor(logging.DEBUG)
        if debug:
            shown = ", ".join(mask_number(n, show=config.log_numbers) for n in batch[:3])
            more = f" and {len(batch) - 3} more" if len(batch) > 3 else ""
            logger.debug(
                "%s (request %d of %d, %s): %d recipients (%s%s)",
                "GET /messages/http/send" if request.http else "POST /messages",
                *position,
                "query" if request.http else config.format,
                len(batch),
                shown,
                more,
            )
        started = time.perf_counter() if debug else 0.0
        if request.http:
            response = self._send_get(request)
            # What the server sends back is read only after the key is scrubbed out of it, so
            # neither `raw` nor a field decoded from the body (an error description) can hold it.
            response = scrub_response(response, config.api_key)
        else:
            body = wire.build_request(config.format, message, batch)
            try:
                response = wire.post(
                    self._transport,
                    body,
                    headers=request.headers,
                    timeout=request.timeout,
                    retries=request.retry,
                )
            except Urllib3Error as exc:
                raise self._unanswered(exc, request) from exc
            except ValueError as exc:  # the XML writer refusing a value: validation prevents it
                raise ValidationError("content", scrub(str(exc), config.api_key)) from exc
        raw = RawResponse(response.status, response.headers, response.body)
        if debug:
            logger.debug(
                "answer to request %d of %d: HTTP %d, %d bytes in %.1f ms",
                *position,
                raw.status,
                len(raw.body),
                (time.perf_counter() - started) * 1000,
            )
        read = wire.read_get_envelope if request.http else wire.read_envelope
        return raw, self._entries(response, raw, batch, message.client_message_id, read)

    def _send_get(self, request: SendRequest) -> Response:
        """The GET send, whose URL holds the key: no urllib3 exception may leave this method.

        urllib3's exceptions quote the URL (`Max retries exceeded with url: ...?apiKey=...`),
        and a chained cause or context is printed with every traceback and collected by error
        trackers, frame locals included. So the typed error is raised after the `except`
        block, with neither a cause nor a context; its message says what happened.
        """
        guard_urllib3_logs()
        failure: ClickatellError
        try:
            return wire.send_get(
                self._transport,
                request.message,
                request.numbers,
                headers=request.headers,
                timeout=request.timeout,
                retries=request.retry,
            )
        except Urllib3Error as exc:
            failure = self._unanswered(exc, request)
        except ValueError:  # quote() refusing text: options' UTF-8 check prevents it
            failure = ValidationError("content", "cannot be encoded as UTF-8")
        raise failure

    def _unanswered(self, exc: Exception, request: SendRequest) -> ClickatellError:
        """The typed error for a send that got no HTTP answer."""
        batch, position = request.numbers, request.position
        kind, reason = classify_failure(exc)
        where = self._config.base_url
        if kind == "unknown":
            logger.debug("not retrying: %s; reporting the outcome as unknown", reason)
            return OutcomeUnknownError(
                f"request {position[0]} of {position[1]} to {where}: {reason}; the message may"
                f" have been sent to {len(batch)} recipient(s) and was not resent",
                recipients=batch,
                client_message_id=request.message.client_message_id,
            )
        error_type = TimeoutError if kind == "connect-timeout" else ConnectionError
        return error_type(scrub(f"could not reach {where}: {reason}", self._config.api_key))

    def _entries(
        self,
        response: Response,
        raw: RawResponse,
        batch: list[str],
        client_message_id: str | None,
        read: Callable[[Response], wire.Envelope],
    ) -> list[wire.WireEntry] | None:
        """The answer's per-recipient entries, or the typed error the answer calls for."""
        status = raw.status
        try:
            envelope: wire.Envelope | None = read(response)
            problem = ""
        except WireDecodeError as exc:
            envelope, problem = None, str(exc)
        code = error = description = None
        if envelope is not None:
            code, error, description = envelope.error_code, envelope.error, envelope.description
        failed = code is not None or bool(error)
        entries = envelope.entries if envelope is not None else None
        if entries and any(entry[1] for entry in entries):
            if failed or status >= 300:
                # Never seen, but possible: accepted recipients beside an error status or a
                # request-level error. Those recipients were sent, so failing the whole request
                # would invite a resend: report per recipient instead.
                logger.debug("HTTP %d / error %r beside accepted recipients: kept", status, code)
            return entries
        detail = _describe(status, code, error, description)
        key = self._config.api_key
        refused = _rate_or_auth(detail, raw, code, error, description, key)
        if refused is not None:
            raise refused
        if status >= 500 and status != 503:
            raise OutcomeUnknownError(
                scrub(
                    f"{detail}: an error inside the API, after which it may or may not have"
                    f" sent the message to {len(batch)} recipient(s); not resent",
                    key,
                ),
                recipients=batch,
                client_message_id=client_message_id,
                raw=raw,
            )
        if envelope is None:
            if 200 <= status < 300:
                raise OutcomeUnknownError(
                    scrub(
                        f"HTTP {status} with an unreadable body ({problem}); the request was"
                        f" taken, so the message may have been sent; not resent",
                        key,
                    ),
                    recipients=batch,
                    client_message_id=client_message_id,
                    raw=raw,
                )
            raise ResponseError(
                scrub(f"HTTP {status} with an unreadable body: {problem}", key),
                status=status,
                raw=raw,
            )
        if failed or status >= 300:
            raise _api_error("request refused", detail, raw, code, error, description, key)
        return entries

    # -- look-ups ---------------------------------------------------------------------------

    def look_up(
        self,
        what: str,
        get: Callable[..., Response],
        read: Callable[[Response], tuple[wire.Envelope, T | None]],
        headers: Mapping[str, str] | None,
        timeout: Timeout,
        retry: Retry,
    ) -> tuple[T, RawResponse]:
        """One GET that changes nothing (`get(transport, headers=, timeout=, retries=)`) and
        what `read` finds in its answer, or the typed error for getting nothing usable.

        `read` returns the answer's error fields and the document asked for (None when the
        answer is not one); it raises `WireDecodeError` for a body it cannot read.
        """
        debug = logger.isEnabledFor(logging.DEBUG)
        started = time.perf_counter() if debug else 0.0
        try:
            response = get(self._transport, headers=headers, timeout=timeout, retries=retry)
        except Urllib3Error as exc:
            kind, reason = classify_failure(exc)
            timed_out = kind == "connect-timeout" or _is_read_timeout(exc)
            error_type = TimeoutError if timed_out else ConnectionError
            where = self._config.base_url
            raise error_type(
                scrub(f"{what} at {where} failed: {reason}", self._config.api_key)
            ) from exc
        raw = RawResponse(response.status, response.headers, response.body)
        if debug:
            logger.debug(
                "%s: HTTP %d, %d bytes in %.1f ms",
                what,
                raw.status,
                len(raw.body),
                (time.perf_counter() - started) * 1000,
            )
        try:
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
        code = error = description = None
        if envelope is not None:
            code, error, description = envelope.error_code, envelope.error, envelope.description
        status = raw.status
        detail = _describe(status, code, error, description)
        key = self._config.api_key
        refused = _rate_or_auth(detail, raw, code, error, description, key)
        if refused is not None:
            raise refused
        failed = code is not None or bool(error)
        if failed or status >= 300:
            if envelope is None:
                raise ResponseError(
                    scrub(f"{what}: HTTP {status} with an unreadable body: {problem}", key),
                    status=status,
                    raw=raw,
                )
            raise _api_error(f"{what} refused", detail, raw, code, error, description, key)
        if not found:
            why = problem or "the answer has none of the fields asked for"
            raise ResponseError(scrub(f"{what}: HTTP {status}: {why}", key), status=status, raw=raw)


def as_timeout(timeout: TimeoutArg) -> Timeout:
    """urllib3's Timeout from seconds or a `(connect, read)` pair (checked)."""
    connect, read = timeout_pair(timeout)
    return Timeout(connect=connect, read=read)


def _make_transport(config: ClientConfig) -> Transport:
    headers = {"User-Agent": config.user_agent, **config.headers}
    try:
        return Transport(
            api_key=config.api_key,
            base_url=config.base_url,
            headers=headers,
            maxsize=config.max_connections,
            retries=False,
        )
    except ValueError as exc:  # already checked by ClientConfig; kept so nothing raw escapes
        raise ValidationError("base_url", str(exc)) from None


def _is_read_timeout(exc: BaseException) -> bool:
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    return isinstance(exc, ReadTimeoutError)


def _rate_or_auth(
    detail: str,
    raw: RawResponse,
    code: int | None,
    error: str | None,
    description: str | None,
    key: str,
) -> APIError | None:
    """The RateLimitError or AuthenticationError an answer calls for, if it calls for one."""
    status = raw.status
    failed = code is not None or bool(error)
    if status == 429 or (failed and code in _LIMIT_CODES):
        retry_after = parse_retry_after(raw.headers.get("Retry-After"))
        if retry_after is None and code in _LIMIT_CODES:
            retry_after = _seconds_until(description or error or "")
        wait = f"; retry after {retry_after:.0f} s" if retry_after is not None else ""
        return RateLimitError(
            scrub(f"rate limited: {detail}{wait}", key),
            status=status,
            retry_after=retry_after,
            error_code=code,
            error=error,
            description=description,
            raw=raw,
        )
    if status in (401, 403) or (failed and code in _AUTH_CODES):
        return AuthenticationError(
            scrub(f"authentication failed: {detail}", key),
            status=status,
            error_code=code,
            error=error,
            description=description,
            raw=raw,
        )
    return None


def _api_error(
    what: str,
    detail: str,
    raw: RawResponse,
    code: int | None,
    error: str | None,
    description: str | None,
    key: str,
) -> APIError:
    retry_after = parse_retry_after(raw.headers.get("Retry-After"))
    if retry_after is not None:
        detail += f"; retry after {retry_after:.0f} s"
    return APIError(
        scrub(f"{what}: {detail}", key),
        status=raw.status,
        error_code=code,
        error=error,
        description=description,
        raw=raw,
    )


def _describe(status: int, code: int | None, error: str | None, description: str | None) -> str:
    parts = [f"HTTP {status}"]
    if code is not None:
        parts.append(f"error {code}")
    text = " - ".join(part for part in (error, description) if part)
    return " ".join(parts) + (f": {text}" if text else "")


def _seconds_until(text: str) -> float | None:
    found = _UNIX_TIME.search(text)
    if found is None:
        return None
    return max(0.0, int(found.group(1)) - time.time())
