"""Posting delivery-status callbacks to a URL, as Clickatell does for an integration.

For every accepted message the sandbox sends one callback per status the message takes (see
`timeline`), at the moment it takes it, with the fields of the spec's `StatusCallback` webhook
(written with the generated model): `integrationName`, `messageId`, `requestId`,
`clientMessageId` and `from` when the send had them, `to`, `statusCode`, `status`,
`statusDescription`, and `timestamp` (epoch milliseconds, a string as documented).

By default they come as `POST` with a JSON body; `method="GET"` puts the same fields in the query
string, the integration's other option. A URL may carry the receiver's secret as Clickatell's
portal would: HTTP Basic credentials (`http://user:SECRET@host/`) become an `Authorization`
header on every callback, and a `token=SECRET` query parameter stays in the URL (GET callbacks
add their fields after it). Neither appears in the poster's logs or `repr`.

An answer outside 2xx, or no answer, is retried (`retries` times, backing off from
`retry_delay`), as the live API may do; so a receiver must tolerate duplicates. `lanes` worker
threads (4 by default) send them, each over its own connection, so a campaign's tens of
thousands of callbacks are not queued behind one connection; the callbacks of one message all go
through one lane, in due order.

`loss` (0 to 1) drops that share of the callbacks on purpose, each one on its own (so a message
misses its final callback with that probability), as a receiver that was down or a network that
lost them would: the status look-up still answers, which is what polling for the silent
messages needs. Which callbacks are lost is drawn from `seed` and the message's ID and status,
the same on every run.

`schedule_reply` posts a reply (MO) callback the same way, with the fields of the spec's
`ReplyCallback` webhook: the sandbox's handsets answering (`replies.Replies`). Replies are never
dropped by `loss`, which is about status callbacks.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import re
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import unquote, urlencode

import msgspec
import urllib3
from clickatell_wire import models

from ..errors import ValidationError
from ..redact import guard_urllib3_logs, scrub
from .store import RecordedMessage
from .timeline import StatusEvent, unit_draw

__all__ = ["CallbackDelivery", "CallbackPoster", "check_callback_url"]

logger = logging.getLogger("clickatell_sms.sandbox.callbacks")

_TOKEN_VALUE: Final = re.compile(r"(?i)([?&]token=)[^&#]*")
_USER_INFO: Final = re.compile(r"(?<=//)[^/?#@]*@")


@dataclass(frozen=True, slots=True)
class CallbackDelivery:
    """One attempt to deliver a callback: what was sent and how the receiver answered.

    `status` is the receiver's HTTP status, or None when no answer came (`error` says why).
    """

    payload: dict[str, Any]
    attempt: int
    status: int | None
    error: str | None
    sent_at: float

    @property
    def ok(self) -> bool:
        """The receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(slots=True)
class _Pending:
    payload: models.StatusCallback | models.ReplyCallback
    attempt: int


