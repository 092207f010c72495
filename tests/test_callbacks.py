"""Status vocabulary and callback parsing, including a real HTTP round trip through the receiver."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.validate import validator

import pytest
import urllib3

import clickatell_sms
from clickatell_sms import callbacks
from clickatell_sms.callbacks import (
    ReplyCallback,
    StatusCallback,
    generate_secret,
    is_newer,
    parse_callback_request,
    parse_reply_callback,
    parse_status_callback,
    url_with_secret,
)
from clickatell_sms.callbacks.access import RefusalLog, SourceAllowList, take_token
from clickatell_sms.callbacks.listener import CallbackServer, ListenerLimits
from clickatell_sms.callbacks.receiver import CallbackReceiver
from clickatell_sms.errors import ValidationError
from clickatell_sms.sandbox import Sandbox
from clickatell_sms.sandbox.callbacks import CallbackPoster
from clickatell_sms.statuses import KNOWN_STATUSES, STATUS_BY_NAME, MessageStatus, status_from
from tests.test_sandbox import send_json

JAN_17 = datetime(2018, 1, 17, 19, 35, 11, tzinfo=UTC)
Serve = Callable[[CallbackReceiver], tuple[str, int]]
SECRET = "test-secret-0123456789"

# --------------------------------------------------------------------------------------------
# statuses


def test_known_table_classification_matches_the_reference() -> None:
    final = {4, 5, 6, 7, 9, 10, 12, 13, 14}
    assert set(KNOWN_STATUSES) == set(range(1, 15))
    assert {code for code, s in KNOWN_STATUSES.items() if s.is_final} == final
    assert [code for code, s in KNOWN_STATUSES.items() if s.is_success] == [4]
    assert {code for code, s in KNOWN_STATUSES.items() if s.is_failure} == final - {4}
    assert KNOWN_STATUSES[3].name == "DELIVERED_TO_GATEWAY"
    assert KNOWN_STATUSES[4].name == "RECEIVED_BY_RECIPIENT"
    assert STATUS_BY_NAME["RECEIVED_BY_RECIPIENT"] is KNOWN_STATUSES[4]
    assert all(STATUS_BY_NAME[s.name] is s for s in KNOWN_STATUSES.values())


@pytest.mark.parametrize("code", ["004", "4", 4, " 4 ", 4.0])
def test_status_codes_in_any_spelling(code: int | str) -> None:
    status = status_from(code, None)
    assert status == KNOWN_STATUSES[4]
    assert status.is_success and status.is_final and not status.is_failure


def test_unknown_code_and_name_pass_through_and_are_not_final() -> None:
    status = status_from("99", "FOO_BAR", "something new")
    assert status == MessageStatus(99, "FOO_BAR", "something new")
    assert not status.is_final and not status.is_success and not status.is_failure
    name_only = status_from(None, "FOO_BAR")
    assert (name_only.code, name_only.name, name_only.is_final) == (None, "FOO_BAR", False)
    assert status_from(None, None) == MessageStatus(None, "", "")
    assert status_from("abc", None).code is None


def test_known_name_without_code_gets_the_code_and_keeps_its_spelling() -> None:
    status = status_from(None, "received by recipient")
    assert status.code == 4 and status.is_success
    assert status.name == "received by recipient"
    assert status.description == KNOWN_STATUSES[4].description


def test_reported_name_and_description_win_but_code_classifies() -> None:
    status = status_from(7, "SOMETHING_ELSE", "carrier said no")
    assert (status.name, status.description) == ("SOMETHING_ELSE", "carrier said no")
    assert status.is_failure


# --------------------------------------------------------------------------------------------
# status callbacks

GET_STATUS = (
    "integrationName=My+Integration&messageId=a1b2c3&requestId=r-9&clientMessageId=order-7"
    "&to=27821234567&from=27830000000&statusCode=004&status=RECEIVED_BY_RECIPIENT"
    "&statusDescription=Received+by+recipient&timestamp=1516217711000"
)


def test_get_query_status_callback() -> None:
    cb = parse_status_callback(GET_STATUS)
    assert cb.api_message_id == "a1b2c3"
    assert cb.integration_name == "My Integration"
    assert cb.request_id == "r-9"
    assert cb.client_message_id == "order-7"
    assert (cb.to, cb.from_number) == ("27821234567", "27830000000")
    assert cb.status == MessageStatus(4, "RECEIVED_BY_RECIPIENT", "Received by recipient")
    assert cb.status.is_success
    assert cb.timestamp == JAN_17
    assert cb.extra == {}
    assert cb.raw["statusCode"] == "004"


def test_post_json_status_callback() -> None:
    body = json.dumps(
        {
            "integrationName": "My Integration",
            "messageId": "a1b2c3",
            "requestId": "r-9",
            "clientMessageId": None,
            "to": "27821234567",
            "from": "",
            "statusCode": 3,
            "status": "DELIVERED_TO_GATEWAY",
            "statusDescription": "Delivered to gateway",
            "timestamp": 1516217711000,
        }
    ).encode()
    cb = parse_status_callback(body)
    assert cb.status.code == 3 and cb.status.name == "DELIVERED_TO_GATEWAY"
    assert not cb.status.is_final
    assert cb.client_message_id is None and cb.from_number is None
    assert cb.timestamp == JAN_17
    assert cb.raw["statusCode"] == 3


def test_unknown_status_name_and_code_come_through() -> None:
    cb = parse_status_callback({"messageId": "m1", "statusCode": 99, "status": "FOO_BAR"})
    assert (cb.status.code, cb.status.name) == (99, "FOO_BAR")
    assert not cb.status.is_final


def test_unknown_fields_are_kept_in_extra() -> None:
    cb = parse_status_callback("messageId=m1&statusCode=4&apiKey=k&charge=0.8&nested=a%26b")
    assert cb.extra == {"apiKey": "k", "charge": "0.8", "nested": "a&b"}
    body = json.dumps({"messageId": "m1", "statusCode": 4, "cost": 1.5, "meta": {"a": 1}})
    assert parse_status_callback(body.encode()).extra == {"cost": "1.5", "meta": '{"a": 1}'}


def test_missing_optional_fields_are_none() -> None:
    cb = parse_status_callback("messageId=m1&statusCode=2")
    assert cb.status.name == "MESSAGE_QUEUED"
    assert cb.integration_name is None and cb.request_id is None and cb.to is None
    assert cb.client_message_id is None and cb.from_number is None and cb.timestamp is None


@pytest.mark.parametrize("source", ["statusCode=4", "messageId=&statusCode=4", {"status": "X"}])
def test_missing_message_id_is_a_validation_error(source: str | dict[str, str]) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_status_callback(source)
    assert caught.value.field == "messageId"


@pytest.mark.parametrize(
    "value",
    [
        "1516217711000",
        "1516217711",
        "2018-01-17T19:35:11Z",
        "2018-01-17T21:35:11+02:00",
        "2018-01-17 19:35:11",
    ],
)
def test_timestamp_forms(value: str) -> None:
    cb = parse_status_callback({"messageId": "m1", "statusCode": 4, "timestamp": value})
    assert cb.timestamp == JAN_17
    assert cb.timestamp is not None and cb.timestamp.utcoffset() is not None
    assert cb.timestamp.isoformat() == "2018-01-17T19:35:11+00:00"


def test_unreadable_timestamp_is_none_and_kept_raw(caplog: pytest.LogCaptureFixture) -> None:
    cb = parse_status_callback({"messageId": "m1", "statusCode": 4, "timestamp": "yesterday"})
    assert cb.timestamp is None and cb.raw["timestamp"] == "yesterday"
    assert "unreadable" in caplog.text


def test_repr_hides_numbers_and_raw() -> None:
    text = repr(parse_status_callback(GET_STATUS + "&apiKey=secret-key"))
    assert "27821234567" not in text and "secret-key" not in text
    assert "a1b2c3" in text and "apiKey" in text


# --------------------------------------------------------------------------------------------
# reply callbacks


def test_utf16be_reply_from_query_string() -> None:
    cb = parse_reply_callback("messageId=m1&fromNumber=27821234567&text=%00h%00i&charset=UTF-16BE")
    assert cb.text == "hi"
    assert cb.text_bytes == b"\x00h\x00i" and not cb.text_lossy
    assert cb.from_number == "27821234567" and cb.charset == "UTF-16BE"


@pytest.mark.parametrize("charset", ["UCS2", "UCS-2", "UTF-16", "utf-16be"])
def test_utf16_aliases(charset: str) -> None:
    cb = parse_reply_callback(f"messageId=m1&text=%00h%00%E9&charset={charset}".encode())
    assert cb.text == "hé"


def test_utf16_honours_a_byte_order_mark() -> None:
    little = parse_reply_callback("messageId=m1&text=%FF%FEh%00i%00&charset=UTF-16")
    big = parse_reply_callback("messageId=m1&text=%FE%FF%00h%00i&charset=UTF-16")
    assert (little.text, big.text) == ("hi", "hi")


def test_latin1_reply() -> None:
    cb = parse_reply_callback("messageId=m1&text=caf%E9+cr%E8me&charset=ISO-8859-1")
    assert cb.text == "café crème"
    assert cb.text_bytes == b"caf\xe9 cr\xe8me"


def test_plus_means_space_and_encoded_plus_is_plus() -> None:
    cb = parse_reply_callback("messageId=m1&text=1%2B1+is+2&charset=UTF-8")
    assert cb.text == "1+1 is 2"


def test_utf8_is_the_default() -> None:
    cb = parse_reply_callback("messageId=m1&fromNumber=1&text=%E2%82%AC5")
    assert cb.text == "€5" and cb.charset is None


def test_json_reply_with_percent_encoded_utf16() -> None:
    # Shape seen from Clickatell: JSON whose text is still form-encoded UTF-16BE bytes.
    body = {
        "messageId": "m1",
        "replyMessageId": "r1",
        "fromNumber": "27821234567",
        "toNumber": "27830000000",
        "timestamp": 1516217711000,
        "text": "%00t%00e%00n%00%ED%00a%00+%00%3F",
        "charset": "UTF-16BE",
        "network": "Vodacom",
        "keyword": "",
    }
    cb = parse_reply_callback(json.dumps(body).encode())
    assert cb.text == "tenía ?"
    assert cb.reply_message_id == "r1" and cb.to_number == "27830000000"
    assert cb.timestamp == JAN_17 and cb.network == "Vodacom" and cb.keyword is None


@pytest.mark.parametrize(
    ("text", "charset", "expected"),
    [
        ("hello%21", "ISO-8859-1", "hello!"),
        ("hello+world", "ISO-8859-1", "hello world"),
        ("hello world!", "ISO-8859-1", "hello world!"),  # already decoded
        ("café 50%", "ISO-8859-1", "café 50%"),  # already decoded, stray %
        ("hi", "UTF-16BE", "hi"),  # no escape: already decoded, not one CJK char
        ("hi there", "UTF-16BE", "hi there"),
        ("50%25 off", "UTF-8", "50%25 off"),  # UTF-8 JSON text is never unescaped
    ],
)
def test_json_reply_text_encoded_or_already_decoded(text: str, charset: str, expected: str) -> None:
    cb = parse_reply_callback({"messageId": "m1", "text": text, "charset": charset})
    assert cb.text == expected


def test_undecodable_bytes_are_replaced_not_raised() -> None:
    odd = parse_reply_callback("messageId=m1&text=%00h%00&charset=UTF-16BE")
    assert odd.text == "h\ufffd" and odd.text_lossy and odd.text_bytes == b"\x00h\x00"
    bad_utf8 = parse_reply_callback("messageId=m1&text=ok%FF")
    assert bad_utf8.text == "ok\ufffd" and bad_utf8.text_lossy and bad_utf8.text_bytes == b"ok\xff"


def test_unknown_charset_reads_as_utf8(caplog: pytest.LogCaptureFixture) -> None:
    cb = parse_reply_callback("messageId=m1&text=hi&charset=X-MADE-UP")
    assert cb.text == "hi" and cb.charset == "X-MADE-UP"
    assert "unknown" in caplog.text
    # A real but non-text codec must not be used either.
    assert parse_reply_callback("messageId=m1&text=hi&charset=zlib").text == "hi"


def test_reply_missing_optionals_and_extras() -> None:
    cb = parse_reply_callback("messageId=m1&fromNumber=1&integrationId=9&apiKey=s")
    assert cb.text is None and cb.text_bytes is None and cb.timestamp is None
    assert cb.udh is None and cb.network is None and cb.reply_message_id is None
    assert cb.extra == {"integrationId": "9", "apiKey": "s"}
    shown = repr(parse_reply_callback("messageId=m1&fromNumber=27821234567&text=private"))
    assert "27821234567" not in shown and "private" not in shown


# --------------------------------------------------------------------------------------------
# whole requests


def test_request_parsing_tells_status_from_reply() -> None:
    assert isinstance(parse_callback_request("GET", GET_STATUS, b"", None), StatusCallback)
    reply = parse_callback_request(
        "POST", b"", b'{"messageId": "m1", "fromNumber": "1", "text": "hey"}', "application/json"
    )
    assert isinstance(reply, ReplyCallback) and reply.text == "hey"
    form = parse_callback_request(
        "POST",
        "",
        b"messageId=m1&replyMessageId=r&text=%00h%00i&charset=UTF-16BE",
        "application/x-www-form-urlencoded; charset=utf-8",
    )
    assert isinstance(form, ReplyCallback) and form.text == "hi"
    # POST with an empty body: the fields are in the URL.
    assert isinstance(parse_callback_request("POST", "?" + GET_STATUS, b"", None), StatusCallback)


@pytest.mark.parametrize(
    ("method", "query", "body", "ctype", "field"),
    [
        ("GET", "messageId=m1", b"", None, "callback"),  # neither kind
        ("PUT", GET_STATUS, b"", None, "method"),
        ("POST", "", b"{not json", "application/json", "body"),
        ("POST", "", b"[1, 2]", "application/json", "body"),
        ("POST", "", b"--x\r\n", "multipart/form-data; boundary=x", "Content-Type"),
        ("GET", "", b"", None, "messageId"),
    ],
)
def test_request_parsing_refusals(
    method: str, query: str, body: bytes, ctype: str | None, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_callback_request(method, query, body, ctype)
    assert caught.value.field == field


def test_default_kind_reads_an_unmarked_request_as_that_kind() -> None:
    # Only messageId and timestamp: nothing says status or reply, so the caller's URL decides.
    query = "messageId=m1&timestamp=1516217711000"
    with pytest.raises(ValidationError):
        parse_callback_request("GET", query, b"", None)
    reply = parse_callback_request("GET", query, b"", None, default_kind="reply")
    assert isinstance(reply, ReplyCallback) and reply.timestamp == JAN_17
    status = parse_callback_request("GET", query, b"", None, default_kind="status")
    assert isinstance(status, StatusCallback) and status.status.code is None
    # Fields that do say the kind win over the default.
    marked = parse_callback_request("GET", GET_STATUS, b"", None, default_kind="reply")
    assert isinstance(marked, StatusCallback)
    with pytest.raises(ValidationError) as caught:  # the default never excuses a missing id
        parse_callback_request("GET", "statusCode=4", b"", None, default_kind="status")
    assert caught.value.field == "messageId"


def test_one_request_parser_under_one_public_name() -> None:
    assert "parse_callback_request" in callbacks.__all__
    assert not hasattr(callbacks, "handle_callback")


def test_the_receiver_is_one_class_wherever_it_is_imported_from() -> None:
    assert callbacks.CallbackReceiver is CallbackReceiver
    assert clickatell_sms.CallbackReceiver is CallbackReceiver
    assert "CallbackReceiver" in callbacks.__all__
    with pytest.raises(AttributeError):
        _ = callbacks.NoSuchName  # type: ignore[attr-defined]
    # Either module can be imported first in a fresh interpreter: no import cycle.
    for first in ("clickatell_sms.callbacks.receiver", "clickatell_sms.callbacks"):
        probe = (
            f"import {first}\n"
            "from clickatell_sms.callbacks import CallbackReceiver as a\n"
            "from clickatell_sms.callbacks.receiver import CallbackReceiver as b\n"
            "assert a is b\n"
        )
        subprocess.run([sys.executable, "-c", probe], check=True)


def _status_at(code: int, ms: int | None) -> StatusCallback:
    fields: dict[str, object] = {"messageId": "m1", "statusCode": code}
    if ms is not None:
        fields["timestamp"] = ms
    return parse_status_callback(fields)


def test_is_newer() -> None:
    gateway_late = _status_at(3, 1516217712000)
    received = _status_at(4, 1516217711000)
    assert not is_newer(gateway_late, received)  # a late intermediate never undoes a final
    assert is_newer(received, gateway_late)
    assert is_newer(_status_at(3, 1516217712000), _status_at(2, 1516217711000))
    assert not is_newer(_status_at(3, 1516217711000), _status_at(2, 1516217712000))
    assert not is_newer(received, received)  # a duplicate changes nothing
    assert not is_newer(_status_at(3, None), _status_at(2, 1516217711000))
    with pytest.raises(ValueError):
        is_newer(received, parse_status_callback("messageId=other&statusCode=4"))


# --------------------------------------------------------------------------------------------
# the receiver over real HTTP


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[tuple[WSGIServer, threading.Thread]] = []

    def start(app: CallbackReceiver) -> tuple[str, int]:
        server = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        servers.append((server, thread))
        return "127.0.0.1", server.server_port

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        assert not thread.is_alive()


def _request(
    address: tuple[str, int],
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    token: str | None = SECRET,
) -> tuple[int, str, str]:
    """One request; the receiver's secret goes in as `token=` unless `token` says otherwise."""
    if token is not None:
        path += ("&" if "?" in path else "?") + f"token={token}"
    conn = http.client.HTTPConnection(*address, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read().decode()
    finally:
        conn.close()


def test_receiver_get_and_post_reach_the_handlers(serve: Serve) -> None:
    statuses: list[StatusCallback] = []
    replies: list[ReplyCallback] = []
    address = serve(
        CallbackReceiver(on_status=statuses.append, on_reply=replies.append, secret=SECRET)
    )

    status, ctype, text = _request(address, "GET", "/clickatell?" + GET_STATUS)
    assert (status, text) == (200, "OK\n") and ctype.startswith("text/plain")
    body = json.dumps({"messageId": "m2", "fromNumber": "1", "text": "%00h%00i", "charset": "UCS2"})
    status, _, _ = _request(
        address, "POST", "/clickatell", body.encode(), {"Content-Type": "application/json"}
    )
    assert status == 200
    # Raw, unescaped Latin-1 bytes in the URL survive WSGI's Latin-1 str round trip.
    line = (
        b"GET /cb?messageId=m3&fromNumber=1&text=caf\xe9&charset=ISO-8859-1&token="
        + SECRET.encode()
        + b" HTTP/1.0\r\n\r\n"
    )
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(line)
        answer = b"".join(iter(lambda: sock.recv(4096), b""))
    assert answer.startswith(b"HTTP/1.0 200")

    assert [s.api_message_id for s in statuses] == ["a1b2c3"]
    assert statuses[0].status.is_success and statuses[0].timestamp == JAN_17
    assert [(r.api_message_id, r.text) for r in replies] == [("m2", "hi"), ("m3", "café")]


def test_receiver_refuses_bad_requests(serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[StatusCallback] = []
    address = serve(CallbackReceiver(on_status=seen.append, secret=SECRET))
    status, ctype, text = _request(address, "GET", "/cb?statusCode=4")
    assert status == 400 and ctype.startswith("text/plain")
    assert text.startswith("bad callback: messageId") and "Traceback" not in text
    status, _, text = _request(
        address, "POST", "/cb", b"{oops", {"Content-Type": "application/json"}
    )
    assert status == 400 and "Traceback" not in text
    assert _request(address, "DELETE", "/cb")[0] == 405
    # Refused on the declared length alone (no body sent, so nothing is left unread).
    assert _request(address, "POST", "/cb", None, {"Content-Length": "70000"})[0] == 413
    assert seen == []
    assert "refused a callback" in caplog.text


def test_receiver_logs_handler_failure_and_still_answers_200(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: StatusCallback) -> None:
        raise RuntimeError("database is down")

    address = serve(CallbackReceiver(on_status=broken, secret=SECRET))
    with caplog.at_level(logging.ERROR, logger="clickatell_sms.callbacks"):
        status, _, text = _request(address, "GET", "/cb?" + GET_STATUS)
    assert (status, text) == (200, "OK\n")
    failures = [r for r in caplog.records if r.name == "clickatell_sms.callbacks"]
    assert len(failures) == 1 and failures[0].levelno == logging.ERROR
    assert "a1b2c3" in failures[0].getMessage()
    assert failures[0].exc_info is not None and "database is down" in caplog.text


def test_receiver_can_ask_for_retries_and_routes_by_its_only_handler(serve: Serve) -> None:
    def broken(event: ReplyCallback) -> None:
        raise RuntimeError("boom")

    address = serve(CallbackReceiver(on_reply=broken, handler_error_status=500, secret=SECRET))
    # No reply-only field: a reply-only receiver (its own URL) still reads it as a reply.
    assert _request(address, "GET", "/replies?messageId=m1&charset=UTF-8")[0] == 500


def test_receiver_acknowledges_a_kind_it_has_no_handler_for(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[ReplyCallback] = []
    address = serve(CallbackReceiver(on_reply=got.append, secret=SECRET))
    # A status that reaches a reply-only URL is acknowledged and logged, not retried forever.
    assert _request(address, "GET", "/replies?" + GET_STATUS)[0] == 200
    assert "no handler" in caplog.text and got == []
    assert _request(address, "GET", "/replies?messageId=m1&keyword=STOP")[0] == 200
    assert [g.keyword for g in got] == ["STOP"]


# --------------------------------------------------------------------------------------------
# who may post: the secret and the source allow-list (under wsgiref: any WSGI server will do)


def _basic(user: str, password: str | None) -> dict[str, str]:
    pair = user if password is None else f"{user}:{password}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def test_a_receiver_without_a_secret_is_an_explicit_choice(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(ValidationError) as caught:
        CallbackReceiver(on_status=print)
    assert caught.value.field == "secret" and "allow_unauthenticated" in str(caught.value)
    with pytest.raises(ValidationError) as both:
        CallbackReceiver(on_status=print, secret=SECRET, allow_unauthenticated=True)
    assert both.value.field == "allow_unauthenticated"
    with caplog.at_level(logging.WARNING, logger="clickatell_sms.callbacks"):
        open_door = CallbackReceiver(on_status=print, allow_unauthenticated=True)
    assert "trusts anyone" in caplog.text
    assert "unauthenticated" in repr(open_door)
    assert SECRET not in repr(CallbackReceiver(on_status=print, secret=SECRET))


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("", "non-empty"),
        ("short-secret", "at least 16"),
        ("has spaces in it, sixteen+", "letters, digits"),
        ("percent%2Fencoded-secret", "letters, digits"),
        ([], "at least one"),
    ],
)
def test_weak_or_unusable_secrets_are_refused_by_name(
    secret: str | list[str], problem: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        CallbackReceiver(on_status=print, secret=secret)
    assert caught.value.field == "secret" and problem in str(caught.value)


def test_forged_callbacks_get_401_and_never_reach_the_handler(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[StatusCallback] = []
    address = serve(CallbackReceiver(on_status=seen.append, secret=SECRET))
    path = "/cb?" + GET_STATUS
    forged = [
        _request(address, "GET", path, token=None),
        _request(address, "GET", path, token="x" + SECRET[1:]),  # same length, one byte off
        _request(address, "GET", path, token=SECRET + "x"),
        _request(address, "GET", path.replace("?", "?tokens=" + SECRET + "&"), token=None),
        _request(address, "GET", path, None, _basic("clickatell", "wrong-" + SECRET), token=None),
        _request(address, "GET", path, None, _basic(SECRET, "wrong"), token=None),
        _request(address, "GET", path, None, {"Authorization": f"Bearer {SECRET}"}, token=None),
        _request(address, "GET", path, None, {"Authorization": "Basic !!!"}, token=None),
        _request(address, "GET", path, None, {"X-Token": SECRET}, token=None),
    ]
    assert [status for status, _, _ in forged] == [401] * len(forged)
    assert all(text == "missing or wrong callback secret\n" for _, _, text in forged)
    assert seen == []
    assert "without the right secret" in caplog.text and SECRET not in caplog.text


def test_an_unauthenticated_body_is_never_read(serve: Serve) -> None:
    address = serve(CallbackReceiver(on_status=print, secret=SECRET))
    # The body is announced and never sent: reading it would hang until the socket timeout.
    head = b"POST /cb?token=wrong HTTP/1.0\r\nContent-Length: 1000\r\n\r\n"
    with socket.create_connection(address, timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(head)
        answer = sock.recv(4096)
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.0 401") and took < 1.0


def test_the_secret_is_accepted_as_basic_credentials_or_token_and_kept_out_of_events(
    serve: Serve,
) -> None:
    seen: list[StatusCallback] = []
    old = "previous-secret-abcdef"
    address = serve(CallbackReceiver(on_status=seen.append, secret=[SECRET, old]))
    path = "/cb?" + GET_STATUS
    answers = [
        _request(address, "GET", path)[0],  # token
        _request(address, "GET", path, token=old)[0],  # the other secret, during a change
        _request(address, "GET", path, None, _basic("clickatell", SECRET), token=None)[0],
        _request(address, "GET", path, None, _basic("anyone", SECRET), token=None)[0],
        _request(address, "GET", path, None, _basic(SECRET, None), token=None)[0],  # user only
        _request(address, "GET", path, None, _basic(SECRET, ""), token=None)[0],
        _request(address, "GET", "/cb?token=" + SECRET + "&" + GET_STATUS, token=None)[0],
    ]
    assert answers == [200] * 7
    assert len(seen) == 7
    for event in seen:
        assert "token" not in event.raw and "token" not in event.extra
        assert event.api_message_id == "a1b2c3" and event.status.is_success


def test_post_callbacks_carry_the_token_in_the_url(serve: Serve) -> None:
    replies: list[ReplyCallback] = []
    address = serve(CallbackReceiver(on_reply=replies.append, secret=SECRET))
    body = json.dumps({"messageId": "m9", "fromNumber": "1", "text": "yes", "token": "kept"})
    status, _, _ = _request(
        address, "POST", "/cb", body.encode(), {"Content-Type": "application/json"}
    )
    assert status == 200
    # Only the URL's token is ours: a body field of that name is the callback's own.
    assert [(r.text, r.extra) for r in replies] == [("yes", {"token": "kept"})]


def test_take_token_keeps_every_other_byte() -> None:
    query = b"a=1&token=s%2Dx&text=%00h+i&token=second&b"
    assert take_token(query) == (b"s-x", b"a=1&text=%00h+i&b")
    assert take_token(b"messageId=m1") == (None, b"messageId=m1")
    assert take_token(b"tokenizer=1&xtoken=2") == (None, b"tokenizer=1&xtoken=2")


def test_url_with_secret_writes_both_forms_and_refuses_a_second_secret() -> None:
    assert url_with_secret("https://example.com/cb", SECRET) == (
        f"https://example.com/cb?token={SECRET}"
    )
    assert url_with_secret("https://example.com:8443/cb?a=1", SECRET) == (
        f"https://example.com:8443/cb?a=1&token={SECRET}"
    )
    assert url_with_secret("http://[::1]:81", SECRET, style="basic") == (
        f"http://clickatell:{SECRET}@[::1]:81/"
    )
    for bad in ("https://u:p@example.com/", f"https://example.com/?token={SECRET}", "ftp://x/"):
        with pytest.raises(ValidationError) as caught:
            url_with_secret(bad, SECRET)
        assert caught.value.field == "url"
    with pytest.raises(ValidationError) as weak:
        url_with_secret("https://example.com/", "weak")
    assert weak.value.field == "secret"
    fresh = {generate_secret() for _ in range(50)}
    assert len(fresh) == 50 and all(len(s) >= 43 and s.isascii() for s in fresh)
    assert all(url_with_secret("https://e.com/", s).endswith(s) for s in fresh)  # no escaping


def test_refusals_are_logged_throttled_with_a_count(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    address = serve(CallbackReceiver(on_status=print, secret=SECRET))
    with caplog.at_level(logging.WARNING, logger="clickatell_sms.callbacks"):
        statuses = {_request(address, "GET", "/cb?" + GET_STATUS, token=None)[0] for _ in range(50)}
    assert statuses == {401}
    warnings = [r for r in caplog.records if "secret" in r.getMessage()]
    assert len(warnings) == 1 and "127.0.0.1" in warnings[0].getMessage()
    log = RefusalLog(logging.getLogger("clickatell_sms.callbacks"), every=0.0)
    with caplog.at_level(logging.WARNING, logger="clickatell_sms.callbacks"):
        caplog.clear()
        log.refused("refused things", "10.0.0.1")
        log.refused("refused things")
    assert [r.getMessage() for r in caplog.records] == [
        "refused things, last from 10.0.0.1 (1 since the last such warning)",
        "refused things (1 since the last such warning)",
    ]


def test_the_receiver_checks_remote_addr_against_allowed_sources(serve: Serve) -> None:
    seen: list[StatusCallback] = []
    elsewhere = serve(
        CallbackReceiver(on_status=seen.append, secret=SECRET, allowed_sources=["10.0.0.0/8"])
    )
    status, _, text = _request(elsewhere, "GET", "/cb?" + GET_STATUS)
    assert status == 403 and "address" in text and seen == []
    here = serve(
        CallbackReceiver(
            on_status=seen.append, secret=SECRET, allowed_sources=["10.0.0.0/8", "127.0.0.1"]
        )
    )
    assert _request(here, "GET", "/cb?" + GET_STATUS)[0] == 200
    assert _request(here, "GET", "/cb?" + GET_STATUS, token=None)[0] == 401  # both fences
    assert len(seen) == 1


def test_source_allow_list() -> None:
    allow = SourceAllowList(["192.0.2.0/24", "2001:db8::/32", " 198.51.100.7 "])
    assert allow.allows("192.0.2.200") and allow.allows("198.51.100.7")
    assert allow.allows("::ffff:192.0.2.1")  # IPv4 seen on an IPv6 socket
    assert allow.allows("2001:db8::1%eth0")
    assert not allow.allows("192.0.3.1") and not allow.allows("198.51.100.8")
    assert not allow.allows("") and not allow.allows(None) and not allow.allows("not-an-ip")
    for bad in (["10.0.0.0/33"], ["example.com"], []):
        with pytest.raises(ValidationError) as caught:
            SourceAllowList(bad)
        assert caught.value.field == "allowed_sources"


# --------------------------------------------------------------------------------------------
# the listener: HTTP/1.1 done right for a WSGI app


@pytest.fixture
def listening() -> Iterator[tuple[tuple[str, int], list[StatusCallback]]]:
    seen: list[StatusCallback] = []
    app = validator(CallbackReceiver(on_status=seen.append, secret=SECRET))  # PEP 3333 checks
    with CallbackServer(app) as server:
        host, _, port = server.url.removeprefix("http://").rstrip("/").rpartition(":")
        yield (host, int(port)), seen


def test_the_listener_serves_keep_alive_and_answers_pipelined_requests_in_order(
    listening: tuple[tuple[str, int], list[StatusCallback]],
) -> None:
    address, seen = listening
    conn = http.client.HTTPConnection(*address, timeout=5)
    for n in range(3):  # one connection, three requests
        conn.request("GET", f"/cb?messageId=k{n}&statusCode=4&token={SECRET}")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"OK\n")
    conn.close()
    pipelined = b"".join(
        f"GET /cb?messageId=p{n}&statusCode=3&token={SECRET} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        for n in range(5)
    )
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(pipelined + b"GET /cb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answers = b"".join(iter(lambda: sock.recv(65536), b""))
    assert answers.count(b"HTTP/1.1 200 OK\r\n") == 5 and answers.count(b"HTTP/1.1 401 ") == 1
    assert [e.api_message_id for e in seen] == ["k0", "k1", "k2", "p0", "p1", "p2", "p3", "p4"]


def test_a_client_that_stops_sending_while_its_callback_is_handled_still_gets_its_answer() -> None:
    """The end of the client's sending can arrive while the app has its request (the listener
    reads on meanwhile): the answer is still written whole, then the connection closes."""
    seen: list[StatusCallback] = []

    def slowly(event: StatusCallback) -> None:
        time.sleep(0.3)
        seen.append(event)

    with CallbackServer(CallbackReceiver(on_status=slowly, secret=SECRET)) as server:
        host, _, port = server.url.removeprefix("http://").rstrip("/").rpartition(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(f"GET /cb?messageId=h1&statusCode=4&token={SECRET} HTTP/1.1\r\n".encode())
            sock.sendall(b"Host: x\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
            answer = b"".join(iter(lambda: sock.recv(65536), b""))
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"\r\n\r\nOK\n")
    assert [e.api_message_id for e in seen] == ["h1"]


def test_the_receiver_checks_a_head_once_and_only_trusts_its_own_check() -> None:
    """Behind the listener, the receiver does not check again the head its own `refuse_early`
    passed; a screen of someone else's that lets everything through changes nothing: the
    receiver still refuses a request without the secret."""

    class Counting(CallbackReceiver):
        checked = 0

        def _refuse_head(self, environ: Any, token: bytes | None) -> Any:
            Counting.checked += 1
            return super()._refuse_head(environ, token)

    receiver = Counting(on_status=lambda event: None, secret=SECRET)
    with CallbackServer(receiver) as server:
        assert urllib3.request("GET", f"{server.url}cb?messageId=o1&token={SECRET}").status == 200
    assert Counting.checked == 1
    with CallbackServer(receiver, screen=lambda environ: None) as server:
        assert urllib3.request("GET", f"{server.url}cb?messageId=o2").status == 401
        assert urllib3.request("GET", f"{server.url}cb?messageId=o3&token={SECRET}").status == 200


def test_the_listener_reads_chunked_bodies_and_answers_expect_100_continue(
    listening: tuple[tuple[str, int], list[StatusCallback]],
) -> None:
    address, seen = listening
    body = b'{"messageId": "c1", "statusCode": 4}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    head = (
        f"POST /cb?token={SECRET} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(head.encode())
        assert sock.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(chunked)
        answer = b"".join(iter(lambda: sock.recv(65536), b""))
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert [e.api_message_id for e in seen] == ["c1"]


def test_the_listener_drops_headers_that_would_pose_as_others() -> None:
    seen: list[dict[str, object]] = []

    def echo(environ: dict[str, object], start_response: Any) -> list[bytes]:
        seen.append(dict(environ))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    with CallbackServer(echo) as server:
        host, _, port = server.url.removeprefix("http://").rstrip("/").rpartition(":")
        # A proxy's X-Forwarded-For and an attacker's X_Forwarded_For would share one key.
        request = b"GET /a%20b?q=1 HTTP/1.0\r\nX_Forwarded_For: 6.6.6.6\r\nX-Real: 1\r\n\r\n"
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(request)
            assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
    environ = seen[0]
    assert "HTTP_X_FORWARDED_FOR" not in environ and environ["HTTP_X_REAL"] == "1"
    assert (environ["PATH_INFO"], environ["QUERY_STRING"]) == ("/a b", "q=1")
    assert environ["REMOTE_ADDR"] == "127.0.0.1" and environ["SERVER_PROTOCOL"] == "HTTP/1.0"


def test_a_failing_wsgi_app_gets_500_and_the_server_keeps_serving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(environ: object, start_response: object) -> list[bytes]:
        raise RuntimeError("app bug")

    with CallbackServer(broken) as server:
        http_pool = urllib3.PoolManager()
        first = http_pool.request("GET", server.url, retries=False)
        second = http_pool.request("GET", server.url, retries=False)
        stats = server.stats()
    assert (first.status, second.status) == (500, 500)
    assert "the WSGI app failed" in caplog.text and "app bug" in caplog.text
    assert stats.answered == 2 and stats.open_connections <= 1


def test_listener_limits_are_checked_by_name() -> None:
    for field, value in [("head_timeout", 0), ("workers", 0), ("max_queued", -1)]:
        with pytest.raises(ValidationError) as caught:
            ListenerLimits(**{field: value})  # type: ignore[arg-type]
        assert caught.value.field == field


# --------------------------------------------------------------------------------------------
# the sandbox posts to a URL that carries the secret


@pytest.mark.parametrize(
    ("method", "style"), [("POST", "basic"), ("GET", "basic"), ("GET", "token")]
)
def test_the_sandbox_posts_to_a_url_with_the_secret(method: str, style: str) -> None:
    seen: list[StatusCallback] = []
    receiver = CallbackReceiver(on_status=seen.append, secret=SECRET)
    with CallbackServer(receiver) as server:
        url = url_with_secret(server.url + "status", SECRET, style=style)  # type: ignore[arg-type]
        with Sandbox(callback_url=url, callback_method=method, status_delays=(0, 0)) as sb:  # type: ignore[arg-type]
            send_json(sb, {"content": "hi", "to": ["27821234567"]})
            assert sb.wait_for_callbacks(5)
            deliveries = sb.callbacks()
    assert [d.status for d in deliveries] == [200, 200, 200]
    assert [e.status.code for e in seen] == [2, 3, 4]
    assert all("token" not in e.raw for e in seen)


def test_the_sandbox_with_a_wrong_secret_is_refused_and_never_logs_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[StatusCallback] = []
    receiver = CallbackReceiver(on_status=seen.append, secret=SECRET)
    wrong = "wrong-secret-0123456789"
    with CallbackServer(receiver) as server:
        url = url_with_secret(server.url, wrong, style="basic")
        with (
            caplog.at_level(logging.INFO),
            Sandbox(callback_url=url, status_delays=(0, 0)) as sb,
        ):
            send_json(sb, {"content": "hi", "to": ["27821234567"]})
            assert sb.wait_for_callbacks(10)
            deliveries = sb.callbacks()
    assert deliveries and {d.status for d in deliveries} == {401} and seen == []
    dead = CallbackPoster(f"http://u:{wrong}@127.0.0.1:9/cb?token={wrong}&x=1")
    assert wrong not in repr(dead) and "token=***" in repr(dead)
    assert dead.shown_url == "http://***:***@127.0.0.1:9/cb?token=***&x=1"
    assert wrong not in caplog.text
