"""The client: check everything, send each number once, and tell the caller exactly what happened.

A send goes through four steps, each in its own module:

1. Options (`options`, with `numbers` and `encoding`): every option is checked and converted to
   the API's units before any byte leaves the machine, so a mistake costs an exception, not an
   SMS.
2. Requests (here, and `wire`): recipients are normalised, repeats are sent once, and the rest go
   out in requests of at most 200, as JSON, XML or the HTTP integration's GET query.
3. Attempts (`answers.Call`, with `retry.RetryPolicy`): only what provably did not reach the API
   is tried again, every request ends by its deadline, and every failure or refusal becomes
   one of the errors in `errors`. `exchange` only sends over the generated urllib3 transport
   and waits when the call says so.
4. Answers (`answers`, then `matching`): success is read from the body, never from the status
   alone (the API has answered request-level errors with HTTP 200), and each recipient gets its
   own result, in input order.

`AsyncClient` (`async_client`) shares all four through `BaseClient`, here, and `answers.Call`:
what is its own is that it awaits its exchange, which awaits the aiohttp transport.

The HTTP stack and the wire models (`exchange`, `wire`, `matching`, `results`: urllib3 is most of
their import time) are imported by the methods that use them, with plain function-level imports:
`from clickatell_sms import Client` stays cheap for programs that only validate or estimate, the
first `Client()` pays for them, and later calls find them in `sys.modules` in well under a
microsecond. Python's import lock makes this safe from any number of threads, which
`importlib.util.LazyLoader` is not on Python 3.11 (bulk sends from several at once).

The same client reads the account's balance and a message's status, and can send the way HTTP
integrations do (`integration="http"`: a GET with the key in the URL, which `redact` then keeps
out of every log line, error and raw answer the SDK produces).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from types import MappingProxyType
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Final,
    Generic,
    TypeVar,
    Unpack,
    cast,
)

from clickatell_wire.tables import SendOptions

from . import encoding
from .config import (
    NOT_GIVEN,
    ClientConfig,
    ClientSettings,
    Integration,
    NotGiven,
    check_integration,
    transport_settings,
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
    unexpected_keywords,
)
from .redact import mask_key
from .retry import RetryPolicy

if TYPE_CHECKING:
    import urllib3
    from clickatell_wire.http_types import Request, Response

    from . import results, wire
    from .answers import Answers, Call
    from .bulk import BadRow, BulkOptions, BulkSummary, Recipient
    from .call_settings import CallSettings, SendSettings
    from .encoding import Estimate
    from .exchange import Exchange
    from .matching import SendRequest, SendRun  # the first send's, see above
    from .options import Outgoing
    from .raw import RawResponse

    Recipients = Iterable[str | Recipient | BadRow]
    """What `send_many` sends to: numbers, or rows with their own fields."""

    class SendManyOptions(BulkOptions, total=False):
        """The keywords of `send_many`: the run's (`BulkOptions`) and `dry_run`."""

        dry_run: bool


__all__ = ["MAX_RECIPIENTS_PER_REQUEST", "BaseClient", "Client", "Integration", "SendOptions"]

MAX_RECIPIENTS_PER_REQUEST: Final = MAX_RECIPIENTS
"""The API's limit on `to` in one request; longer lists are split transparently."""

_NUMBER_CACHE_SIZE: Final = 8192
_T = TypeVar("_T")
_F = TypeVar("_F")
_HttpClient = TypeVar("_HttpClient")


_CALL_SETTINGS: Final = frozenset({"timeout", "total_timeout", "retries", "extra_headers"})
"""`CallSettings`'s keys (a test holds the two equal)."""
_CallPlan = tuple[tuple[float, float], float, RetryPolicy]  # timeout, deadline, retry policy


