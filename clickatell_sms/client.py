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
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

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

if TYPE_CHECKING:
    from clickatell_wire.transport import Response, Transport, WireDecodeError
    from urllib3.exceptions import HTTPError as _Urllib3Error
    from urllib3.util.retry import Retry
    from urllib3.util.timeout import Timeout

    from . import wire
    from .bulk import BulkSummary
    from .encoding import Estimate
    from .results import MessageResult, SendResult

__all__ = ["MAX_RECIPIENTS_PER_REQUEST", "Charset", "Client"]

logger = logging.getLogger("clickatell_sms")

Charset = Literal["ASCII", "UCS2-BE", "UTF-8", "Windows-1252"]

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
    global _loaded, _Urllib3Error, Timeout, WireDecodeError, wire, MessageResult, SendResult
    if _loaded:
        return
    from clickatell_wire.transport import WireDecodeError
    from urllib3.exceptions import HTTPError as _Urllib3Error
    from urllib3.util.timeout import Timeout

    from . import wire
    from .results import MessageResult, SendResult

    _loaded = True


class Client:
    """A Clickatell Platform client: one connection pool, safe to share across threads.

    Settings not given are read from `CLICKATELL_API_KEY` / `CLICKATELL_BASE_URL`; see
    `ClientConfig` for each one. Use it as a context manager (or call `close()`) to release the
    pool's connections.
    """

    __slots__ = ("_closed", "_config", "_numbers", "_retry", "_timeout", "_transport")

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
        return (
            f"Client(base_url={config.base_url!r}, format={config.format!r},"
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
    ) -> tuple[wire.Outgoing, Estimate]:
        """Every option in the API's units, or a ValidationError naming the first bad one."""
        if not isinstance(content, str):
            raise ValidationError("content", f"must be a string, not {type(content).__name__}")
        if not content:
            raise ValidationError("content", "is empty; the API needs some text", content)
        if not isinstance(binary, bool):
            raise ValidationError("binary", "must be True or False", binary)
        xml = self._config.format == "xml"
        if xml:
            _check_xml_text("content", content)
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
    ) -> None:
        """Send one request and put its recipients' results in `results` (or raise)."""
        config = self._config
        batch = [numbers[i] for i in indexes]
        debug = logger.isEnabledFor(logging.DEBUG)
        if debug:
            shown = ", ".join(mask_number(n, show=config.log_numbers) for n in batch[:3])
            more = f" and {len(batch) - 3} more" if len(batch) > 3 else ""
            logger.debug(
                "POST /messages (request %d of %d, %s): %d recipients (%s%s)",
                *position,
                config.format,
                len(batch),
                shown,
                more,
            )
        body = wire.build_request(config.format, message, batch)
        started = time.perf_counter() if debug else 0.0
        try:
            response = wire.post(
                self._transport, body, headers=headers, timeout=timeout, retries=retry
            )
        except _Urllib3Error as exc:
            raise self._failure(exc, batch, message.client_message_id, position) from exc
        except ValueError as exc:  # the XML writer refusing a value: validation should prevent it
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
        entries = self._read(response, raw, batch, message.client_message_id)
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
    ) -> list[wire.WireEntry | None]:
        """Each recipient's entry (None: missing), or the typed error the answer calls for."""
        status = raw.status
        try:
            envelope: wire.Envelope | None = wire.read_envelope(response)
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
        if status == 429 or (failed and code == _MT_LIMIT_CODE):
            retry_after = parse_retry_after(raw.headers.get("Retry-After"))
            if retry_after is None and code == _MT_LIMIT_CODE:
                retry_after = _seconds_until(description or error or "")
            wait = f"; retry after {retry_after:.0f} s" if retry_after is not None else ""
            raise RateLimitError(
                scrub(f"rate limited: {detail}{wait}", key),
                status=status,
                retry_after=retry_after,
                error_code=code,
                error=error,
                description=description,
                raw=raw,
            )
        if status in (401, 403) or (failed and code in _AUTH_CODES):
            raise AuthenticationError(
                scrub(f"authentication failed: {detail}", key),
                status=status,
                error_code=code,
                error=error,
                description=description,
                raw=raw,
            )
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
            retry_after = parse_retry_after(raw.headers.get("Retry-After"))
            if retry_after is not None:
                detail += f"; retry after {retry_after:.0f} s"
            raise APIError(
                scrub(f"request refused: {detail}", key),
                status=status,
                error_code=code,
                error=error,
                description=description,
                raw=raw,
            )
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
