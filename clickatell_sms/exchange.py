"""The urllib3 client's loop of attempts: send, and wait when the request's `Call` says so.

`Exchange` owns the client's `Transport` (one urllib3 connection pool). Everything a request's
attempts decide (the deadline, the hooks, whether to try again and after how long, and which
result or typed error the last outcome is) is its `answers.Call`'s, shared with the asyncio
client; this module only sends and sleeps. Imported when the first request is made: it loads
urllib3 and the wire models.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TypeVar

from clickatell_wire.http_types import RequestFailed, Response
from clickatell_wire.transport import Transport

from .answers import Answers, Call
from .config import transport_settings
from .errors import ValidationError

if TYPE_CHECKING:
    import urllib3
    from clickatell_wire.transport_base import TransportSettings

    from .config import ClientConfig

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
        if settings is None:
            settings = transport_settings(config)  # a bad TLS file is named by its setting
        try:
            self._transport = Transport(manager=manager, **settings)
        except ValueError as exc:  # already checked by ClientConfig; kept so nothing raw escapes
            raise ValidationError("base_url", str(exc)) from None

    def close(self) -> None:
        self._transport.close()

    def run(self, call: Call[T]) -> T:
        """Attempts until one is final, within the call's deadline; what it comes to."""
        send = self._transport.send
        outcome: Response | RequestFailed
        while True:
            try:
                outcome = send(call.request, timeout=call.timeout, deadline=call.start())
            except RequestFailed as failure:
                outcome = failure
            wait = call.after(outcome)
            if wait is None:
                return call.result(outcome)
            time.sleep(wait)
