"""`CallbackReceiver`: a WSGI app that receives Clickatell's callbacks over HTTP.

Parsing is `parsing.parse_callback_request`; this module only adds what HTTP needs around it:
method and size limits, the answer Clickatell gets, and handing each event to your code without
letting a handler's bug become a retry storm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING

from ..errors import ValidationError
from .parsing import CallbackKind, ReplyCallback, StatusCallback, parse_callback_request

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

__all__ = ["CallbackReceiver"]

# One logger for the package, so logging set up for "clickatell_sms.callbacks" sees refused
# callbacks and failing handlers as well as parsing problems.
logger = logging.getLogger("clickatell_sms.callbacks")


class CallbackReceiver:
    """A WSGI app that receives Clickatell callbacks and hands each one to your handler.

    Mount it at the URL configured for the integration (any WSGI server: gunicorn, waitress,
    wsgiref). It answers 200 "OK" once the handler returns, so keep handlers quick (queue slow
    work). Responses:

    * 200: parsed and handled. Also 200 when the event's kind has no handler (logged as a
      warning), so a misrouted callback is not retried forever.
    * 400 with a one-line plain-text reason: the request is not a readable callback.
    * 405 for other methods, 413 for a body over `max_body_bytes`.
    * A handler that raises is logged with its traceback on "clickatell_sms.callbacks", and
      the request is answered with `handler_error_status` (200 by default). Clickatell retries
      non-2xx answers, so a bug in a handler would otherwise become a retry storm; set 500 if
      your handler is idempotent and you want failed events sent again.

    With both handlers set, status and reply are told apart by their fields. With one handler
    set (one receiver per URL), a callback whose fields do not say which kind it is is read as
    that handler's kind. Duplicates and out-of-order events are normal; see `is_newer()`.
    """

    def __init__(
        self,
        on_status: Callable[[StatusCallback], None] | None = None,
        on_reply: Callable[[ReplyCallback], None] | None = None,
        *,
        handler_error_status: int = 200,
        max_body_bytes: int = 64 * 1024,
    ) -> None:
        if on_status is None and on_reply is None:
            raise ValueError("CallbackReceiver needs on_status, on_reply or both")
        self.on_status = on_status
        self.on_reply = on_reply
        self.handler_error_status = handler_error_status
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        if method not in {"GET", "POST"}:
            return _respond(start_response, 405, "use GET or POST", [("Allow", "GET, POST")])
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _respond(start_response, 400, "bad callback: unreadable Content-Length")
        if length > self.max_body_bytes:
            return _respond(start_response, 413, "callback body too large")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            event = parse_callback_request(
                method,
                _wsgi_query(environ),
                body,
                environ.get("CONTENT_TYPE"),
                default_kind=self._only_kind(),
            )
        except ValidationError as error:
            logger.warning("refused a callback: %s", error)
            return _respond(start_response, 400, f"bad callback: {error}")
        return _respond(start_response, self._dispatch(event), "OK")

    def _only_kind(self) -> CallbackKind | None:
        if self.on_reply is None:
            return "status"
        if self.on_status is None:
            return "reply"
        return None

    def _dispatch(self, event: StatusCallback | ReplyCallback) -> int:
        try:
            if isinstance(event, StatusCallback):
                if self.on_status is None:
                    return _unhandled("status", event.api_message_id)
                self.on_status(event)
            else:
                if self.on_reply is None:
                    return _unhandled("reply", event.api_message_id)
                self.on_reply(event)
        except Exception:
            logger.exception(
                "callback handler failed for messageId=%s; answered %d",
                event.api_message_id,
                self.handler_error_status,
            )
            return self.handler_error_status
        return 200


def _unhandled(kind: str, message_id: str) -> int:
    logger.warning("a %s callback (messageId=%s) arrived with no handler for it", kind, message_id)
    return 200


def _wsgi_query(environ: WSGIEnvironment) -> bytes:
    # PEP 3333 hands over the query string as bytes decoded with Latin-1; undo that losslessly.
    query = str(environ.get("QUERY_STRING", ""))
    try:
        return query.encode("latin-1")
    except UnicodeEncodeError:  # a server that decoded it some other way
        return query.encode("utf-8")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"


def _respond(
    start_response: StartResponse,
    status: int,
    text: str,
    headers: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    body = (text + "\n").encode("utf-8")
    start_response(
        f"{status} {_reason(status)}",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *headers,
        ],
    )
    return [body]