class CallbackPoster:
    """Worker threads (`lanes`) that send status callbacks when they fall due.

    `schedule()` is cheap and may be called from any thread. `wait_idle()` lets a test wait
    until everything due so far has been delivered (or given up on).
    """

    def __init__(
        self,
        url: str,
        *,
        method: Literal["POST", "GET"] = "POST",
        integration_name: str = "sandbox",
        retries: int = 2,
        retry_delay: float = 0.1,
        timeout: float = 2.0,
        loss: float = 0.0,
        seed: int = 0,
        lanes: int = 4,
    ) -> None:
        if method not in ("POST", "GET"):
            raise ValueError("callback method must be POST or GET")
        if not 0.0 <= loss <= 1.0:
            raise ValueError(f"a callback loss rate is between 0 and 1, not {loss}")
        check_callback_url(url)
        self.loss = loss
        self.seed = seed
        self.lost = 0
        """Callbacks dropped on purpose (`loss`) so far."""
        self.replies = 0
        """Reply callbacks scheduled so far."""
        self.url, self._auth_headers = _split_credentials(url)
        if _TOKEN_VALUE.search(self.url):
            guard_urllib3_logs()  # urllib3 logs each request line, token and all, at DEBUG
        self.method = method
        self.integration_name = integration_name
        self.retries = retries
        self.retry_delay = retry_delay
        self._http = urllib3.PoolManager(
            num_pools=2,
            maxsize=max(lanes, 2),
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
        )
        # One due-ordered queue per lane, all under one lock.
        self._queues: list[list[tuple[float, int, _Pending]]] = [[] for _ in range(max(lanes, 1))]
        self._order = itertools.count()
        self._busy = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._deliveries: list[CallbackDelivery] = []
        self._threads = [
            threading.Thread(
                target=self._run,
                args=(queue,),
                name=f"clickatell-sandbox-callbacks-{n}",
                daemon=True,
            )
            for n, queue in enumerate(self._queues)
        ]

    def __repr__(self) -> str:
        return f"CallbackPoster({self.shown_url!r}, method={self.method!r})"

    @property
    def shown_url(self) -> str:
        """The URL with any credentials and token masked, for logs and messages."""
        masked = _TOKEN_VALUE.sub(r"\1***", self.url)
        if not self._auth_headers:
            return masked
        scheme, _, rest = masked.partition("://")
        return f"{scheme}://***:***@{rest}"

    def start(self) -> None:
        """Start the worker threads."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop sending; callbacks not yet due are dropped. Joins the worker threads."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=10)
        self._http.clear()

    def schedule(self, record: RecordedMessage, events: Iterable[StatusEvent]) -> None:
        """Queue one callback per status event of an accepted message (less those `loss`
        drops)."""
        lane = self._queues[zlib.crc32(record.api_message_id.encode()) % len(self._queues)]
        with self._cond:
            for event in events:
                if self.loss and self._drawn_lost(record.api_message_id, event):
                    self.lost += 1
                    continue
                payload = models.StatusCallback(
                    message_id=record.api_message_id,
                    integration_name=self.integration_name,
                    request_id=record.request_id,
                    client_message_id=(
                        record.client_message_id
                        if record.client_message_id is not None
                        else msgspec.UNSET
                    ),
                    to=record.to,
                    from_=record.from_ if record.from_ is not None else msgspec.UNSET,
                    status_code=event.status.code if event.status.code is not None else 0,
                    status=event.status.name,
                    status_description=event.status.description,
                    timestamp=str(int(event.at * 1000)),
                )
                heapq.heappush(lane, (event.at, next(self._order), _Pending(payload, 1)))
            self._cond.notify_all()

    def schedule_reply(
        self, record: RecordedMessage, at: float, text: str, reply_message_id: str
    ) -> None:
        """Queue a reply from the message's recipient to the number that sent it, at `at`."""
        payload = models.ReplyCallback(
            reply_message_id=reply_message_id,
            integration_name=self.integration_name,
            message_id=record.api_message_id,
            from_number=record.to,
            to_number=str(record.from_).removeprefix("+"),
            timestamp=str(int(at * 1000)),
            text=text,
            charset="UTF-8",
        )
        lane = self._queues[zlib.crc32(record.api_message_id.encode()) % len(self._queues)]
        with self._cond:
            self.replies += 1
            heapq.heappush(lane, (at, next(self._order), _Pending(payload, 1)))
            self._cond.notify_all()

    def _drawn_lost(self, api_message_id: str, event: StatusEvent) -> bool:
        key = f"{api_message_id}:{event.status.code}"
        return unit_draw(self.seed, key, "callback-loss") < self.loss

    def deliveries(self) -> list[CallbackDelivery]:
        """Every attempt so far, in the order they were made."""
        with self._cond:
            return list(self._deliveries)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no callback is queued or being sent; False if `timeout` ran out first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(self._queues) or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def _run(self, queue: list[tuple[float, int, _Pending]]) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    if queue:
                        wait = queue[0][0] - time.time()
                        if wait <= 0:
                            break
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
                _, _, item = heapq.heappop(queue)
                self._busy += 1
            delivery: CallbackDelivery | None = None
            try:
                delivery = self._send(item)
            finally:
                # One locked step: wait_idle() must not see "idle" between an attempt and its retry.
                with self._cond:
                    self._busy -= 1
                    if delivery is not None:
                        self._deliveries.append(delivery)
                        if not delivery.ok and item.attempt <= self.retries and not self._stopping:
                            due = time.time() + self.retry_delay * 2 ** (item.attempt - 1)
                            retry = _Pending(item.payload, item.attempt + 1)
                            heapq.heappush(queue, (due, next(self._order), retry))
                    self._cond.notify_all()

    def _send(self, item: _Pending) -> CallbackDelivery:
        fields: dict[str, Any] = msgspec.to_builtins(item.payload)
        status: int | None = None
        error: str | None = None
        try:
            if self.method == "POST":
                response = self._http.request(
                    "POST",
                    self.url,
                    body=msgspec.json.encode(item.payload),
                    headers={"Content-Type": "application/json", **self._auth_headers},
                    retries=False,
                )
            else:
                separator = "&" if "?" in self.url else "?"
                query = urlencode({key: str(value) for key, value in fields.items()})
                response = self._http.request(
                    "GET", self.url + separator + query, headers=self._auth_headers, retries=False
                )
            status = response.status
        except urllib3.exceptions.HTTPError as exc:
            # urllib3's messages quote the URL, token and all.
            error = _TOKEN_VALUE.sub(r"\1***", f"{type(exc).__name__}: {exc}")
            logger.info("status callback to %s failed: %s", self.shown_url, error)
        return CallbackDelivery(fields, item.attempt, status, error, time.time())


def _split_credentials(url: str) -> tuple[str, dict[str, str]]:
    """The URL without user-info, and the Authorization header that user-info stood for.

    urllib3 (like most HTTP clients) drops credentials written into a URL without a word, so
    the poster sends them as a header itself, the way a caller configured for Basic auth would.
    """
    parsed = urllib3.util.parse_url(url)
    if not parsed.auth:
        return url, {}
    user, _, password = parsed.auth.partition(":")
    header = urllib3.util.make_headers(basic_auth=f"{unquote(user)}:{unquote(password)}")
    return parsed._replace(auth=None).url, {"Authorization": header["authorization"]}


def check_callback_url(url: str) -> None:
    """ValidationError (field `callback_url`) unless `url` is an http(s) URL with a host.

    Anything else (`file:///etc/passwd`, `notaurl`, `http://`) would only fail later, on the
    worker thread, one callback at a time: refused here, at start-up. The message shows the URL
    with its credentials and token masked.
    """
    problem = None
    if not isinstance(url, str) or not url:
        problem = "is empty"
    elif any(char.isspace() or not char.isprintable() for char in url):
        problem = "contains spaces or control characters"
    else:
        try:
            parsed = urllib3.util.parse_url(url)
        except urllib3.exceptions.LocationParseError:
            problem = "cannot be read as a URL"
        else:
            if (parsed.scheme or "").lower() not in ("http", "https"):
                problem = "is not an http:// or https:// URL"
            elif not parsed.host:
                problem = "has no host"
    if problem is not None:
        # Not urllib's parse: the URL may not parse at all, and still holds a password.
        shown = scrub(_USER_INFO.sub("***@", url)) if isinstance(url, str) else url
        raise ValidationError("callback_url", f"{shown!r} {problem}", shown)
