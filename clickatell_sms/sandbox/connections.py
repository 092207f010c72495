"""The sandbox's open connections: accepting them, capping them, and closing the ones that stall.

Each connection says what it is doing (its `phase`) and by when it must have moved on (its
`deadline`); one periodic sweep closes those past their deadline, which costs nothing per request
(no timer to re-arm for each one). When the cap is reached, or the process runs out of file
descriptors, the connection idle longest makes room: a keep-alive connection with nothing under
way is the one a client expects a server to close.

The accept loop is written here instead of using `loop.create_server`: asyncio's own loop logs a
full traceback for every failed `accept()` when descriptors run out (up to a hundred a second) and
cannot make room by closing idle connections. Here a shortage is logged once, answered by closing
idle connections, and retried with a short back-off, so service resumes as soon as descriptors do.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import heapq
import logging
import math
import socket
import time
from collections.abc import Callable
from typing import Final, Literal, Protocol

from .limits import ServerLimits

__all__ = ["Connections", "Phase", "Tracked", "accept_forever", "sweep_forever"]

logger = logging.getLogger("clickatell_sms.sandbox")

Phase = Literal["idle", "head", "body", "busy", "stalled", "closing"]
"""idle: between requests. head/body: a request is arriving. busy: its answer is being delayed
(an injected latency). stalled: the client is not reading its answers. closing: a close was
asked for and the last bytes are being written."""

# Who makes room first: connections already closing, then idle ones, then those still sending a
# request head or not reading their answers. A body being received or an answer being delayed
# is never cut short to make room (both are bounded by their own timeouts).
_EVICTION_ORDER: Final[dict[Phase, int]] = {"closing": 0, "idle": 1, "head": 2, "stalled": 3}
_OUT_OF_DESCRIPTORS: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_RETRY_FIRST: Final = 0.05
_RECHECK_AT_CAP: Final = 0.05
_RETRY_MAX: Final = 1.0
_REPEAT_LOG_AFTER: Final = 30.0


class Tracked(Protocol):
    """What the registry needs of a connection."""

    phase: Phase
    since: float
    """When the current phase began (loop time): the longest idle goes first."""
    deadline: float
    """When the current phase must end (loop time; infinity for none)."""

    def expire(self) -> None:
        """The deadline passed: close in the way the phase calls for."""

    def abort(self) -> None:
        """Close at once, unwritten answers dropped."""


class Connections:
    """The open connections of one server, and the limits they live under.

    Everything here runs on the server's event loop thread; other threads only read `count`.
    """

    def __init__(self, limits: ServerLimits) -> None:
        self.limits = limits
        self.open: set[Tracked] = set()
        self.closing = False
        """Set while the server stops: connections made from now on close at once."""
        self._vacancy: asyncio.Event | None = None

    @property
    def count(self) -> int:
        return len(self.open)

    def add(self, connection: Tracked) -> bool:
        """Register a new connection; False when the server is stopping (close it)."""
        if self.closing:
            return False
        self.open.add(connection)
        return True

    def discard(self, connection: Tracked) -> None:
        if connection in self.open:
            self.open.remove(connection)
            if self._vacancy is not None:
                self._vacancy.set()

    def evict(self, wanted: int) -> int:
        """Abort up to `wanted` connections, those idle longest first; how many went."""
        candidates = [c for c in self.open if c.phase in _EVICTION_ORDER]
        victims = heapq.nsmallest(
            wanted, candidates, key=lambda c: (_EVICTION_ORDER[c.phase], c.since)
        )
        for victim in victims:
            victim.abort()
        return len(victims)

    async def make_room(self) -> None:
        """Return once one more connection fits under the cap, making room if need be.

        When every connection is in the middle of a request, wait: for one to close (which
        wakes us at once) or to finish its request and become idle (checked every 50 ms; this
        only happens at the cap)."""
        while len(self.open) >= self.limits.max_connections and not self.evict(1):
            if self._vacancy is None:
                self._vacancy = asyncio.Event()
            self._vacancy.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._vacancy.wait(), _RECHECK_AT_CAP)

    def sweep(self, now: float) -> None:
        """Close every connection past its deadline."""
        for connection in [c for c in self.open if c.deadline <= now]:
            connection.expire()

    def abort_all(self) -> None:
        self.closing = True
        for connection in list(self.open):
            connection.abort()


async def sweep_forever(connections: Connections) -> None:
    """Check deadlines every `sweep_interval` seconds until cancelled."""
    loop = asyncio.get_running_loop()
    interval = connections.limits.sweep_interval
    while True:
        await asyncio.sleep(interval)
        connections.sweep(loop.time())


async def accept_forever(
    listener: socket.socket,
    protocol_factory: Callable[[], asyncio.Protocol],
    connections: Connections,
) -> None:
    """Accept connections on `listener` and serve each with a new protocol, until cancelled."""
    loop = asyncio.get_running_loop()
    shortage = _Shortage()
    while True:
        try:
            sock, _ = await loop.sock_accept(listener)
        except OSError as exc:
            if exc.errno in _OUT_OF_DESCRIPTORS:
                shortage.report(exc, connections.count)
                # Closing idle connections frees descriptors at once (the next loop turn); when
                # none can go, wait for other work to give some back.
                freed = connections.evict(max(1, connections.count // 8))
                await asyncio.sleep(0 if freed else shortage.next_delay())
                continue
            if isinstance(exc, ConnectionAbortedError):  # the client gave up while queued
                continue
            logger.warning("the sandbox could not accept a connection: %s", exc)
            await asyncio.sleep(_RETRY_FIRST)
            continue
        shortage.over()
        try:
            await connections.make_room()
            await loop.connect_accepted_socket(protocol_factory, sock)
        except OSError:  # the client went away before we could use the socket
            sock.close()
        except BaseException:
            sock.close()
            raise


class _Shortage:
    """Says once that descriptors ran out (and again at most every 30 s), never a traceback."""

    def __init__(self) -> None:
        self._logged_at = -math.inf
        self._unlogged = 0
        self._delay = _RETRY_FIRST

    def report(self, exc: OSError, open_connections: int) -> None:
        now = time.monotonic()
        if now - self._logged_at < _REPEAT_LOG_AFTER:
            self._unlogged += 1
            return
        again = f" ({self._unlogged} more since the last warning)" if self._unlogged else ""
        logger.warning(
            "the sandbox cannot accept connections: %s, with %d connection(s) open;"
            " closing the longest-idle ones and retrying%s. Raise the descriptor limit"
            " (ulimit -n) or lower the connection cap (--max-connections).",
            exc.strerror or exc,
            open_connections,
            again,
        )
        self._logged_at = now
        self._unlogged = 0

    def next_delay(self) -> float:
        delay = self._delay
        self._delay = min(_RETRY_MAX, delay * 2)
        return delay

    def over(self) -> None:
        """An accept() worked: the next shortage starts its back-off afresh."""
        self._delay = _RETRY_FIRST
