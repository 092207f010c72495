"""A small HTTP server for callbacks: `clickatell-sms listen`, and the same thing for tests.

`CallbackServer` serves any WSGI app (in practice a `CallbackReceiver`) on a background
thread, one thread per connection, with the standard library's wsgiref: nothing to install, and
enough for a terminal, a test or a local loop with the sandbox. Production receivers belong in
your own web framework or WSGI server (gunicorn, waitress...), mounted the same way.
"""

from __future__ import annotations

import socket
import threading
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

__all__ = ["CallbackServer"]


class _QuietHandler(WSGIRequestHandler):
    # wsgiref prints an access-log line per request to stderr; the listener prints events.
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow client must not keep the process alive after stop()
    allow_reuse_address = True


class _ThreadingServer6(_ThreadingServer):
    address_family = socket.AF_INET6


class CallbackServer:
    """Serve `app` at `http://host:port/` on a background thread until `stop()`.

    `port=0` picks a free port; `url` says which. Binding happens in `start()` (or `with`), so an
    address in use raises `OSError` there.
    """

    def __init__(self, app: WSGIApplication, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._server: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The address to give Clickatell (or the sandbox) as the callback URL."""
        if self._server is None:
            raise RuntimeError("the server is not running")
        host, port = self._server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}/"

    def start(self) -> CallbackServer:
        server_class = _ThreadingServer6 if ":" in self._host else _ThreadingServer
        server = server_class((self._host, self._port), _QuietHandler)
        server.set_app(self._app)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="clickatell-callbacks",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close the socket and wait for the serving thread."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> CallbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
