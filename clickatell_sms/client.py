"""The client: check everything, send each number once, and tell the caller exactly what happened.

A send goes through four steps, each in its own module:

1. Options (`options`, with `numbers` and `encoding`): every option is checked and converted to
   the API's units before any byte leaves the machine, so a mistake costs an exception, not an
   SMS.
2. Requests (here, and `wire`): recipients are normalised, repeats are sent once, and the rest go
   out in requests of at most 200, as JSON, XML or the HTTP integration's GET query.
3. Transport (`exchange`, over the generated urllib3 transport, with `retry.RetryPolicy`): only
   what provably did not reach the API is tried again, and every failure or refusal becomes one
   of the errors in `errors`.
4. Answers (`exchange`, then `matching`): success is read from the body, never from the status
   alone (the API has answered request-level errors with HTTP 200), and each recipient gets its
   own result, in input order.

The same client reads the account's balance and a message's status, and can send the way HTTP
integrations do (`integration="http"`: a GET with the key in the URL, which `redact` then keeps
out of every log line, error and raw answer the SDK produces).

The HTTP stack and the wire models (`exchange`, `wire`, `matching`, `results`: urllib3 is most of
their import time) are imported by the methods that use them, with plain function-level imports:
`from clickatell_sms import Client` stays cheap for programs that only validate or estimate, the
first `Client()` pays for them, and later calls find them in `sys.modules` in well under a
microsecond. Python's import lock makes this safe from any number of threads, which
`importlib.util.LazyLoader` is not on Python 3.11 (bulk sends from several at once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, TypeVar, Unpack

from clickatell_wire.tables import SendOptions

from . import encoding
from .config import (
    NOT_GIVEN,
    ClientConfig,
    Format,
    Integration,
    NotGiven,
    TimeoutArg,
    check_integration,
)
from .errors import ClickatellError, ValidationError
from .numbers import normalize_many
from .options import (
    MAX_RECIPIENTS,
    check_content,
    check_extra_headers,
    check_message,
    check_message_id,
    get_url_batch_size,
    timeout_pair,
    udh_bytes,
)
from .redact import mask_key
from .retry import RetryPolicy
from .statuses import status_from

if TYPE_CHECKING:
    from clickatell_wire.transport import Response
    from urllib3.util.retry import Retry
    from urllib3.util.timeout import Timeout

    from . import wire
    from .bulk import BadRow, BulkResult, BulkSummary, Progress, Recipient
    from .encoding import Estimate
    from .raw import RawResponse
    from .results import Balance, SendResult, StatusResult

__all__ = ["MAX_RECIPIENTS_PER_REQUEST", "Client", "Integration", "SendOptions"]

MAX_RECIPIENTS_PER_REQUEST: Final = MAX_RECIPIENTS
"""The API's limit on `to` in one request; longer lists are split transparently."""

_NUMBER_CACHE_SIZE: Final = 8192
_T = TypeVar("_T")


