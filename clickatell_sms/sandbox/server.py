"""`Sandbox`: a local Clickatell Platform API on a loopback port, started and stopped from Python.

The server runs an asyncio event loop on its own thread, so it can be used from synchronous test
code and from the command line alike. `start()` returns once the port is listening (the port is
bound in the caller's thread, so a busy port fails right there); `stop()` closes the listening
socket and every open connection, stops the callback thread and joins both threads, so the port
is free again when it returns. On that loop run two tasks: the accept loop and the sweep that
enforces `ServerLimits` (both in `connections`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Literal

from ..loopback import is_loopback
from ..statuses import MessageStatus
from .app import SandboxApp
from .billing import DEFAULT_BALANCE, DEFAULT_PRICE_PER_PART, Account
from .callbacks import CallbackDelivery, CallbackPoster
from .connections import Connections, accept_forever, sweep_forever
from .faults import Faults
from .limits import ServerLimits
from .profile import Profile
from .protocol import HttpConnection
from .quirks import Quirks
from .replies import Replies
from .store import MemoryStore, MessageStore, RecordedMessage, SQLiteStore
from .timeline import Failures, StatusDelays, status_at

__all__ = ["Sandbox"]

logger = logging.getLogger("clickatell_sms.sandbox")
_DEFAULT_DELAYS = StatusDelays()
_BACKLOG = 1024  # a burst of connects waits in the kernel's queue instead of being retried


class Sandbox:
    """A Clickatell-compatible API server for tests and local development.

    >>> with Sandbox() as sb:                      # doctest: +SKIP
    ...     client = Client(api_key=sb.api_key, base_url=sb.base_url)
    ...     client.send(to=["27821234567"], content="hi")
    ...     assert sb.messages()[0].to == "27821234567"

    `api_keys` are the integration's valid keys (`api_key` is the first). Which integration it
    plays decides what it does with `from`: by default one whose numbers it was not told, which
    takes any `from` (Clickatell's own example request has one, answered 202); `two_way_numbers`
    makes it a two-way integration that owns those numbers, so `from` is required and must be
    one of them (106); `one_way=True` imitates a one-way integration, which refuses any `from`
    (607, as a live answer was seen to). `store` is None (in memory), a path
    (an SQLite file) or a `MessageStore`. `status_delays` are the seconds from queued to
    delivered-to-gateway and from there to received (a `StatusDelays` or a pair). `seed` makes
    fault injection repeatable. Binds 127.0.0.1 unless `host` says otherwise. `limits` bounds
    how long a connection may idle or take to send a request, and how many may be open
    (`ServerLimits`; the defaults suit tests and local development).

    `strict=True` also refuses what only this project infers the live API refuses (the default
    accepts such a request with an `X-Sandbox-Warning`); `observed` is a conformance report
    (`clickatell-sms conformance --json`) whose observations of the live API win over both. See
    docs/sandbox.md for every rule and its evidence.

    `failure_rate` makes that share of the accepted messages (other than the test numbers) end
    in a failure status drawn from the spec's list, and `callback_loss` drops that share of the
    status callbacks (each on its own), so that a receiver has failures to count and silent
    messages to look up; both draws are seeded by `seed`.

    `reply_rate` makes the handsets answer that share of the messages sent from one of the
    `two_way_numbers` (and received), with `reply_text`, as reply callbacks to `callback_url`:
    so a listener's opt-outs can be tried end to end (see `replies`).
    """

    def __init__(
        self,
        api_keys: Sequence[str] | str = ("sandbox-key",),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        two_way_numbers: Iterable[str] = (),
        one_way: bool = False,
        balance: Decimal | int | str = DEFAULT_BALANCE,
        currency: str = "ZAR",
        price_per_part: Decimal | int | str = DEFAULT_PRICE_PER_PART,
        faults: Faults | None = None,
        quirks: Quirks | None = None,
        store: MessageStore | str | Path | None = None,
        callback_url: str | None = None,
        callback_method: Literal["POST", "GET"] = "POST",
        status_delays: StatusDelays | tuple[float, float] = _DEFAULT_DELAYS,
        seed: int = 0,
        integration_name: str = "sandbox",
        limits: ServerLimits | None = None,
        strict: bool = False,
        observed: str | Path | None = None,
        failure_rate: float = 0.0,
        callback_loss: float = 0.0,
        reply_rate: float = 0.0,
        reply_text: str = "STOP",
    ) -> None:
        self._keys = keys = _checked_keys(api_keys)
        two_way_numbers = tuple(two_way_numbers)
        replies = Replies(reply_rate, reply_text, seed)
        _check_replies(replies, two_way_numbers, callback_url)
        self._host = host
        self._requested_port = port
        self._store, self._owns_store = _open_store(store)
        self._poster = _callback_poster(
            callback_url, callback_method, integration_name, callback_loss, seed
        )
        self._account = Account(Decimal(balance), currency, Decimal(price_per_part))
        self._app = SandboxApp(
            api_keys=keys,
            two_way_numbers=two_way_numbers,
            one_way=one_way,
            account=self._account,
            store=self._store,
            delays=StatusDelays.of(status_delays),
            faults=faults or Faults(),
            quirks=quirks or Quirks(),
            seed=seed,
            profile=_profile(strict, observed),
            callbacks=self._poster,
            failures=Failures(failure_rate, seed),
            replies=replies,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: socket.socket | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._thread: threading.Thread | None = None
        self._connections = Connections(limits or ServerLimits())
        self._address: tuple[str, int] | None = None
        self._state: Literal["new", "running", "stopped"] = "new"

    # ----------------------------------------------------------------------------------------
    # Lifecycle

    def start(self) -> Sandbox:
        """Bind, start serving on a background thread, and return once it is listening."""
        if self._state != "new":
            raise RuntimeError("a Sandbox starts once; create a new one to start again")
        sock = _bind(self._host, self._requested_port)
        self._address = sock.getsockname()[:2]
        if not is_loopback(self._host):
            logger.warning("the Clickatell sandbox listens on %s, beyond loopback", self._host)
        self._listener = sock
        loop = asyncio.new_event_loop()
        app, connections = self._app, self._connections

        def serve() -> None:
            asyncio.set_event_loop(loop)
            self._tasks = [
                loop.create_task(
                    accept_forever(sock, lambda: HttpConnection(app, connections), connections)
                ),
                loop.create_task(sweep_forever(connections)),
            ]
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=serve, name="clickatell-sandbox", daemon=True)
        self._thread.start()
        if self._poster is not None:
            self._poster.start()
        self._state = "running"
        return self

    def stop(self) -> None:
        """Close the port and every connection, stop callbacks, join threads. Idempotent."""
        if self._state != "running":
            self._state = "stopped"
            return
        self._state = "stopped"
        loop = self._loop
        assert loop is not None and self._thread is not None
        future = asyncio.run_coroutine_threadsafe(self._shut_down(), loop)
        try:
            future.result(timeout=10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(timeout=10)
        if self._poster is not None:
            self._poster.stop()
        if self._owns_store:
            self._store.close()

    async def _shut_down(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._listener is not None:
            self._listener.close()
        self._connections.abort_all()
        # Aborted transports close their sockets on the next loop turns.
        for _ in range(5):
            await asyncio.sleep(0)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._address else "not started"
        return f"Sandbox({where}, {self._state})"

    # ----------------------------------------------------------------------------------------
    # Where it is

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`: give it to the client as its base URL."""
        if self._address is None:
            raise RuntimeError("the sandbox has not been started")
        host, port = self._address
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    @property
    def port(self) -> int:
        """The port it listens on (the one the OS chose when created with port 0)."""
        if self._address is None:
            raise RuntimeError("the sandbox has not been started")
        return self._address[1]

    @property
    def limits(self) -> ServerLimits:
        """The timeouts and connection cap it runs with."""
        return self._connections.limits

    @property
    def connections_open(self) -> int:
        """Client connections open right now (never more than `limits.max_connections`)."""
        return self._connections.count

    @property
    def api_key(self) -> str:
        """The first configured API key."""
        return self._keys[0]

    @property
    def api_keys(self) -> tuple[str, ...]:
        return self._keys

    # ----------------------------------------------------------------------------------------
    # What happened

    def messages(self) -> list[RecordedMessage]:
        """Every accepted message (one per recipient), oldest first."""
        return self._store.all()

    def clear_messages(self) -> None:
        """Forget the recorded messages (the balance is not refunded)."""
        self._store.clear()

    def status(self, api_message_id: str) -> MessageStatus:
        """A message's status now, as the status look-up would answer; KeyError if unknown."""
        record = self._store.get(api_message_id)
        if record is None:
            raise KeyError(api_message_id)
        return status_at(record, self._app.delays, time.time(), self._app.failures).status

    @property
    def requests_seen(self) -> int:
        """API requests received (the `/_sandbox/` endpoints are not counted)."""
        return self._app.requests_seen

    @property
    def faults_injected(self) -> int:
        """Faults injected by rate since the last `set_faults` (header faults not counted)."""
        return self._app.injector.injected

    @property
    def balance(self) -> Decimal:
        """What is left on the account."""
        return self._account.balance

    def set_balance(self, balance: Decimal | int | str) -> None:
        """Replace the balance, for example with 0 to test running out of credit."""
        self._account.set_balance(Decimal(balance))

    @property
    def profile(self) -> Profile:
        """Which rules this sandbox enforces (default, strict, observed)."""
        return self._app.profile

    def refusals(self) -> Counter[str]:
        """How often each rule refused a request or a recipient, by rule id."""
        return self._app.rule_log.counts()[0]

    def warnings(self) -> Counter[str]:
        """How often each inferred rule was broken and let through with a warning, by rule id."""
        return self._app.rule_log.counts()[1]

    def callbacks(self) -> list[CallbackDelivery]:
        """Every status callback attempt so far (empty without a callback URL)."""
        return [] if self._poster is None else self._poster.deliveries()

    @property
    def callbacks_lost(self) -> int:
        """Status callbacks dropped on purpose (`callback_loss`) so far."""
        return 0 if self._poster is None else self._poster.lost

    def wait_for_callbacks(self, timeout: float = 5.0) -> bool:
        """Wait until every queued status callback has been sent; False on timeout."""
        return True if self._poster is None else self._poster.wait_idle(timeout)

    # ----------------------------------------------------------------------------------------
    # Changing behaviour while running

    def set_faults(self, faults: Faults | None, *, seed: int | None = None) -> None:
        """Replace the fault settings (None: no faults); restarts the seeded stream and count."""
        self._app.set_faults(faults, seed)

    def set_quirks(self, quirks: Quirks | None) -> None:
        """Replace the quirks (None: none)."""
        self._app.set_quirks(quirks)


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(_BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _checked_keys(api_keys: Sequence[str] | str) -> tuple[str, ...]:
    keys = (api_keys,) if isinstance(api_keys, str) else tuple(api_keys)
    if not keys or not all(keys):
        raise ValueError("a sandbox needs at least one non-empty API key")
    return keys


def _callback_poster(
    url: str | None, method: Literal["POST", "GET"], integration_name: str, loss: float, seed: int
) -> CallbackPoster | None:
    """What posts the status callbacks to `url`; None when there is none to post to."""
    if not url:
        return None
    return CallbackPoster(
        url, method=method, integration_name=integration_name, loss=loss, seed=seed
    )


def _open_store(store: MessageStore | str | Path | None) -> tuple[MessageStore, bool]:
    """The record of accepted messages `store` names, and whether the sandbox owns it (and
    so closes it when it stops): an SQLite file it opens, or memory; not a store it is given."""
    if isinstance(store, str | Path):
        return SQLiteStore(store), True
    if store is None:
        return MemoryStore(), True
    return store, False


def _profile(strict: bool, observed: str | Path | None) -> Profile:
    """The rules to enforce: the default or strict profile, with a conformance report's
    observations of the live API over them when one is given."""
    if observed is None:
        return Profile(strict=strict)
    return Profile.from_report(observed, strict=strict)


def _check_replies(replies: Replies, two_way: Sequence[str], callback_url: str | None) -> None:
    if not replies.rate:
        return
    if not two_way:
        raise ValueError("replies come to two-way numbers: give the sandbox two_way_numbers")
    if not callback_url:
        raise ValueError("replies are posted to the callback URL: give the sandbox callback_url")
