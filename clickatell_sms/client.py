"""The client: check everything, send each number once, and tell the caller exactly what happened.

A send goes through four steps, each in its own place:

1. Validation (here, with `numbers` and `encoding`): every option is checked and converted to the
   API's units before any byte leaves the machine, so a mistake costs an exception, not an SMS.
2. Requests (`wire`): recipients are normalised, repeats are sent once, and the rest go out in
   requests of at most 200, as JSON or XML.
3. Transport (the generated urllib3 transport, with `retry.RetryPolicy`): only what provably did
   not reach the API is tried again.
4. Answers: success is read from the body, never from the status alone (the API has answered
   request-level errors with HTTP 200), and each recipient gets its own result, in input order.

The same client reads the account's balance and a message's status, and can send the way HTTP
integrations do (`integration="http"`: a GET with the key in the URL, which is then kept out of
every log line, error and raw answer the SDK produces).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import quote

from . import encoding
from .config import ClientConfig, Format, TimeoutArg, _check_header_text
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
from .numbers import find_duplicates, normalize_many, normalize_number
from .raw import RawResponse
from .redact import mask_key, mask_number, scrub
from .retry import RetryPolicy, classify_failure, parse_retry_after
from .statuses import status_from

if TYPE_CHECKING:
    from clickatell_wire.transport import Response, Transport, WireDecodeError
    from urllib3.exceptions import HTTPError as _Urllib3Error
    from urllib3.util.retry import Retry
    from urllib3.util.timeout import Timeout

    from . import wire
    from .bulk import BulkSummary
    from .encoding import Estimate
    from .results import Balance, MessageResult, SendResult, StatusResult

__all__ = ["MAX_RECIPIENTS_PER_REQUEST", "Charset", "Client", "Integration"]

logger = logging.getLogger("clickatell_sms")

Charset = Literal["ASCII", "UCS2-BE", "UTF-8", "Windows-1252"]

Integration = Literal["rest", "http"]
"""The type of Clickatell integration the API key belongs to, which decides how a send travels:
"rest" is `POST /messages` with the key in the Authorization header (the default), "http" is
`GET /messages/http/send` with the key in the query string (only `to`, `content` and `from`)."""
_INTEGRATIONS: Final = ("rest", "http")

MAX_RECIPIENTS_PER_REQUEST: Final = 200
"""The API's limit on `to` in one request; longer lists are split transparently."""

MAX_VALIDITY_MINUTES: Final = 10080  # one week: the contract's bound
_CHARSETS: Final[dict[str, Charset]] = {
    "ascii": "ASCII",
    "ucs2-be": "UCS2-BE",
    "utf-8": "UTF-8",
    "windows-1252": "Windows-1252",
}
# Characters XML 1.0 cannot carry (the same set the generated XML writer refuses).
_XML_ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_AUTH_CODES: Final = frozenset({1, 7, 108})  # authentication failed, IP lockdown, bad API key
_MT_LIMIT_CODE: Final = 130  # "Maximum MT limit exceeded until <UNIX TIMESTAMP>"
_UNIX_TIME: Final = re.compile(r"\b(\d{10})\b")
_NUMBER_CACHE_SIZE: Final = 8192


_loaded = False


def _load() -> None:
    """Import the HTTP stack and the wire models on first use.

    They cost about 100 ms to import (urllib3 alone ~70 ms). Loading them when the first client
    is made, not when this module is imported, keeps `from clickatell_sms import Client` cheap
    for programs (and CLI commands) that never send.
    """
    global _loaded, _Urllib3Error, Timeout, WireDecodeError, wire
    global Balance, MessageResult, SendResult, StatusResult
    if _loaded:
        return
    from clickatell_wire.transport import WireDecodeError
    from urllib3.exceptions import HTTPError as _Urllib3Error
    from urllib3.util.timeout import Timeout

    from . import wire
    from .results import Balance, MessageResult, SendResult, StatusResult

    _loaded = True