class BaseClient(ABC, Generic[_HttpClient]):
    """What `Client` and `AsyncClient` share: settings, checks, requests planned, results.

    Every decision of a call is made here (and in `answers.Call`, for each request's attempts),
    before a byte leaves the machine or after the answer is in; the subclasses only hand the
    requests to their exchange, awaited or not.
    """

    __slots__ = ("_closed", "_config", "_numbers", "_timeout")

    OPERATIONS: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "sendMessage": "send",
            "sendMessageHttp": "send",  # integration="http"
            "getBalance": "balance",
            "getMessageStatus": "message_status",
        }
    )
    """The method that carries each of the spec's operations (tests hold it to the spec)."""

    DEFAULT_MAX_CONNECTIONS: ClassVar[int | None] = None
    """The connections the client keeps unless told otherwise (None: the config's default)."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        config: ClientConfig | None = None,
        integration: Integration | NotGiven = NOT_GIVEN,
        http_client: _HttpClient | None = None,
        **settings: Unpack[ClientSettings],
    ) -> None:
        unknown = settings.keys() - ClientSettings.__annotations__.keys()
        if unknown:
            raise TypeError(f"unexpected settings: {', '.join(sorted(unknown))}")
        given: dict[str, Any] = dict(settings)
        if config is None and given.get("max_connections") is None:
            given["max_connections"] = self.DEFAULT_MAX_CONNECTIONS
        given["api_key"] = api_key
        timeout = given.pop("timeout", None)
        retries = given.pop("retries", None)
        given["retry"] = None if retries is None else RetryPolicy.coerce(retries)
        if timeout is not None:
            connect, read = timeout_pair(timeout)
            given["connect_timeout"], given["read_timeout"] = connect, read
        # Left out, the integration is the config's (or the environment's); None is a mistake.
        chosen = None if isinstance(integration, NotGiven) else check_integration(integration)
        if config is None:
            config = ClientConfig.from_env(integration=chosen, **given)
        elif any(value is not None for value in given.values()):
            raise TypeError("pass either config= or individual settings, not both")
        elif chosen is not None and chosen != config.integration:
            config = config.replace(integration=chosen)
        self._config = config
        self._closed = False
        self._numbers: dict[str, str] = {}
        self._timeout = (config.connect_timeout, config.read_timeout)
        self._open(http_client)

    @abstractmethod
    def _open(self, http_client: _HttpClient | None) -> None:
        """Prepare the transport: its settings are read now, so a wrong one fails by name."""

    @abstractmethod
    def _exchanging(self) -> Answers:
        """The client's exchange: its transport, and the loop that runs a call's attempts."""

    # -- public -----------------------------------------------------------------------------

    @property
    def config(self) -> ClientConfig:
        """The settings this client was made with (immutable)."""
        return self._config

    @property
    def integration(self) -> Integration:
        """How `send` travels unless a call says otherwise: "rest" (POST) or "http" (GET)."""
        return self._config.integration

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

    def __repr__(self) -> str:
        config = self._config
        how = ", integration='http'" if config.integration == "http" else ""
        proxy = config.proxy
        via = f", proxy_url={proxy.shown!r}" if proxy is not None else ""
        return (
            f"{type(self).__name__}(base_url={config.base_url!r}, format={config.format!r}"
            f"{how}{via}, api_key={mask_key(config.api_key)})"
        )

    # -- shared by both clients -------------------------------------------------------------

    def _plan_send(self, to: str | Iterable[str], content: str, options: SendSettings) -> SendRun:
        """Everything checked, and the requests a send needs (none sent yet)."""
        SendRequest, SendRun = _planning()
        if self._closed:
            raise ClickatellError("this client is closed; make a new one")
        config = self._config
        if options:
            given = _taken_call_settings(options)
            integration = options.pop("integration", None)
            opt_outs = options.pop("opt_outs", None)
            http = (
                config.integration if integration is None else check_integration(integration)
            ) == "http"
        else:  # the usual send: no keywords
            given, opt_outs, http = None, None, config.integration == "http"
        try:
            inputs = [to] if isinstance(to, str) else list(to)
        except TypeError:
            raise ValidationError("to", "must be a number or a list of numbers", to) from None
        message = check_message(config, content, options, http=http)
        if not inputs:
            raise ValidationError("to", "has no recipients", [])
        # Numbers that need the full parse (formatted or national ones) are remembered per
        # client; bare international digits, a campaign's usual form, are as quick to check again.
        memo = self._numbers
        if len(memo) > _NUMBER_CACHE_SIZE:
            memo.clear()  # a crude bound; the full parse costs tens of microseconds a number
        try:
            numbers = normalize_many(inputs, default_region=config.default_region, memo=memo)
        except ValidationError as exc:
            raise _one_number_per_item(exc, inputs) from None
        if given:
            call_timeout, deadline, policy = self._plan_call(given)
            extra_headers = given.get("extra_headers")
        else:  # the client's settings
            call_timeout, deadline, policy = self._timeout, config.total_timeout, config.retry
            extra_headers = None
        run = SendRun(
            inputs, numbers, message.client_message_id, config.api_key, config.log_numbers
        )
        if opt_outs is not None:
            from .opt_outs import opted_out_now  # a send without opt-outs never loads the store

            run.skip_opted_out(opted_out_now(opt_outs, numbers))
        size = get_url_batch_size(message, numbers) if http else MAX_RECIPIENTS_PER_REQUEST
        order = run.order
        if isinstance(order, range) and len(order) <= size:  # one request, no repeats: the usual
            request = SendRequest(
                message, numbers, order, (1, 1), extra_headers, call_timeout, deadline, policy, http
            )
            run.requests = (request,)
            return run
        rest = (extra_headers, call_timeout, deadline, policy, http)  # every request's own
        run.requests = _batched(SendRequest, message, rest, order, numbers, size)
        return run

    def _plan_call(self, given: CallSettings) -> _CallPlan:
        """This call's timeouts and retry policy, checked (the client's where not given)."""
        extra_headers = given.get("extra_headers")
        if extra_headers:
            check_extra_headers(extra_headers)
        config = self._config
        timeout = given.get("timeout")
        total_timeout = given.get("total_timeout")
        retries = given.get("retries")
        return (
            self._timeout if timeout is None else timeout_pair(timeout),
            config.total_timeout if total_timeout is None else _total(total_timeout),
            config.retry if retries is None else RetryPolicy.coerce(retries),
        )

    def _balance_call(self, settings: CallSettings) -> Call[results.Balance]:
        """The balance look-up, checked, as a call for the exchange to run."""
        # The wire models (msgspec among them) load with the first request, not the import.
        from . import wire
        from .results import Balance

        def make(found: wire.WireBalance, raw: RawResponse) -> results.Balance:
            return Balance(found.amount, found.currency, raw)

        names = ("balance()", "balance look-up")
        return self._look_up(names, wire.balance_request, wire.read_balance, make, settings)

    def _status_call(
        self, api_message_id: str, settings: CallSettings
    ) -> Call[results.StatusResult]:
        """The status look-up of one message, checked, as a call for the exchange to run."""
        # The wire models and the results' types load with the first request, not the import.
        from . import wire
        from .results import StatusResult
        from .statuses import status_from

        message_id = check_message_id(api_message_id)

        def request(headers: Mapping[str, str] | None) -> Request:
            return wire.status_request(message_id, headers)

        def make(found: wire.WireStatus, raw: RawResponse) -> results.StatusResult:
            status = status_from(found.code, found.name, found.description)
            return StatusResult(found.message_id or message_id, status, found.timestamp, raw)

        names = ("message_status()", "status look-up")
        return self._look_up(names, request, read_known_status, make, settings)

    def _look_up(
        self,
        names: tuple[str, str],
        request: Callable[[Mapping[str, str] | None], Request],
        read: Callable[[Response], tuple[wire.Envelope, _F | None]],
        make: Callable[[_F, RawResponse], _T],
        settings: CallSettings,
    ) -> Call[_T]:
        """A look-up's call: its request and this call's settings, checked. `names` are the
        client's method, for a TypeError on a keyword it does not take, and the look-up's, for
        its errors and log lines."""
        from .answers import LookUpCall  # loaded by the exchange already; not at import

        if self._closed:
            raise ClickatellError("this client is closed; make a new one")
        method, what = names
        unknown = sorted(settings.keys() - _CALL_SETTINGS)
        if unknown:
            raise TypeError(unexpected_keywords(method, unknown))
        plan = self._plan_call(settings)
        wire_request = request(settings.get("extra_headers"))
        return LookUpCall(self._exchanging(), what, wire_request, read, make, plan)


class Client(BaseClient["urllib3.PoolManager"]):
    """A Clickatell Platform client: one connection pool, safe to share across threads.

    Settings not given are read from `CLICKATELL_API_KEY`, `CLICKATELL_BASE_URL` and
    `CLICKATELL_INTEGRATION`; see `ClientConfig` for each one. Use it as a context manager (or
    call `close()`) to release the pool's connections. `http_client` is a urllib3 PoolManager of
    your own: the client's pool for the API's host is made as that manager makes pools (its
    proxy, TLS and socket settings apply; its own pools are left alone, and `close()` leaves it
    open), and the deadline and the answer cap hold there as on every path.
    """

    __slots__ = ("_exchange", "_http_client", "_lock", "_transport_settings")

    def _open(self, http_client: urllib3.PoolManager | None) -> None:
        # Read now (the TLS files with them), so a wrong setting fails here by name; the send
        # stack (the wire models, msgspec, the transport, urllib3) loads with the first request.
        self._transport_settings = transport_settings(self._config)
        self._http_client = http_client
        self._exchange: Exchange | None = None
        self._lock = threading.Lock()

    def _exchanging(self) -> Exchange:
        """The client's exchange, made by the first request."""
        with self._lock:
            if self._exchange is None:
                from .exchange import Exchange  # loads urllib3: the first request pays for it

                self._exchange = Exchange(self._config, self._http_client, self._transport_settings)
            return self._exchange

    def send(
        self, to: str | Iterable[str], content: str, **options: Unpack[SendSettings]
    ) -> results.SendResult:
        """Send `content` to every number in `to`; one result per number, in the order given.

        `to` is one number or a list of them, in international format ("+27 82 123 4567",
        "0027821234567", "27821234567") or national when the client has a `default_region`;
        one number per item (a string with commas is refused: pass a list).
        `options` are the API's optional fields (`SendOptions`, from the spec): `from_` (a
        two-way number), `binary` (content is hex octets), `client_message_id` (your reference,
        echoed in callbacks), `scheduled_delivery_time` (an aware datetime in the future),
        `user_data_header` (bytes or hex; its first octet is the length of the rest),
        `validity_period` (a timedelta of whole minutes, or minutes), `charset`, and any field
        the spec adds. `timeout`, `total_timeout`, `retries` and `extra_headers` override the
        client's settings for this call (`CallSettings`). `opt_outs` (an opt-out store, its file
        or URL) leaves out numbers that opted out (rejected, `error="opted out"`).

        `integration="http"` (or the client's setting) sends by the HTTP integration's GET
        (`/messages/http/send`), which carries only the spec's fields for it (`to`, `content`,
        `from_`): any other option is refused with a `ValidationError`, never dropped. Results,
        retries and errors are as for the POST; the key, which travels in the URL, is scrubbed
        from every error, log line and raw answer (those errors have no library cause).

        Everything is checked first: a `ValidationError` names the option and the problem, and
        nothing is sent. More than 200 distinct numbers go out as several requests, each with
        its own deadline (`total_timeout`). A repeated number is sent once; its repeats come
        back rejected with `duplicate_of` set. An answer that does not add up (entries for
        numbers not sent, a shared apiMessageId, an acceptance without one) is logged at
        WARNING and listed in the result's `anomalies`.

        Raises `AuthenticationError`, `RateLimitError`, `APIError` when the API refused the
        request as a whole (`RedirectError` for a redirect); `ConnectionError`/`TimeoutError`
        when it provably never reached the API; `OutcomeUnknownError` when it may have (never
        resent automatically). When a send needed several requests and a later one fails, the
        error's `partial` holds the results of the earlier ones. A `KeyboardInterrupt` once
        requests go out carries `outcome_unknown`: an `OutcomeUnknownError` with the recipients
        of the request that was out (none between requests) and the results known so far.
        """
        run = self._plan_send(to, content, options)
        exchange = self._exchange or self._exchanging()
        try:
            for call in run.calls(exchange.send_call):
                run.place(exchange.run(call))
        except BaseException as stop:
            run.stopped(stop)
            raise
        return run.result()

    def send_many(
        self, recipients: Recipients, content: str | None = None, **options: Unpack[SendManyOptions]
    ) -> BulkSummary:
        """Send to any number of recipients, streamed, concurrent and journalled.

        The same as `clickatell_sms.bulk.send_many(client, recipients, content, ...)`; see there
        for the run's settings (`BulkOptions`: concurrency, rate limit, journal and resume,
        output, opt-outs). The options of `send` apply to every request. Numbers that opted out
        are skipped and reported `opted_out`. `dry_run=True` sends nothing and returns a
        `bulk.DryRun`: the summary the campaign would have, with its encodings and parts.
        """
        from .bulk import send_many  # the bulk engine loads only for a bulk send

        return send_many(self, recipients, content, **options)

    def balance(self, **settings: Unpack[CallSettings]) -> results.Balance:
        """The account's balance: an exact Decimal `amount` and its `currency`.

        A look-up changes nothing, so it is retried on everything the policy allows, read
        timeouts and broken connections included (a send never is). Takes the call's settings
        as `send` does (`CallSettings`). Raises `AuthenticationError`, `RateLimitError`,
        `APIError` (`RedirectError` for a redirect), `ResponseError` (an answer that is neither
        a balance nor an error), `ConnectionError` or `TimeoutError`.
        """
        call = self._balance_call(settings)
        return self._exchanging().run(call)

    def message_status(
        self, api_message_id: str, **settings: Unpack[CallSettings]
    ) -> results.StatusResult:
        """The latest status of a sent message, by the `api_message_id` its send returned.

        `result.status` has the numeric `code`, the `name`, the `description` and `is_final`
        (received, failed, expired, cancelled: nothing more will happen) as opposed to a state
        still moving (queued, delivered to gateway, scheduled). Codes and names this SDK does
        not know come through as the API sent them, classified as not final; they never raise.

        An ID the API does not know is an `APIError` (HTTP 404, error code 103 in the sandbox):
        Clickatell may not know a message for a while after the send, so it can be worth asking
        again later. Otherwise raises like `balance()`; retried like it too.
        """
        call = self._status_call(api_message_id, settings)
        return self._exchanging().run(call)

    def close(self) -> None:
        """Close the pool's connections; the client cannot send afterwards."""
        self._closed = True
        if self._exchange is not None:
            self._exchange.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _taken_call_settings(options: SendSettings) -> CallSettings:
    """The call's settings, taken out of a send's keywords (what is left are its options)."""
    given = cast("dict[str, object]", options)
    return cast("CallSettings", {name: given.pop(name) for name in _CALL_SETTINGS if name in given})