class Client:
    """A Clickatell Platform client: one connection pool, safe to share across threads.

    Settings not given are read from `CLICKATELL_API_KEY`, `CLICKATELL_BASE_URL` and
    `CLICKATELL_INTEGRATION`; see `ClientConfig` for each one. Use it as a context manager (or
    call `close()`) to release the pool's connections.
    """

    __slots__ = ("_closed", "_config", "_exchange", "_numbers", "_retry", "_timeout")

    OPERATIONS: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "sendMessage": "send",
            "sendMessageHttp": "send",  # integration="http"
            "getBalance": "balance",
            "getMessageStatus": "message_status",
        }
    )
    """The method that carries each of the spec's operations (tests hold it to the spec)."""

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
        integration: Integration | NotGiven = NOT_GIVEN,
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
            connect, read = timeout_pair(timeout)
            settings["connect_timeout"], settings["read_timeout"] = connect, read
        # Left out, the integration is the config's (or the environment's); None is a mistake.
        chosen = None if isinstance(integration, NotGiven) else check_integration(integration)
        if config is None:
            config = ClientConfig.from_env(integration=chosen, **settings)
        elif any(value is not None for value in settings.values()):
            raise TypeError("pass either config= or individual settings, not both")
        elif chosen is not None and chosen != config.integration:
            config = config.replace(integration=chosen)
        self._config = config
        self._closed = False
        self._numbers: dict[str, str] = {}
        from .exchange import Exchange, as_timeout

        self._timeout: Timeout = as_timeout((config.connect_timeout, config.read_timeout))
        self._retry: Retry = config.retry.to_urllib3()
        self._exchange = Exchange(config)

    # -- public -----------------------------------------------------------------------------

    @property
    def config(self) -> ClientConfig:
        """The settings this client was made with (immutable)."""
        return self._config

    @property
    def integration(self) -> Integration:
        """How `send` travels unless a call says otherwise: "rest" (POST) or "http" (GET)."""
        return self._config.integration

    def send(
        self,
        to: str | Iterable[str],
        content: str,
        *,
        timeout: TimeoutArg | None = None,
        retries: RetryPolicy | int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        integration: Integration | None = None,
        **options: Unpack[SendOptions],
    ) -> SendResult:
        """Send `content` to every number in `to`; one result per number, in the order given.

        `to` is one number or several, in international format ("+27 82 123 4567",
        "0027821234567", "27821234567") or national when the client has a `default_region`.
        `options` are the API's optional fields (`SendOptions`, from the spec): `from_` (a
        two-way number), `binary` (content is hex octets), `client_message_id` (your reference,
        echoed in callbacks), `scheduled_delivery_time` (an aware datetime in the future),
        `user_data_header` (bytes or hex; its first octet is the length of the rest),
        `validity_period` (a timedelta of whole minutes, or minutes), `charset`, and any field
        the spec adds. `timeout`, `retries` and `extra_headers` override the client's settings
        for this call.

        `integration="http"` (or the client's setting) sends with the HTTP integration's GET
        (`/messages/http/send`), which carries only the fields the spec gives it (`to`,
        `content`, `from_`): any other option is refused with a `ValidationError` naming it,
        never silently dropped. Results, retries and errors are the same as for the POST; the
        key, which travels in the URL there, is scrubbed from every error, log line and raw
        answer, and errors of that path carry no urllib3 exception as their cause (those quote
        the URL).

        Everything is checked first: a `ValidationError` names the option and the problem, and
        nothing is sent. More than 200 distinct numbers go out as several requests. A repeated
        number is sent once; its repeats come back rejected with `duplicate_of` set.

        Raises `AuthenticationError`, `RateLimitError`, `APIError` when the API refused the
        request as a whole; `ConnectionError`/`TimeoutError` when it provably never reached the
        API; `OutcomeUnknownError` when it may have (never resent automatically). When a send
        needed several requests and a later one fails, the error's `partial` holds the results
        of the earlier ones.
        """
        from .exchange import as_timeout
        from .matching import ResultCollector, SendRequest

        if self._closed:
            raise ClickatellError("this client is closed; make a new one")
        http = (
            self._config.integration if integration is None else check_integration(integration)
        ) == "http"
        try:
            inputs = [to] if isinstance(to, str) else list(to)
        except TypeError:
            raise ValidationError("to", "must be a number or a list of numbers", to) from None
        message = check_message(self._config, content, options, http=http)
        numbers = self._normalize_all(inputs)
        call_timeout = self._timeout if timeout is None else as_timeout(timeout)
        call_retry = self._retry if retries is None else RetryPolicy.coerce(retries).to_urllib3()
        if extra_headers:
            check_extra_headers(extra_headers)

        collector = ResultCollector(
            inputs, numbers, message.client_message_id, self._config.api_key
        )
        order = collector.order
        size = get_url_batch_size(message, numbers) if http else MAX_RECIPIENTS_PER_REQUEST
        batches = -(-len(order) // size)
        for request_no, start in enumerate(range(0, len(order), size), 1):
            indexes = order[start : start + size]
            request = SendRequest(
                message,
                [numbers[i] for i in indexes],
                indexes,
                (request_no, batches),
                extra_headers,
                call_timeout,
                call_retry,
                http,
            )
            try:
                raw, entries = self._exchange.send(request)
                collector.place(request, raw, entries)
            except ClickatellError as exc:
                exc.partial = collector.partial()
                raise
        return collector.result()

    def send_many(
        self,
        recipients: Iterable[str | Recipient | BadRow],
        content: str | None = None,
        *,
        concurrency: int = 4,
        rate_limit: float | None = None,
        journal: str | Path | None = None,
        resume: bool = False,
        resend_unknown: bool | Iterable[str] = False,
        on_result: Callable[[BulkResult], object] | None = None,
        progress: bool | Progress = False,
        output: str | Path | None = None,
        output_format: Literal["csv", "jsonl"] | None = None,
        unique: bool = True,
        stop_after: int | None = 3,
        batch_size: int = MAX_RECIPIENTS,
        journal_sync: Literal["normal", "full"] = "normal",
        identity: Mapping[str, str] | None = None,
        total: int | None = None,
        timeout: TimeoutArg | None = None,
        retries: RetryPolicy | int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        integration: Integration | None = None,
        **options: Unpack[SendOptions],
    ) -> BulkSummary:
        """Send to any number of recipients, streamed, concurrent and journalled.

        The same as `clickatell_sms.bulk.send_many(client, recipients, content, ...)`; see there
        for the run's settings (concurrency, rate limit, journal and resume, output). `options`
        are `send`'s, applied to every request.
        """
        from .bulk import send_many

        return send_many(
            self,
            recipients,
            content,
            concurrency=concurrency,
            rate_limit=rate_limit,
            journal=journal,
            resume=resume,
            resend_unknown=resend_unknown,
            on_result=on_result,
            progress=progress,
            output=output,
            output_format=output_format,
            unique=unique,
            stop_after=stop_after,
            batch_size=batch_size,
            journal_sync=journal_sync,
            identity=identity,
            total=total,
            timeout=timeout,
            retries=retries,
            extra_headers=extra_headers,
            integration=integration,
            **options,
        )

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
        from . import wire
        from .results import Balance

        found, raw = self._look_up(
            "balance look-up",
            wire.get_balance,
            wire.read_balance,
            timeout,
            retries,
            extra_headers,
        )
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
        from . import wire
        from .results import StatusResult

        message_id = check_message_id(api_message_id)
        found, raw = self._look_up(
            "status look-up",
            partial(wire.get_status, message_id=message_id),
            _read_known_status,
            timeout,
            retries,
            extra_headers,
        )
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
        check_content(content)
        return encoding.estimate(
            content, binary=binary, user_data_header=udh_bytes(user_data_header)
        )

    def close(self) -> None:
        """Close the pool's connections; the client cannot send afterwards."""
        self._closed = True
        self._exchange.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        config = self._config
        how = ", integration='http'" if config.integration == "http" else ""
        return (
            f"Client(base_url={config.base_url!r}, format={config.format!r}{how},"
            f" api_key={mask_key(config.api_key)})"
        )

    # -- private ----------------------------------------------------------------------------

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

    def _look_up(
        self,
        what: str,
        get: Callable[..., Response],
        read: Callable[[Response], tuple[wire.Envelope, _T | None]],
        timeout: TimeoutArg | None,
        retries: RetryPolicy | int | None,
        extra_headers: Mapping[str, str] | None,
    ) -> tuple[_T, RawResponse]:
        """A read-only GET with this call's settings: what `read` found, and the raw answer."""
        if self._closed:
            raise ClickatellError("this client is closed; make a new one")
        from .exchange import as_timeout

        call_timeout = self._timeout if timeout is None else as_timeout(timeout)
        policy = self._config.retry if retries is None else RetryPolicy.coerce(retries)
        # Safe to repeat, so read timeouts and broken connections are retried too.
        retry = policy.to_urllib3().new(read=policy.max_retries)
        if extra_headers:
            check_extra_headers(extra_headers)
        return self._exchange.look_up(what, get, read, extra_headers, call_timeout, retry)


def _read_known_status(response: Response) -> tuple[wire.Envelope, wire.WireStatus | None]:
    """A status answer's fields, counted as no status when it has neither a code nor a name."""
    from . import wire

    envelope, found = wire.read_status(response)
    if found is not None and found.code is None and not found.name:
        return envelope, None
    return envelope, found