class Client:
    """A Clickatell Platform client: one connection pool, safe to share across threads.

    Settings not given are read from `CLICKATELL_API_KEY` / `CLICKATELL_BASE_URL`; see
    `ClientConfig` for each one. Use it as a context manager (or call `close()`) to release the
    pool's connections.
    """

    __slots__ = (
        "_closed",
        "_config",
        "_integration",
        "_numbers",
        "_retry",
        "_timeout",
        "_transport",
    )

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        format: Format | None = None,
        timeout: TimeoutArg | None = None,
        retries: RetryPolicy | int | None = None,
        default_region: str | None = None,
        log_numbers: bool | None = None,
        headers: Mapping[str, str] | None = None,
        max_connections: int | None = None,
        config: ClientConfig | None = None,
        integration: Integration = "rest",
    ) -> None:
        settings: dict[str, Any] = {
            "api_key": api_key,
            "base_url": base_url,
            "format": format,
            "default_region": default_region,
            "log_numbers": log_numbers,
            "headers": headers,
            "max_connections": max_connections,
            "retry": None if retries is None else RetryPolicy.coerce(retries),
        }
        if timeout is not None:
            connect, read = _timeout_pair(timeout)
            settings["connect_timeout"], settings["read_timeout"] = connect, read
        if config is None:
            config = ClientConfig.from_env(**settings)
        elif any(value is not None for value in settings.values()):
            raise TypeError("pass either config= or individual settings, not both")
        self._integration = _check_integration(integration)
        _load()
        self._config = config
        self._closed = False
        self._numbers: dict[str, str] = {}
        self._timeout = Timeout(connect=config.connect_timeout, read=config.read_timeout)
        self._retry: Retry = config.retry.to_urllib3()
        self._transport = _make_transport(config)

    # -- public -----------------------------------------------------------------------------

    @property
    def config(self) -> ClientConfig:
        """The settings this client was made with (immutable)."""
        return self._config

    @property
    def integration(self) -> Integration:
        """How `send` travels unless a call says otherwise: "rest" (POST) or "http" (GET)."""
        return self._integration

    def send(
        self,
        to: str | Iterable[str],
        content: str,
        *,
        from_: str | None = None,
        binary: bool = False,
        client_message_id: str | None = None,
        scheduled_delivery_time: datetime | None = None,
        user_data_header: bytes | str | None = None,
        validity_period: timedelta | int | None = None,
        charset: Charset | str | None = None,
        timeout: TimeoutArg | None = None,
        retries: RetryPolicy | int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        integration: Integration | None = None,
    ) -> SendResult:
        """Send `content` to every number in `to`; one result per number, in the order given.

        `to` is one number or several, in international format ("+27 82 123 4567",
        "0027821234567", "27821234567") or national when the client has a `default_region`.
        The options are the API's: `from_` (a two-way number), `binary` (content is hex
        octets), `client_message_id` (your reference, echoed in callbacks; no spaces),
        `scheduled_delivery_time` (a timezone-aware datetime in the future),
        `user_data_header` (bytes or hex; its first octet is the length of the rest),
        `validity_period` (a timedelta of whole minutes, or minutes, 1 to 10080) and
        `charset` (ASCII, UCS2-BE, UTF-8 or Windows-1252). `timeout`, `retries` and
        `extra_headers` override the client's settings for this call.

        `integration="http"` (or the client's setting) sends with the HTTP integration's GET
        (`/messages/http/send`), which knows only `to`, `content` and `from_`: any other option
        is refused with a `ValidationError` naming it, never silently dropped. Results, retries
        and errors are the same as for the POST; the key, which travels in the URL there, is
        scrubbed from every error, log line and raw answer, and errors of that path carry no
        urllib3 exception as their cause (those quote the URL).

        Everything is checked first: a `ValidationError` names the option and the problem, and
        nothing is sent. More than 200 distinct numbers go out as several requests. A repeated
        number is sent once; its repeats come back rejected with `duplicate_of` set.

        Raises `AuthenticationError`, `RateLimitError`, `APIError` when the API refused the
        request as a whole; `ConnectionError`/`TimeoutError` when it provably never reached the
        API; `OutcomeUnknownError` when it may have (never resent automatically). When a send
        needed several requests and a later one fails, the error's `partial` holds the results
        of the earlier ones.
        """
        if self._closed:
            raise ClickatellError("this client is closed; make a new one")
        http = (
            self._integration if integration is None else _check_integration(integration)
        ) == "http"
        if http:
            _refuse_get_options(
                binary=binary,
                client_message_id=client_message_id,
                scheduled_delivery_time=scheduled_delivery_time,
                user_data_header=user_data_header,
                validity_period=validity_period,
                charset=charset,
            )
        try:
            inputs = [to] if isinstance(to, str) else list(to)
        except TypeError:
            raise ValidationError("to", "must be a number or a list of numbers", to) from None
        message, _ = self._check_message(
            content,
            from_=from_,
            binary=binary,
            client_message_id=client_message_id,
            scheduled_delivery_time=scheduled_delivery_time,
            user_data_header=user_data_header,
            validity_period=validity_period,
            charset=charset,
            http=http,
        )
        numbers = self._normalize_all(inputs)
        call_timeout = self._timeout if timeout is None else _as_timeout(timeout)
        call_retry = self._retry if retries is None else RetryPolicy.coerce(retries).to_urllib3()
        if extra_headers:
            for name, value in extra_headers.items():
                _check_header_text(f"extra_headers[{name!r}]", value, name=name)

        count = len(numbers)
        duplicates = find_duplicates(numbers) if len(set(numbers)) != count else {}
        unique = [i for i in range(count) if i not in duplicates] if duplicates else None
        order: list[int] | range = range(count) if unique is None else unique
        results: list[MessageResult | None] = [None] * count
        raws: list[RawResponse] = []
        size = MAX_RECIPIENTS_PER_REQUEST
        batches = -(-len(order) // size)
        for request_no, start in enumerate(range(0, len(order), size), 1):
            indexes = order[start : start + size]
            try:
                self._exchange(
                    message,
                    indexes,
                    inputs,
                    numbers,
                    results,
                    raws,
                    (request_no, batches),
                    extra_headers,
                    call_timeout,
                    call_retry,
                    http,
                )
            except ClickatellError as exc:
                if any(result is not None for result in results):
                    exc.partial = _collect(results, raws, inputs, numbers, duplicates, message)
                raise
        if duplicates:
            _fill_duplicates(results, inputs, numbers, duplicates)
        return SendResult(results, raws, message.client_message_id)  # type: ignore[arg-type]

    def send_many(
        self, recipients: Iterable[Any], content: str | None = None, **options: Any
    ) -> BulkSummary:
        """Send to any number of recipients, streamed, concurrent and journalled.

        The same as `clickatell_sms.bulk.send_many(client, recipients, content, **options)`;
        see there for the options (concurrency, rate limit, journal and resume, output).
        """
        from .bulk import send_many

        return send_many(self, recipients, content, **options)

    def balance(
        self,
        *,
        timeout: TimeoutArg | None = None,
        retries: RetryPolicy | int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Balance:
        """The account's balance: an exact Decimal `amount` and its `currency`.

        A look-up changes nothing, so it is retried on everything the policy allows, read
        timeouts and broken connections included (a send never is). Raises
        `AuthenticationError`, `RateLimitError`, `APIError`, `ResponseError` (an answer that is
        neither a balance nor an error), `ConnectionError` or `TimeoutError`.
        """
        response, raw = self._lookup(
            "balance look-up",
            lambda headers, timeout_, retry: wire.get_balance(
                self._transport, headers=headers, timeout=timeout_, retries=retry
            ),
            timeout,
            retries,
            extra_headers,
        )
        try:
            envelope, found = wire.read_balance(response)
            problem = ""
        except WireDecodeError as exc:
            envelope, found, problem = None, None, str(exc)
        self._check_answer("balance look-up", raw, envelope, problem, found is not None)
        assert found is not None  # _check_answer raised otherwise
        return Balance(found.amount, found.currency, raw)

    def message_status(
        self,
        api_message_id: str,
        *,
        timeout: TimeoutArg | None = None,
        retries: RetryPolicy | int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> StatusResult:
        """The latest status of a sent message, by the `api_message_id` its send returned.

        `result.status` has the numeric `code`, the `name`, the `description` and `is_final`
        (received, failed, expired, cancelled: nothing more will happen) as opposed to a state
        still moving (queued, delivered to gateway, scheduled). Codes and names this SDK does
        not know come through as the API sent them, classified as not final; they never raise.

        An ID the API does not know is an `APIError` (HTTP 404, error code 103 in the sandbox):
        Clickatell may not know a message for a while after the send, so it can be worth asking
        again later. Otherwise raises like `balance()`; retried like it too.
        """
        message_id = _check_message_id(api_message_id)
        response, raw = self._lookup(
            "status look-up",
            lambda headers, timeout_, retry: wire.get_status(
                self._transport, message_id, headers=headers, timeout=timeout_, retries=retry
            ),
            timeout,
            retries,
            extra_headers,
        )
        try:
            envelope, found = wire.read_status(response)
            problem = ""
        except WireDecodeError as exc:
            envelope, found, problem = None, None, str(exc)
        known = found is not None and (found.code is not None or bool(found.name))
        self._check_answer("status look-up", raw, envelope, problem, known)
        assert found is not None  # _check_answer raised otherwise
        return StatusResult(
            found.message_id or message_id,
            status_from(found.code, found.name, found.description),
            found.timestamp,
            raw,
        )

    @staticmethod
    def estimate(
        content: str, *, binary: bool = False, user_data_header: bytes | str | None = None
    ) -> Estimate:
        """The encoding (GSM-7, UCS-2 or binary) and number of parts, without sending anything.

        Needs no API key: `Client.estimate("...")` works on the class itself.
        """
        if not isinstance(content, str):
            raise ValidationError("content", f"must be a string, not {type(content).__name__}")
        return encoding.estimate(
            content, binary=binary, user_data_header=_udh_bytes(user_data_header)
        )

    def close(self) -> None:
        """Close the pool's connections; the client cannot send afterwards."""
        self._closed = True
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        config = self._config
        how = ", integration='http'" if self._integration == "http" else ""
        return (
            f"Client(base_url={config.base_url!r}, format={config.format!r}{how},"
            f" api_key={mask_key(config.api_key)})"
        )

    # -- validation -------------------------------------------------------------------------

    def _check_message(
        self,
        content: str,
        *,
        from_: str | None,
        binary: bool,
        client_message_id: str | None,
        scheduled_delivery_time: datetime | None,
        user_data_header: bytes | str | None,
        validity_period: timedelta | int | None,
        charset: str | None,
        http: bool = False,
    ) -> tuple[wire.Outgoing, Estimate]:
        """Every option in the API's units, or a ValidationError naming the first bad one."""
        if not isinstance(content, str):
            raise ValidationError("content", f"must be a string, not {type(content).__name__}")
        if not content:
            raise ValidationError("content", "is empty; the API needs some text", content)
        if not isinstance(binary, bool):
            raise ValidationError("binary", "must be True or False", binary)
        xml = self._config.format == "xml" and not http  # the GET send has no XML document
        if xml:
            _check_xml_text("content", content)
        elif http:
            _check_utf8("content", content)  # the query carries it as percent-encoded UTF-8
        udh = _udh_bytes(user_data_header)
        estimate = encoding.check_parts(content, binary=binary, user_data_header=udh)
        sender = None
        if from_ is not None:
            sender = normalize_number(
                from_, default_region=self._config.default_region, field="from_"
            )
        reference = None
        if client_message_id is not None:
            reference = _check_reference(client_message_id, xml)
        return (
            wire.Outgoing(
                content=content,
                from_=sender,
                binary=True if binary else None,
                client_message_id=reference,
                scheduled_delivery_time=_schedule(scheduled_delivery_time),
                user_data_header=None if udh is None else udh.hex().upper(),
                validity_period=_validity(validity_period),
                charset=_charset(charset),
            ),
            estimate,
        )

    def _normalize_all(self, inputs: list[str]) -> list[str]:
        """Each input's international digits, from a per-client cache when seen before."""
        if not inputs:
            raise ValidationError("to", "has no recipients", [])
        cache = self._numbers
        try:
            found = list(map(cache.get, inputs))  # C speed for numbers already seen
        except TypeError:  # an unhashable input; normalize_number says what is wrong with it
            found = [None] * len(inputs)
        if None not in found:
            return found  # type: ignore[return-value]
        region = self._config.default_region
        if len(cache) + len(inputs) > _NUMBER_CACHE_SIZE:
            cache.clear()  # a crude bound; normalising again costs about a microsecond a number
        missing = [index for index, number in enumerate(found) if number is None]
        try:
            fresh = normalize_many([inputs[i] for i in missing], default_region=region)
        except ValidationError as exc:
            if not exc.field.startswith("to["):
                raise
            # normalize_many counts within `missing`; the caller needs the index in its own list.
            position = int(exc.field[3:-1])
            raise ValidationError(f"to[{missing[position]}]", exc.problem, exc.value) from None
        for index, number in zip(missing, fresh, strict=True):
            cache[inputs[index]] = found[index] = number
        return found  # type: ignore[return-value]

    # -- look-ups ---------------------------------------------------------------------------

    def _lookup(
        self,
        what: str,
        call: Callable[[Mapping[str, str] | None, Timeout, Retry], Response],
        timeout: TimeoutArg | None,
        retries: RetryPolicy | int | None,
        extra_headers: Mapping[str, str] | None,
    ) -> tuple[Response, RawResponse]:
        """One GET that changes nothing: the answer, or the typed error for getting none."""
        if self._closed:
            raise ClickatellError("this client is closed; make a new one")
        call_timeout = self._timeout if timeout is None else _as_timeout(timeout)
        policy = self._config.retry if retries is None else RetryPolicy.coerce(retries)
        # Safe to repeat, so read timeouts and broken connections are retried too.
        retry = policy.to_urllib3().new(read=policy.max_retries)
        if extra_headers:
            for name, value in extra_headers.items():
                _check_header_text(f"extra_headers[{name!r}]", value, name=name)
        debug = logger.isEnabledFor(logging.DEBUG)
        started = time.perf_counter() if debug else 0.0
        try:
            response = call(extra_headers, call_timeout, retry)
        except _Urllib3Error as exc:
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
        return response, raw

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

    # -- one request ------------------------------------------------------------------------

    def _exchange(
        self,
        message: wire.Outgoing,
        indexes: list[int] | range,
        inputs: list[str],
        numbers: list[str],
        results: list[MessageResult | None],
        raws: list[RawResponse],
        position: tuple[int, int],
        headers: Mapping[str, str] | None,
        timeout: Timeout,
        retry: Retry,
        http: bool = False,
    ) -> None:
        """Send one request and put its recipients' results in `results` (or raise)."""
        config = self._config
        batch = [numbers[i] for i in indexes]
        debug = logger.isEnabledFor(logging.DEBUG)
        if debug:
            shown = ", ".join(mask_number(n, show=config.log_numbers) for n in batch[:3])
            more = f" and {len(batch) - 3} more" if len(batch) > 3 else ""
            logger.debug(
                "%s (request %d of %d, %s): %d recipients (%s%s)",
                "GET /messages/http/send" if http else "POST /messages",
                *position,
                "query" if http else config.format,
                len(batch),
                shown,
                more,
            )
        started = time.perf_counter() if debug else 0.0
        if http:
            response = self._send_get(message, batch, position, headers, timeout, retry)
        else:
            body = wire.build_request(config.format, message, batch)
            try:
                response = wire.post(
                    self._transport, body, headers=headers, timeout=timeout, retries=retry
                )
            except _Urllib3Error as exc:
                raise self._failure(exc, batch, message.client_message_id, position) from exc
            except ValueError as exc:  # the XML writer refusing a value: validation prevents it
                raise ValidationError("content", scrub(str(exc), config.api_key)) from exc
        if http:
            # What the server sends back is read only after the key is scrubbed out of it, so
            # neither `raw` nor a field decoded from the body (an error description) can hold it.
            response = _scrubbed(response, config.api_key)
        raw = RawResponse(response.status, response.headers, response.body)
        if debug:
            logger.debug(
                "answer to request %d of %d: HTTP %d, %d bytes in %.1f ms",
                *position,
                raw.status,
                len(raw.body),
                (time.perf_counter() - started) * 1000,
            )
        read = wire.read_get_envelope if http else wire.read_envelope
        entries = self._read(response, raw, batch, message.client_message_id, read)
        raws.append(raw)
        missing = self._place(entries, indexes, inputs, numbers, results, raw)
        if missing:
            raise OutcomeUnknownError(
                scrub(
                    f"the answer to request {position[0]} of {position[1]} (HTTP {raw.status})"
                    f" has no entry for {len(missing)} of its {len(batch)} recipients; they may"
                    " have been sent; not resent",
                    config.api_key,
                ),
                recipients=missing,
                client_message_id=message.client_message_id,
                raw=raw,
            )

    def _send_get(
        self,
        message: wire.Outgoing,
        batch: list[str],
        position: tuple[int, int],
        headers: Mapping[str, str] | None,
        timeout: Timeout,
        retry: Retry,
    ) -> Response:
        """The GET send, whose URL holds the key: no urllib3 exception may leave this method.

        urllib3's exceptions quote the URL (`Max retries exceeded with url: ...?apiKey=...`),
        and a chained cause or context is printed with every traceback and collected by error
        trackers, frame locals included. So the typed error is raised after the `except`
        block, with neither a cause nor a context; its message says what happened.
        """
        _guard_urllib3_logs()
        failure: ClickatellError
        try:
            return wire.send_get(
                self._transport, message, batch, headers=headers, timeout=timeout, retries=retry
            )
        except _Urllib3Error as exc:
            failure = self._failure(exc, batch, message.client_message_id, position)
        except ValueError:  # quote() refusing text: _check_utf8 prevents it
            failure = ValidationError("content", "cannot be encoded as UTF-8")
        raise failure

    def _failure(
        self,
        exc: Exception,
        batch: list[str],
        client_message_id: str | None,
        position: tuple[int, int],
    ) -> ClickatellError:
        """The typed error for a request that got no HTTP answer."""
        kind, reason = classify_failure(exc)
        where = self._config.base_url
        if kind == "unknown":
            logger.debug("not retrying: %s; reporting the outcome as unknown", reason)
            return OutcomeUnknownError(
                f"request {position[0]} of {position[1]} to {where}: {reason}; the message may"
                f" have been sent to {len(batch)} recipient(s) and was not resent",
                recipients=batch,
                client_message_id=client_message_id,
            )
        error_type = TimeoutError if kind == "connect-timeout" else ConnectionError
        return error_type(scrub(f"could not reach {where}: {reason}", self._config.api_key))

    def _read(
        self,
        response: Response,
        raw: RawResponse,
        batch: list[str],
        client_message_id: str | None,
        read: Callable[[Response], wire.Envelope],
    ) -> list[wire.WireEntry | None]:
        """Each recipient's entry (None: missing), or the typed error the answer calls for."""
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
            return _match(entries, batch)
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
        return _match(entries, batch)

    def _place(
        self,
        entries: list[wire.WireEntry | None],
        indexes: list[int] | range,
        inputs: list[str],
        numbers: list[str],
        results: list[MessageResult | None],
        raw: RawResponse,
    ) -> list[str]:
        """Put each entry's result at its recipient's index; the numbers left without one."""
        missing: list[str] = []
        for index, entry in zip(indexes, entries, strict=True):
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
        return missing


# -- helpers --------------------------------------------------------------------------------


def _check_integration(value: object) -> Integration:
    if value not in _INTEGRATIONS:
        raise ValidationError("integration", "must be 'rest' (POST) or 'http' (GET)", value)
    return value  # narrowed to the Literal by `in`


def _refuse_get_options(**options: object) -> None:
    """Options the GET send cannot carry are refused by name: dropping them would be a lie."""
    given = [name for name, value in options.items() if value is not None and value is not False]
    if given:
        raise ValidationError(
            ", ".join(given),
            "not supported by the HTTP integration's GET send, which takes only to, content"
            " and from_; send with integration='rest' (POST /messages) to use "
            + ("it" if len(given) == 1 else "them"),
        )


_MESSAGE_ID_CHARS: Final = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"
)


def _check_message_id(value: object) -> str:
    """The spec's ApiMessageId: 1 to 64 letters, digits or hyphens."""
    if not isinstance(value, str):
        raise ValidationError("api_message_id", "must be a string", value)
    text = value.strip()
    if not text or len(text) > 64 or not _MESSAGE_ID_CHARS.issuperset(text):
        raise ValidationError("api_message_id", "must be 1 to 64 letters, digits or hyphens", value)
    return text


def _is_read_timeout(exc: BaseException) -> bool:
    from urllib3.exceptions import MaxRetryError, ReadTimeoutError

    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    return isinstance(exc, ReadTimeoutError)


def _check_utf8(field: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            field,
            f"contains U+{ord(value[exc.start]):04X} at index {exc.start}, a lone surrogate"
            " that UTF-8 cannot carry",
        ) from None


# -- the key in the GET send's URL ----------------------------------------------------------

_KEY_IN_BYTES: Final = re.compile(rb"(?i)(apiKey=)[^&\s\"'<>]*")


def _secret_forms(key: str) -> list[bytes]:
    """The key as it may appear in an answer: as given, and percent-encoded as in the URL."""
    forms = {key.encode("utf-8"), quote(key, safe="").encode("ascii")}
    return sorted((form for form in forms if form), key=len, reverse=True)


def _scrub_bytes(data: bytes, secrets: list[bytes]) -> bytes:
    for secret in secrets:
        if secret in data:
            data = data.replace(secret, b"***")
    return _KEY_IN_BYTES.sub(rb"\1***", data) if b"=" in data else data


def _scrubbed(response: Response, key: str) -> Response:
    """The answer to a GET send, with the key removed should the server (or a proxy) echo the
    URL in the body or a header, as error pages do. Nothing else is changed."""
    secrets = _secret_forms(key)
    body = _scrub_bytes(response.body, secrets)
    headers: Mapping[str, str] = response.headers
    text_secrets = [secret.decode("utf-8") for secret in secrets]
    if any(
        "apikey=" in value.lower() or any(secret in value for secret in text_secrets)
        for value in headers.values()
    ):
        from urllib3 import HTTPHeaderDict

        headers = HTTPHeaderDict(
            {name: scrub(value, *text_secrets) for name, value in headers.items()}
        )
    if body is response.body and headers is response.headers:
        return response
    return dataclasses.replace(response, headers=headers, body=body)


class _QueryKeyFilter(logging.Filter):
    """Scrubs `apiKey=` values from urllib3's log records.

    urllib3 logs each request line at DEBUG (`"GET /messages/http/send?...&apiKey=KEY HTTP/1.1"
    202 245`) and each retry at WARNING with the URL; a filter on its loggers rewrites those
    records before any handler, the application's included, sees them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a broken record is the logging system's to report, not ours
            return True
        if "apikey=" in text.lower():
            record.msg, record.args = scrub(text), ()
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            if "apikey=" in formatted.lower():
                record.exc_text, record.exc_info = scrub(formatted), None
        return True


_LOG_FILTER: Final = _QueryKeyFilter()
_logs_guarded = False


def _guard_urllib3_logs() -> None:
    """Put the filter on urllib3's loggers (filters do not apply to records from child loggers,
    so each one gets it); done once, on the first GET send."""
    global _logs_guarded
    if _logs_guarded:
        return
    names = [name for name in list(logging.root.manager.loggerDict) if name.startswith("urllib3.")]
    for name in ["urllib3", *names]:
        target = logging.getLogger(name)
        if _LOG_FILTER not in target.filters:
            target.addFilter(_LOG_FILTER)
    _logs_guarded = True


def _make_transport(config: ClientConfig) -> Transport:
    from clickatell_wire.transport import Transport

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


def _match(entries: list[wire.WireEntry] | None, batch: list[str]) -> list[wire.WireEntry | None]:
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
    by_number: dict[str, wire.WireEntry] = {}
    for entry in entries:
        if entry[0] is not None:
            by_number.setdefault(entry[0].lstrip("+"), entry)
    return [by_number.get(number) for number in batch]


def _fill_duplicates(
    results: list[MessageResult | None],
    inputs: list[str],
    numbers: list[str],
    duplicates: dict[int, int],
) -> None:
    for index, first in duplicates.items():
        original = results[first]
        if original is None:
            continue
        results[index] = MessageResult(
            index,
            inputs[index],
            numbers[index],
            False,
            error="duplicate",
            description=f"same number as to[{first}]; sent once",
            duplicate_of=first,
            raw=original.raw,
        )


def _collect(
    results: list[MessageResult | None],
    raws: list[RawResponse],
    inputs: list[str],
    numbers: list[str],
    duplicates: dict[int, int],
    message: wire.Outgoing,
) -> SendResult:
    """The results known so far (a subset, in input order) for an error's `partial`."""
    done = list(results)
    _fill_duplicates(done, inputs, numbers, duplicates)
    return SendResult(
        [result for result in done if result is not None], raws, message.client_message_id
    )


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
    if status == 429 or (failed and code == _MT_LIMIT_CODE):
        retry_after = parse_retry_after(raw.headers.get("Retry-After"))
        if retry_after is None and code == _MT_LIMIT_CODE:
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


def _timeout_pair(timeout: TimeoutArg) -> tuple[float, float]:
    if isinstance(timeout, tuple):
        if len(timeout) != 2:
            raise ValidationError("timeout", "must be seconds or a (connect, read) pair", timeout)
        connect, read = timeout
    else:
        connect = read = timeout
    for value in (connect, read):
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ValidationError("timeout", "must be a number of seconds > 0", timeout)
    return float(connect), float(read)


def _as_timeout(timeout: TimeoutArg) -> Timeout:
    connect, read = _timeout_pair(timeout)
    return Timeout(connect=connect, read=read)


def _udh_bytes(value: bytes | str | None) -> bytes | None:
    """The header as octets; `encoding` then checks its length octet and size."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if not isinstance(value, str):
        raise ValidationError("user_data_header", "must be bytes or a hex string", value)
    text = value.strip()
    if text.lower().startswith("0x"):
        text = text[2:]
    if not text or not _HEX.issuperset(text):
        raise ValidationError("user_data_header", "is not hexadecimal", value)
    if len(text) % 2:
        raise ValidationError(
            "user_data_header", f"has an odd number of hex digits ({len(text)})", value
        )
    return bytes.fromhex(text)


def _schedule(value: datetime | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ValidationError(
            "scheduled_delivery_time", "must be a datetime with a timezone", value
        )
    offset = value.utcoffset()
    if offset is None:
        raise ValidationError(
            "scheduled_delivery_time",
            "has no timezone; pass an aware datetime (e.g. tzinfo=datetime.UTC)",
            value,
        )
    if offset.microseconds or offset.seconds % 60:
        raise ValidationError(
            "scheduled_delivery_time", "has a UTC offset with seconds, which the API cannot take"
        )
    if value <= datetime.now(UTC):
        raise ValidationError("scheduled_delivery_time", "is in the past", value)
    return value.strftime("%Y-%m-%dT%H:%M:%S%z")


def _validity(value: timedelta | int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        if seconds % 60:
            raise ValidationError("validity_period", "must be whole minutes", value)
        minutes = int(seconds // 60)
    elif isinstance(value, int) and not isinstance(value, bool):
        minutes = value
    else:
        raise ValidationError("validity_period", "must be a timedelta or minutes (int)", value)
    if not 1 <= minutes <= MAX_VALIDITY_MINUTES:
        raise ValidationError(
            "validity_period",
            f"is {minutes} minutes; must be from 1 to {MAX_VALIDITY_MINUTES} (one week)",
            value,
        )
    return minutes


def _charset(value: str | None) -> Charset | None:
    if value is None:
        return None
    found = _CHARSETS.get(value.lower()) if isinstance(value, str) else None
    if found is None:
        raise ValidationError(
            "charset", "must be one of ASCII, UCS2-BE, UTF-8, Windows-1252", value
        )
    return found


def _check_reference(value: str, xml: bool) -> str:
    if not isinstance(value, str):
        raise ValidationError("client_message_id", "must be a string", value)
    if not value:
        raise ValidationError("client_message_id", "is empty", value)
    if len(value) > 255:
        raise ValidationError(
            "client_message_id", f"is {len(value)} characters; at most 255", value
        )
    if any(char.isspace() for char in value):
        raise ValidationError("client_message_id", "contains whitespace", value)
    if xml:
        _check_xml_text("client_message_id", value)
    return value


def _check_xml_text(field: str, value: str) -> None:
    found = _XML_ILLEGAL.search(value)
    if found is not None:
        raise ValidationError(
            field,
            f"contains U+{ord(found.group()):04X} at index {found.start()}, which XML cannot"
            " carry; use format='json' or remove it",
        )
