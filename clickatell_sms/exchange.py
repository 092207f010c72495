"""One request of the urllib3 client: its attempts within the deadline, then what they mean.

`Exchange` owns the client's `Transport` (one urllib3 connection pool) and the loop of attempts:
each attempt is one `Transport.send`, `retry.RetryState` decides whether another follows and
after how long, and the hooks see each one. What the last answer or failure means is
`answers.Answers`'s, shared with the asyncio client. Imported when the first client is made: it
loads urllib3 and the wire models.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from clickatell_wire.http_types import Request, RequestFailed, Response
from clickatell_wire.transport import Transport

from .answers import Answers, Attempts
from .config import transport_settings
from .errors import ClickatellError, ValidationError
from .retry import RetryPolicy

if TYPE_CHECKING:
    import urllib3
    from clickatell_wire.transport_base import TransportSettings

    from . import wire
    from .config import ClientConfig
    from .matching import SendRequest
    from .raw import RawResponse

__all__ = ["Exchange"]

T = TypeVar("T")


class Exchange(Answers):
    """A client's requests over its one urllib3 connection pool (thread-safe, as the pool is)."""

    __slots__ = ("_transport",)

    def __init__(
        self,
        config: ClientConfig,
        manager: urllib3.PoolManager | None = None,
        settings: TransportSettings | None = None,
    ) -> None:
        super().__init__(config)
        settings = transport_settings(config) if settings is None else settings
        try:
            self._transport = Transport(manager=manager, **settings)
        except ValueError as exc:  # already checked by ClientConfig; kept so nothing raw escapes
            raise ValidationError("base_url", str(exc)) from None

    def close(self) -> None:
        self._transport.close()

    def send(self, request: SendRequest) -> tuple[RawResponse, list[wire.WireEntry] | None]:
        """Send one request of a send: the raw answer and its entries, or the typed error it
        calls for."""
        wire_request = self.send_request(request)
        started = time.perf_counter()
        failure: ClickatellError
        try:
            response = self.attempts(
                wire_request, request.timeout, request.total_timeout, request.retry, False
            )
        except RequestFailed as exc:
            failure = self.unanswered(exc, request)
            if not request.http:
                raise failure from exc
        else:
            return self.send_answer(request, response, started)
        # The GET send's URL holds the key and the libraries' exceptions quote it: this error
        # is raised outside the `except` block, with neither a cause nor a context.
        raise failure

    def look_up(
        self,
        what: str,
        request: Request,
        read: Callable[[Response], tuple[wire.Envelope, T | None]],
        timeout: tuple[float, float],
        total_timeout: float,
        policy: RetryPolicy,
    ) -> tuple[T, RawResponse]:
        """One GET that changes nothing, retried on every failure the policy allows, and what
        `read` finds in its answer (see `Answers.look_up_answer`)."""
        started = time.perf_counter()
        try:
            response = self.attempts(request, timeout, total_timeout, policy, True)
        except RequestFailed as exc:
            raise self.look_up_failed(what, exc) from exc
        return self.look_up_answer(what, response, read, started)

    def attempts(
        self,
        request: Request,
        timeout: tuple[float, float],
        total_timeout: float,
        policy: RetryPolicy,
        idempotent: bool,
    ) -> Response:
        """Attempts until one is final, within the request's deadline: the last answer, or
        the last attempt's `RequestFailed`."""
        tries = Attempts(self._config, request, policy, total_timeout, idempotent)
        send = self._transport.send
        while True:
            tries.start()
            try:
                response = send(request, timeout=timeout, deadline=tries.deadline)
            except RequestFailed as failure:
                wait = tries.failed(failure)
                if wait is None:
                    raise
            else:
                wait = tries.answered(response)
                if wait is None:
                    return response
            time.sleep(wait)
