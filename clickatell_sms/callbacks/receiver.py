"""`CallbackReceiver`: a WSGI app that receives Clickatell's callbacks over HTTP.

Parsing is `parsing.parse_callback_request`; this module adds what HTTP needs around it: who
may post (the secret in the callback URL, an optional source allow-list; see `access`), method
and size limits, the answer Clickatell gets, and handing each event to your code without
letting a handler's bug become a retry storm. Timeouts and connection bounds belong to the
server it runs under (`listener.CallbackServer`, gunicorn, waitress...).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Final, NamedTuple

from ..errors import ValidationError
from .access import RefusalLog, SecretCheck, SourceAllowList, take_token
from .parsing import CallbackKind, ReplyCallback, StatusCallback, parse_callback_request

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from ..bulk.delivery import DeliveryStore
    from .sinks import CallbackSink

__all__ = ["SCREENED_BY", "CallbackReceiver", "Refusal"]

# One logger for the package, so logging set up for "clickatell_sms.callbacks" sees refused
# callbacks and failing handlers as well as parsing problems.
logger = logging.getLogger("clickatell_sms.callbacks")

_CHALLENGE = ("WWW-Authenticate", 'Basic realm="clickatell callbacks", charset="UTF-8"')

SCREENED_BY: Final = "clickatell_sms.screened_by"
"""The environ key where a server puts the screen that has passed the request's head, so that
the receiver does not check the head twice when that screen is its own `refuse_early`.
(`listener.CallbackServer` sets it; a client cannot: its headers become HTTP_* keys.)"""


class Refusal(NamedTuple):
    """An answer given to a request without reading its body: status, one line of text for its
    body, and headers (a 401's challenge, a 405's Allow)."""

    status: int
    text: str
    headers: tuple[tuple[str, str], ...] = ()


class CallbackReceiver:
    """A WSGI app that receives Clickatell callbacks and hands each one to your handler.

    Mount it at the URL configured for the integration (any WSGI server: gunicorn, waitress,
    `listener.CallbackServer`). Clickatell signs nothing, so the URL carries a secret that only
    you and Clickatell know, and the receiver refuses every request without it:

    * `secret`: the secret, as HTTP Basic credentials in the URL
      (`https://clickatell:SECRET@host/path`; any user name) or as a `token` query parameter
      (`https://host/path?token=SECRET`). `access.url_with_secret` writes either form. Pass a
      list to accept several while you change the URL in the portal. At least 16 characters,
      letters, digits and `. _ ~ -` only; `access.generate_secret()` makes one.
    * `allow_unauthenticated=True` instead of a secret accepts callbacks from anyone who can
      reach the URL, and says so in a warning: only for a receiver that nothing untrusted can
      reach, behind a proxy that checks the secret itself. Without either, construction fails.
    * `allowed_sources`: optionally, CIDR networks (or addresses) the request must come from,
      read from `REMOTE_ADDR`. Behind a proxy that is the proxy's address, so filter there.

    Where callbacks are kept, before your handlers see them:

    * `journal`: a campaign's journal (a file, a `postgresql://` URL, or an open
      `bulk.delivery.DeliveryStore`): every status callback is written into its delivery tables
      (`sinks.JournalSink`, in batches) before it is acknowledged, so `clickatell-sms report`
      can show what became of each message. A receiver with a journal needs no `on_status`.
    * `sinks`: other places (`sinks.CallbackSink`), each for the kinds it names.

    A callback a sink cannot keep (its database is down or far behind) is answered 503 with
    `Retry-After`, and Clickatell sends it again; your handler is not called for it. `close()`
    (or `with`) writes what is waiting and closes the journal it opened.

    Responses:

    * 403 from outside `allowed_sources`; 401 without the right secret (the handler is not
      called and the body is not read); refusals are logged as warnings, throttled.
    * 200: parsed, kept by the sinks and handled. Also 200 when the event's kind has neither a
      sink nor a handler (logged as a warning), so a misrouted callback is not retried forever.
    * 503 with Retry-After: a sink could not keep it (see above).
    * 400 with a one-line plain-text reason: the request is not a readable callback.
    * 405 for other methods, 413 for a body over `max_body_bytes`.
    * A handler that raises is logged with its traceback on "clickatell_sms.callbacks", and
      the request is answered with `handler_error_status` (200 by default). Clickatell retries
      non-2xx answers, so a bug in a handler would otherwise become a retry storm; set 500 if
      your handler is idempotent and you want failed events sent again.

    The `token` parameter is removed before parsing, so it never reaches an event's `raw` or
    `extra`. With both handlers set, status and reply are told apart by their fields. With one
    handler set (one receiver per URL), a callback whose fields do not say which kind it is is
    read as that handler's kind. Duplicates and out-of-order events are normal; see
    `is_newer()`.
    """

    def __init__(
        self,
        on_status: Callable[[StatusCallback], None] | None = None,
        on_reply: Callable[[ReplyCallback], None] | None = None,
        *,
        secret: str | Sequence[str] | None = None,
        allow_unauthenticated: bool = False,
        allowed_sources: Iterable[str] | None = None,
        handler_error_status: int = 200,
        max_body_bytes: int = 64 * 1024,
        journal: str | Path | DeliveryStore | None = None,
        sinks: Sequence[CallbackSink] = (),
    ) -> None:
        if on_status is None and on_reply is None and journal is None and not sinks:
            raise ValueError("CallbackReceiver needs on_status, on_reply, a journal or sinks")
        if secret is None and not allow_unauthenticated:
            raise ValidationError(
                "secret",
                "is required: pass the secret that the callback URL carries (see"
                " clickatell_sms.callbacks.access.url_with_secret), or allow_unauthenticated=True"
                " to accept forged callbacks from anyone who can reach this receiver",
            )
        if secret is not None and allow_unauthenticated:
            raise ValidationError(
                "allow_unauthenticated", "contradicts secret=...; give one or the other"
            )
        self.on_status = on_status
        self.on_reply = on_reply
        self.handler_error_status = handler_error_status
        self.max_body_bytes = max_body_bytes
        self._secret = None if secret is None else SecretCheck(secret)
        self._sources = None if allowed_sources is None else SourceAllowList(allowed_sources)
        self._refusals = RefusalLog(logger)
        if self._secret is None:
            logger.warning(
                "CallbackReceiver made with allow_unauthenticated=True: it trusts anyone who can"
                " reach it, and forged callbacks will reach your handlers"
            )
        self.sinks: list[CallbackSink] = list(sinks)
        self._opened: list[CallbackSink] = []
        if journal is not None:  # last: nothing above may fail with the journal open
            # (the journal's stores load only for a receiver that keeps one)
            from .sinks import JournalSink

            self._opened.append(JournalSink(journal))
            self.sinks.append(self._opened[-1])

    def close(self) -> None:
        """Write what the sinks hold and close those the receiver opened (its `journal`)."""
        opened, self._opened = self._opened, []
        for sink in opened:
            sink.close()

    def __enter__(self) -> CallbackReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        guard = "unauthenticated" if self._secret is None else "secret"
        return f"CallbackReceiver({guard}, sources={self._sources!r})"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        token, query = take_token(_wsgi_query(environ))
        refusal = None
        if environ.get(SCREENED_BY) != self.refuse_early:  # else the server just asked it
            refusal = self._refuse_head(environ, token)
        refusal = refusal or self._refuse_length(environ)  # always: a chunked body is read now
        if refusal is not None:
            return _respond(start_response, *refusal)
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        length = int(environ.get("CONTENT_LENGTH") or 0)  # _refuse_length has read it
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            event = parse_callback_request(
                method,
                query,
                body,
                environ.get("CONTENT_TYPE"),
                default_kind=self._only_kind(),
            )
        except ValidationError as error:
            logger.warning("refused a callback: %s", error)
            return _respond(start_response, 400, f"bad callback: {error}")
        if not self._keep(event):
            return _respond(start_response, 503, "busy: send it again", [("Retry-After", "1")])
        return _respond(start_response, self._dispatch(event), "OK")

    def refuse_early(self, environ: WSGIEnvironment) -> Refusal | None:
        """The answer a request gets from its head alone, before its body is read: 403 from
        outside `allowed_sources`, 401 without the secret, 405 for another method, 400 or 413
        for a Content-Length that is unreadable or too large; None when the body is worth
        reading. The receiver asks it first itself; `listener.CallbackServer` asks it as soon as
        a head arrives, so a forged request is answered without its body ever being read."""
        token, _ = take_token(_wsgi_query(environ))
        return self._refuse_head(environ, token) or self._refuse_length(environ)

    def _refuse_head(self, environ: WSGIEnvironment, token: bytes | None) -> Refusal | None:
        """403, 401 or 405 (see `refuse_early`), given the `token` of the query string."""
        source = environ.get("REMOTE_ADDR")
        if self._sources is not None and not self._sources.allows(source):
            self._refusals.refused("refused callbacks from outside allowed_sources (403)", source)
            return Refusal(403, "callbacks are not accepted from this address")
        if self._secret is not None and not self._secret.matches(environ, token):
            self._refusals.refused("refused callbacks without the right secret (401)", source)
            return Refusal(401, "missing or wrong callback secret", (_CHALLENGE,))
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        if method not in {"GET", "POST"}:
            return Refusal(405, "use GET or POST", (("Allow", "GET, POST"),))
        return None

    def _refuse_length(self, environ: WSGIEnvironment) -> Refusal | None:
        """400 for an unreadable Content-Length, 413 for one over `max_body_bytes`."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return Refusal(400, "bad callback: unreadable Content-Length")
        if length > self.max_body_bytes:
            return Refusal(413, "callback body too large")
        return None

    def _handles(self, kind: CallbackKind) -> bool:
        handler = self.on_status if kind == "status" else self.on_reply
        return handler is not None or any(kind in sink.kinds for sink in self.sinks)

    def _only_kind(self) -> CallbackKind | None:
        status, reply = self._handles("status"), self._handles("reply")
        if status and not reply:
            return "status"
        if reply and not status:
            return "reply"
        return None

    def _keep(self, event: StatusCallback | ReplyCallback) -> bool:
        """Hand the event to every sink that keeps its kind; False if one could not."""
        if not self.sinks:
            return True
        # (loaded with the first sink that keeps an event, as the journal's stores are)
        from .sinks import SinkError

        kind: CallbackKind = "status" if isinstance(event, StatusCallback) else "reply"
        for sink in self.sinks:
            if kind not in sink.kinds:
                continue
            try:
                sink.take(event)
            except SinkError:
                self._refusals.refused("answered 503 to callbacks a sink could not keep")
                return False
        return True

    def _dispatch(self, event: StatusCallback | ReplyCallback) -> int:
        try:
            if isinstance(event, StatusCallback):
                if self.on_status is None:
                    return 200 if self._handles("status") else _unhandled("status", event)
                self.on_status(event)
            else:
                if self.on_reply is None:
                    return 200 if self._handles("reply") else _unhandled("reply", event)
                self.on_reply(event)
        except Exception:
            logger.exception(
                "callback handler failed for messageId=%s; answered %d",
                event.api_message_id,
                self.handler_error_status,
            )
            return self.handler_error_status
        return 200


def _unhandled(kind: str, event: StatusCallback | ReplyCallback) -> int:
    logger.warning(
        "a %s callback (messageId=%s) arrived with no handler for it", kind, event.api_message_id
    )
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