def read_known_status(response: Response) -> tuple[wire.Envelope, wire.WireStatus | None]:
    """A status answer's fields, counted as no status when it has neither a code nor a name."""
    from . import wire  # loaded by the first request already; not at import

    envelope, found = wire.read_status(response)
    if found is not None and found.code is None and not found.name:
        return envelope, None
    return envelope, found


def _batched(
    made: type[SendRequest],
    message: Outgoing,
    rest: tuple[Any, ...],
    order: list[int] | range,
    numbers: list[str],
    size: int,
) -> list[SendRequest]:
    """A send's requests of at most `size` recipients each, in input order (repeats and opted-out
    numbers left out); `rest` is the fields every request of the send shares after its position."""
    batches = -(-len(order) // size)
    requests = []
    for request_no, start in enumerate(range(0, len(order), size), 1):
        indexes = order[start : start + size]
        # Without repeats the indexes are a range, and the numbers a slice.
        batch = (
            numbers[start : start + size]
            if isinstance(order, range)
            else [numbers[i] for i in indexes]
        )
        requests.append(made(message, batch, indexes, (request_no, batches), *rest))
    return requests


@cache
def _planning() -> tuple[type[SendRequest], type[SendRun]]:
    """The classes a send is planned with, imported by the first send: `matching` loads the
    results' modules, which `from clickatell_sms import Client` does not need. (A function-level
    import would cost every send more than a cached call.)"""
    from .matching import SendRequest, SendRun  # the first send's, see above

    return SendRequest, SendRun


def _one_number_per_item(error: ValidationError, inputs: list[str]) -> ValidationError:
    """A number's refusal, said better when its input holds several numbers joined by commas
    or semicolons."""
    given = inputs[int(error.field[3:-1])] if error.field.startswith("to[") else None
    if isinstance(given, str) and any(sep in given for sep in ",;"):
        return ValidationError(
            error.field,
            "holds several numbers; give one number per item and pass a list, e.g."
            " to=['+27821234567', '+27821234568']",
            error.value,
        )
    return error


def _total(total_timeout: float) -> float:
    """This call's deadline per request, in seconds (checked like the config's)."""
    if (
        isinstance(total_timeout, bool)
        or not isinstance(total_timeout, int | float)
        or total_timeout <= 0
    ):
        raise ValidationError("total_timeout", "must be a number of seconds > 0", total_timeout)
    return float(total_timeout)
