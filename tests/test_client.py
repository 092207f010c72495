"""The client against a scripted loopback server: validation, the wire, answers, errors, retries.

Everything goes over real sockets; urllib3 is never mocked. `Scripted` answers each request from a
queue of actions (a reply, a drop, a delay) and records what it received, so a test can say
exactly what the API did and check exactly what was sent, and how often. The sandbox-based tests
(test_client_sandbox.py) cover the same ground against a full server; these pin down the cases a
real server can't be made to produce on demand.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import urllib3
from clickatell_wire.http_types import RequestFailed

import clickatell_sms
from clickatell_sms import (
    APIError,
    AuthenticationError,
    ClickatellError,
    Client,
    ClientConfig,
    ConnectionError,
    MessageResult,
    OutcomeUnknownError,
    RateLimitError,
    ResponseError,
    RetryPolicy,
    SendResult,
    TimeoutError,
    ValidationError,
)

KEY = "sk-live-5f1c0a9e7b3d4c2a8e6f"  # distinctive, so a leak is easy to grep for
NUMBERS = [f"2782{i:07d}" for i in range(1000)]
FAST = RetryPolicy(max_retries=2, backoff_factor=0.0)


# -- the scripted server -----------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 202
    body: bytes | str | dict[str, Any] | None = None  # None: echo every recipient as accepted
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    close: bool = False  # close the connection after answering, without saying so


@dataclass
class Drop:
    """Read the whole request, then close the connection without answering."""


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def numbers(self) -> list[str]:
        if self.headers.get("Content-Type") == "application/xml":
            return re.findall(r"<To>([^<]*)</To>", self.body.decode())
        return list(self.json()["to"])


class Scripted:
    """A loopback HTTP/1.1 server that answers from a script and records every request."""

    def __init__(self) -> None:
        self.script: deque[Reply | Drop] = deque()
        self.received: list[Received] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                request = Received("POST", self.path, dict(self.headers.items()), body)
                with outer.lock:
                    outer.received.append(request)
                    action = outer.script.popleft() if outer.script else Reply()
                if isinstance(action, Drop):
                    self.close_connection = True
                    return
                if action.delay:
                    time.sleep(action.delay)
                payload, media = outer.render(action, request)
                try:
                    self.send_response(action.status)
                    self.send_header("Content-Type", media)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in action.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                    self.wfile.flush()
                except OSError:
                    pass
                if action.close:
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @staticmethod
    def render(action: Reply, request: Received) -> tuple[bytes, str]:
        xml = request.headers.get("Content-Type") == "application/xml"
        media = "application/xml" if xml else "application/json"
        body = action.body
        if isinstance(body, bytes):
            return body, action.headers.pop("Content-Type", media)
        if isinstance(body, str):
            return body.encode(), action.headers.pop("Content-Type", media)
        if isinstance(body, dict):
            return json.dumps(body).encode(), "application/json"
        numbers = request.numbers()
        if xml:
            items = "".join(
                f"<Message><ApiMessageId>id-{n}</ApiMessageId><Accepted>true</Accepted>"
                f"<To>{n}</To></Message>"
                for n in numbers
            )
            doc = f"<SendMessagesResponse><Messages>{items}</Messages></SendMessagesResponse>"
            return doc.encode(), media
        entries = [
            {"apiMessageId": f"id-{n}", "accepted": True, "to": n, "errorCode": None}
            for n in numbers
        ]
        return json.dumps({"messages": entries, "errorCode": None}).encode(), media

    def then(self, *actions: Reply | Drop) -> Scripted:
        self.script.extend(actions)
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Scripted]:
    scripted = Scripted()
    yield scripted
    scripted.close()


@pytest.fixture
def client(server: Scripted) -> Iterator[Client]:
    with Client(KEY, base_url=server.url, retries=FAST, timeout=5) as made:
        yield made


@pytest.fixture
def xml_client(server: Scripted) -> Iterator[Client]:
    with Client(KEY, base_url=server.url, retries=FAST, timeout=5, format="xml") as made:
        yield made


def envelope(*messages: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"messages": list(messages), **top}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- configuration ----------------------------------------------------------------------------


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKATELL_API_KEY", KEY)
    monkeypatch.setenv("CLICKATELL_BASE_URL", "http://127.0.0.1:9/")
    with Client() as made:
        assert made.config.api_key == KEY
        assert made.config.base_url == "http://127.0.0.1:9"
    with Client("explicit", base_url="https://example.test") as made:  # arguments win
        assert made.config.api_key == "explicit"
        assert made.config.base_url == "https://example.test"


def test_a_missing_key_is_a_validation_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLICKATELL_API_KEY", raising=False)
    with pytest.raises(ValidationError) as caught:
        Client()
    assert caught.value.field == "api_key"
    assert "CLICKATELL_API_KEY" in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "name"),
    [
        ({"base_url": "ftp://example.test"}, "base_url"),
        ({"base_url": "https://"}, "base_url"),
        ({"base_url": "https://x.test/?apiKey=1"}, "base_url"),
        ({"format": "yaml"}, "format"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": (1, -1)}, "timeout"),
        ({"max_connections": 0}, "max_connections"),
        ({"default_region": "ZAF"}, "default_region"),
        ({"headers": {"X-Evil": "a\r\nInjected: 1"}}, "headers['X-Evil']"),
        ({"retries": -1}, "max_retries"),
    ],
)
def test_bad_settings_fail_at_construction(settings: dict[str, Any], name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Client(KEY, **settings)
    assert caught.value.field == name


def test_a_key_with_a_line_break_is_refused_without_quoting_it() -> None:
    with pytest.raises(ValidationError) as caught:
        Client(KEY + "\r\nX: y")
    assert KEY not in str(caught.value) and caught.value.value is None


def test_config_object_and_settings_are_exclusive() -> None:
    config = ClientConfig(api_key=KEY)
    with Client(config=config) as made:
        assert made.config is config
    with pytest.raises(TypeError):
        Client(config=config, format="xml")


def test_a_client_setting_given_to_send_names_where_it_belongs() -> None:
    """`send(..., format="xml")` is a common slip: the error says it is `Client(format=...)`."""
    with Client(KEY) as client:
        with pytest.raises(TypeError) as caught:
            client.send("27821234567", "hi", format="xml")  # type: ignore[call-arg]
        assert str(caught.value) == (
            "send() got unexpected keyword arguments: format; format is a setting of the client,"
            " not of a send: Client(format=...) or AsyncClient(format=...)"
        )
        with pytest.raises(TypeError) as caught:
            client.send_many(["27821234567"], "hi", default_region="ZA")  # type: ignore[call-arg]
        assert "default_region is a setting of the client" in str(caught.value)
        assert "Client(default_region=...)" in str(caught.value)
        with pytest.raises(TypeError) as caught:
            client.send("27821234567", "hi", colour="red")  # type: ignore[call-arg]
        assert str(caught.value) == "send() got unexpected keyword arguments: colour"


def test_config_is_frozen_and_copies_headers() -> None:
    headers = {"X-Team": "a"}
    config = ClientConfig(api_key=KEY, headers=headers)
    headers["X-Team"] = "b"
    assert config.headers["X-Team"] == "a"
    with pytest.raises(AttributeError):
        config.api_key = "other"  # type: ignore[misc]
    assert config.replace(format="xml").format == "xml"


def test_default_base_url_is_the_spec_server() -> None:
    from clickatell_wire.http_types import DEFAULT_BASE_URL

    assert ClientConfig(api_key=KEY).base_url == DEFAULT_BASE_URL


def test_reprs_never_show_the_key(client: Client) -> None:
    for text in (repr(client), repr(client.config), str(client.config)):
        assert KEY not in text
        assert "redacted" in text


# -- validation: nothing is sent --------------------------------------------------------------


def future(hours: int = 1, tz: timezone = UTC) -> datetime:
    return datetime.now(tz) + timedelta(hours=hours)


@pytest.mark.parametrize(
    ("kwargs", "name", "words"),
    [
        ({"content": ""}, "content", "empty"),
        ({"content": b"hi"}, "content", "string"),
        ({"to": []}, "to", "no recipients"),
        ({"to": 27821234567}, "to", "a list of numbers"),
        ({"to": ["27821234567", "12"]}, "to[1]", "too short"),
        ({"to": ["0821234567"]}, "to[0]", "country code"),
        ({"to": ["27 82 abc"]}, "to[0]", "letters"),
        ({"from_": "hello"}, "from_", "letters"),
        ({"user_data_header": "0605040B8423FZ"}, "user_data_header", "hexadecimal"),
        ({"user_data_header": "060504"}, "user_data_header", "follow"),
        ({"user_data_header": "06050"}, "user_data_header", "odd"),
        ({"user_data_header": 6}, "user_data_header", "bytes or a hex"),
        ({"user_data_header": b"\x02\x00"}, "user_data_header", "follow"),
        ({"validity_period": 0}, "validity_period", "1 to 10080"),
        ({"validity_period": 10081}, "validity_period", "1 to 10080"),
        ({"validity_period": timedelta(days=8)}, "validity_period", "1 to 10080"),
        ({"validity_period": timedelta(seconds=90)}, "validity_period", "whole minutes"),
        ({"validity_period": True}, "validity_period", "timedelta or minutes"),
        ({"validity_period": 1.5}, "validity_period", "timedelta or minutes"),
        (
            {"scheduled_delivery_time": datetime(2030, 1, 1)},
            "scheduled_delivery_time",
            "no timezone",
        ),
        ({"scheduled_delivery_time": future(-1)}, "scheduled_delivery_time", "past"),
        ({"scheduled_delivery_time": "2030-01-01"}, "scheduled_delivery_time", "datetime"),
        (
            {"scheduled_delivery_time": future(tz=timezone(timedelta(seconds=3630)))},
            "scheduled_delivery_time",
            "seconds",
        ),
        ({"binary": True, "content": "hello"}, "content", "not hexadecimal"),
        ({"binary": True, "content": "ABC"}, "content", "odd number"),
        ({"binary": "yes"}, "binary", "True or False"),
        ({"charset": "latin-1"}, "charset", "ASCII, UCS2-BE"),
        ({"client_message_id": "has space"}, "client_message_id", "pattern ^\\S+$"),
        ({"client_message_id": "x" * 256}, "client_message_id", "at most 255"),
        ({"client_message_id": ""}, "client_message_id", "empty"),
        ({"content": "a" * (153 * 35 + 1)}, "content", "36 parts"),
        ({"content": "ê" * (67 * 35 + 1)}, "content", "36 parts"),
        ({"timeout": -1}, "timeout", "> 0"),
        ({"extra_headers": {"X-A": "1\n2"}}, "extra_headers['X-A']", "line breaks"),
    ],
)
def test_each_validation_rule(
    client: Client, server: Scripted, kwargs: dict[str, Any], name: str, words: str
) -> None:
    call: dict[str, Any] = {"to": ["27821234567"], "content": "hi", **kwargs}
    with pytest.raises(ValidationError) as caught:
        client.send(**call)
    assert caught.value.field == name
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)  # usable as a plain ValueError too
    assert server.received == []


def test_too_many_parts_says_how_many(client: Client) -> None:
    with pytest.raises(ValidationError) as caught:
        client.send("27821234567", "€" * 2700)
    text = str(caught.value)
    assert "36 parts" in text and "5400 septets" in text and "GSM-7" in text and "35" in text


def test_xml_refuses_characters_xml_cannot_carry(xml_client: Client, server: Scripted) -> None:
    with pytest.raises(ValidationError) as caught:
        xml_client.send("27821234567", "form\x0cfeed")  # a GSM character, but not XML 1.0
    assert caught.value.field == "content" and "U+000C" in str(caught.value)
    with pytest.raises(ValidationError):
        xml_client.send("27821234567", "ok", client_message_id="a\x01b")
    assert server.received == []


def test_json_carries_a_form_feed(client: Client, server: Scripted) -> None:
    client.send("27821234567", "form\x0cfeed")
    assert server.received[0].json()["content"] == "form\x0cfeed"


def test_national_numbers_need_a_region(server: Scripted) -> None:
    with Client(KEY, base_url=server.url, default_region="ZA") as made:
        result = made.send(["082 123 4567"], "hi")
    assert result[0].number == "27821234567" and result[0].to == "082 123 4567"
    assert server.received[0].json()["to"] == ["27821234567"]


# -- estimate ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kwargs", "encoding", "parts"),
    [
        ("a" * 160, {}, "GSM-7", 1),
        ("a" * 161, {}, "GSM-7", 2),
        ("€" * 80, {}, "GSM-7", 1),  # the euro counts twice
        ("€" * 81, {}, "GSM-7", 2),
        ("é" * 160, {}, "GSM-7", 1),  # é is in the GSM table
        ("ê" * 70, {}, "UCS-2", 1),
        ("ê" * 71, {}, "UCS-2", 2),
        ("😀" * 35, {}, "UCS-2", 1),  # outside the BMP: two units each
        ("😀" * 36, {}, "UCS-2", 2),
        ("00" * 140, {"binary": True}, "binary", 1),
        ("00" * 141, {"binary": True}, "binary", 2),
        ("00" * 133, {"binary": True, "user_data_header": "0605040B8423F0"}, "binary", 1),
        (
            "00" * 134,
            {"binary": True, "user_data_header": b"\x06\x05\x04\x0b\x84\x23\xf0"},
            "binary",
            2,
        ),
    ],
)
def test_estimate(content: str, kwargs: dict[str, Any], encoding: str, parts: int) -> None:
    estimate = Client.estimate(content, **kwargs)  # no key, no client needed
    assert (estimate.encoding, estimate.parts) == (encoding, parts)


# -- the wire: every field, both formats ------------------------------------------------------


def all_options() -> dict[str, Any]:
    return {
        "from_": "+380 67 123 4567",
        "binary": False,
        "client_message_id": "order-42",
        "scheduled_delivery_time": datetime(
            2099, 2, 27, 14, 30, tzinfo=timezone(timedelta(hours=2))
        ),
        "user_data_header": b"\x06\x05\x04\x0b\x84\x23\xf0",
        "validity_period": timedelta(hours=3),
        "charset": "ucs2-be",
    }


def test_every_field_reaches_the_json_wire(client: Client, server: Scripted) -> None:
    client.send(["+27 82 123 4567", "+44 7911 123456"], "Hello {there}", **all_options())
    sent = server.received[0]
    assert sent.path == "/messages"
    assert sent.json() == {
        "content": "Hello {there}",
        "to": ["27821234567", "447911123456"],
        "from": "380671234567",
        "clientMessageId": "order-42",
        "scheduledDeliveryTime": "2099-02-27T14:30:00+0200",
        "userDataHeader": "0605040B8423F0",
        "validityPeriod": 180,
        "charset": "UCS2-BE",
    }
    assert sent.headers["Authorization"] == KEY  # as-is, no "Bearer"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["User-Agent"].startswith("clickatell-sms/")


def test_every_field_reaches_the_xml_wire(xml_client: Client, server: Scripted) -> None:
    options = all_options() | {"binary": True, "user_data_header": "0605040b8423f0"}
    options["scheduled_delivery_time"] = datetime(
        2099, 2, 27, 14, 30, tzinfo=timezone(-timedelta(hours=5, minutes=30))
    )
    result = xml_client.send(["+27 82 123 4567", "27821234568"], "48656C6C6F", **options)
    assert [r.api_message_id for r in result] == ["id-27821234567", "id-27821234568"]
    sent = server.received[0]
    assert sent.headers["Content-Type"] == "application/xml"
    assert sent.headers["Accept"] == "application/xml"
    assert sent.body.decode() == (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><SendMessageRequest>'
        "<Content>48656C6C6F</Content><To>27821234567</To><To>27821234568</To>"
        "<From>380671234567</From><Binary>true</Binary><ClientMessageId>order-42</ClientMessageId>"
        "<ScheduledDeliveryTime>2099-02-27T14:30:00-0530</ScheduledDeliveryTime>"
        "<UserDataHeader>0605040B8423F0</UserDataHeader><ValidityPeriod>180</ValidityPeriod>"
        "<Charset>UCS2-BE</Charset></SendMessageRequest>"
    )


def test_options_not_given_are_not_sent(client: Client, server: Scripted) -> None:
    client.send("27821234567", "hi")
    assert server.received[0].json() == {"content": "hi", "to": ["27821234567"]}


def test_validity_as_minutes_and_binary_flag(client: Client, server: Scripted) -> None:
    client.send("27821234567", "C0FFEE", binary=True, validity_period=1)
    assert server.received[0].json() == {
        "content": "C0FFEE",
        "to": ["27821234567"],
        "binary": True,
        "validityPeriod": 1,
    }


def test_per_call_headers_add_to_the_defaults(server: Scripted) -> None:
    with Client(KEY, base_url=server.url, headers={"X-Team": "ops"}) as made:
        made.send("27821234567", "hi", extra_headers={"X-Trace": "abc"})
        # The key cannot be replaced by accident: an Authorization header is refused, unsent.
        with pytest.raises(ValidationError, match="Authorization"):
            made.send("27821234567", "hi", extra_headers={"Authorization": "x"})
    assert len(server.received) == 1
    headers = server.received[0].headers
    assert headers["X-Team"] == "ops" and headers["X-Trace"] == "abc"
    assert headers["Authorization"] == KEY


# -- answers ----------------------------------------------------------------------------------


def test_results_are_per_recipient_in_input_order(client: Client, server: Scripted) -> None:
    server.then(
        Reply(
            body=envelope(
                {"apiMessageId": "a1", "accepted": True, "to": "27821234567"},
                {
                    "apiMessageId": None,
                    "accepted": False,
                    "to": "27821234568",
                    "errorCode": 105,
                    "error": "Invalid destination address",
                    "errorDescription": "Bad number",
                },
                errorCode=None,
                error=None,
                errorDescription=None,
            )
        )
    )
    result = client.send(["+27821234567", "27 82 123 4568"], "hi")
    assert isinstance(result, SendResult) and len(result) == 2
    first, second = result
    assert (first.index, first.to, first.number) == (0, "+27821234567", "27821234567")
    assert first.accepted and first.api_message_id == "a1"
    assert not second.accepted and second.error_code == 105
    assert (second.error, second.description) == ("Invalid destination address", "Bad number")
    assert result.accepted == [first] and result.rejected == [second]
    assert not result.all_accepted
    assert result.raw_responses[0].status == 202 and first.raw is result.raw_responses[0]
    assert "a1" in repr(result[0]) and "2 recipients" in repr(result)


def test_unknown_fields_and_missing_keys_are_fine(client: Client, server: Scripted) -> None:
    server.then(
        Reply(
            body={
                "messages": [
                    {"apiMessageId": "a1", "accepted": True, "to": "27821234567", "new": 1}
                ],
                "requestId": "r1",
                "extra": {"nested": [1, 2]},
            }
        )
    )
    assert client.send("27821234567", "hi")[0].api_message_id == "a1"


def test_legacy_answer_without_accepted_or_codes(client: Client, server: Scripted) -> None:
    server.then(
        Reply(
            body=envelope(
                {"apiMessageId": "a1", "to": "27821234567"},
                {
                    "apiMessageId": None,
                    "accepted": False,
                    "to": "27821234568",
                    "error": "Invalid destination address.",
                },
                error=None,
            )
        )
    )
    first, second = client.send(["27821234567", "27821234568"], "hi")
    assert first.accepted and not second.accepted
    assert second.error == "Invalid destination address." and second.error_code is None


def test_answers_out_of_order_are_matched_by_number(client: Client, server: Scripted) -> None:
    server.then(
        Reply(
            body=envelope(
                {"apiMessageId": "b", "accepted": True, "to": "+27821234568"},
                {"apiMessageId": "a", "accepted": True, "to": "27821234567"},
            )
        )
    )
    result = client.send(["27821234567", "27821234568"], "hi")
    assert [r.api_message_id for r in result] == ["a", "b"]


def test_a_recipient_missing_from_the_answer_is_outcome_unknown(
    client: Client, server: Scripted
) -> None:
    server.then(Reply(body=envelope({"apiMessageId": "a", "accepted": True, "to": "27821234567"})))
    with pytest.raises(OutcomeUnknownError) as caught:
        client.send(["27821234567", "27821234568"], "hi", client_message_id="ref")
    error = caught.value
    assert error.recipients == ["27821234568"] and error.client_message_id == "ref"
    assert error.raw is not None and error.raw.status == 202
    # The recipient that did get an entry is not lost: its result is in `partial`.
    assert error.partial is not None
    assert [(r.number, r.api_message_id) for r in error.partial] == [("27821234567", "a")]


@pytest.mark.parametrize("status", [200, 202, 400])
def test_request_level_error_is_read_from_the_body(
    client: Client, server: Scripted, status: int
) -> None:
    server.then(
        Reply(
            status=status,
            body=envelope(
                errorCode=106,
                error="Invalid FROM number.",
                errorDescription="You should specify correct FROM number.",
            ),
        )
    )
    with pytest.raises(APIError) as caught:
        client.send("27821234567", "hi")
    error = caught.value
    assert type(error) is APIError
    assert (error.status, error.error_code, error.error) == (status, 106, "Invalid FROM number.")
    assert error.description == "You should specify correct FROM number."
    assert error.raw is not None and b"106" in error.raw.body
    assert "106" in str(error) and f"HTTP {status}" in str(error)


def test_legacy_string_only_error_is_recognised(client: Client, server: Scripted) -> None:
    server.then(Reply(status=200, body={"messages": [], "error": "Two-Way integration error"}))
    with pytest.raises(APIError) as caught:
        client.send("27821234567", "hi")
    assert caught.value.error_code is None and caught.value.error == "Two-Way integration error"


@pytest.mark.parametrize(
    ("status", "code"), [(401, 108), (403, None), (200, 108), (202, 1), (400, 7)]
)
def test_authentication_errors(
    client: Client, server: Scripted, status: int, code: int | None
) -> None:
    server.then(Reply(status=status, body=envelope(errorCode=code, error="Auth")))
    with pytest.raises(AuthenticationError) as caught:
        client.send("27821234567", "hi")
    assert caught.value.status == status and caught.value.error_code == code


def test_an_html_error_page_is_a_response_error(client: Client, server: Scripted) -> None:
    server.then(
        Reply(status=404, body="<html>not here</html>", headers={"Content-Type": "text/html"})
    )
    with pytest.raises(ResponseError) as caught:
        client.send("27821234567", "hi")
    assert caught.value.status == 404 and caught.value.raw is not None
    assert caught.value.raw.body == b"<html>not here</html>"


def test_an_error_status_without_error_fields_is_an_api_error(
    client: Client, server: Scripted
) -> None:
    server.then(Reply(status=400, body={"messages": []}))
    with pytest.raises(APIError) as caught:
        client.send("27821234567", "hi")
    assert caught.value.status == 400


@pytest.mark.parametrize("body", [b"not json at all", b'{"messages": "nope"}', b""])
def test_an_unreadable_success_is_outcome_unknown(
    client: Client, server: Scripted, body: bytes
) -> None:
    # The API took the request (2xx): the message may be out. Never a plain failure to retry.
    server.then(Reply(status=202, body=body))
    with pytest.raises(OutcomeUnknownError) as caught:
        client.send("27821234567", "hi")
    assert caught.value.raw is not None and caught.value.raw.body == body
    assert caught.value.recipients == ["27821234567"]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_are_outcome_unknown_and_not_retried(
    client: Client, server: Scripted, status: int
) -> None:
    server.then(Reply(status=status, body=envelope(errorCode=901, error="Internal error")))
    with pytest.raises(OutcomeUnknownError) as caught:
        client.send("27821234567", "hi")
    assert caught.value.raw is not None and caught.value.raw.status == status
    assert len(server.received) == 1


def test_accepted_recipients_beside_an_error_are_kept(client: Client, server: Scripted) -> None:
    server.then(
        Reply(
            status=207,
            body=envelope(
                {"apiMessageId": "a", "accepted": True, "to": "27821234567"},
                {"apiMessageId": None, "accepted": False, "to": "27821234568", "errorCode": 114},
                errorCode=101,
                error="Partly",
            ),
        )
    )
    result = client.send(["27821234567", "27821234568"], "hi")
    assert [r.accepted for r in result] == [True, False]


def test_mt_limit_error_130_is_a_rate_limit_with_its_time(client: Client, server: Scripted) -> None:
    until = int(time.time()) + 3600
    server.then(
        Reply(
            status=200,
            body=envelope(errorCode=130, error=f"Maximum MT limit exceeded until {until}"),
        )
    )
    with pytest.raises(RateLimitError) as caught:
        client.send("27821234567", "hi")
    assert caught.value.retry_after is not None and 3500 < caught.value.retry_after <= 3600


def test_xml_answers(xml_client: Client, server: Scripted) -> None:
    server.then(
        Reply(
            body=(
                '<?xml version="1.0"?><SendMessagesResponse><Messages>'
                "<Message><ApiMessageId>a</ApiMessageId><Accepted>true</Accepted>"
                "<To>27821234567</To><Unknown>x</Unknown></Message>"
                "<Message><Accepted>false</Accepted><To>27821234568</To>"
                "<ErrorCode>105</ErrorCode><Error>Invalid destination</Error></Message>"
                "</Messages><RequestId>r</RequestId></SendMessagesResponse>"
            )
        ),
        Reply(
            status=200,
            body=(
                "<SendMessagesResponse><Messages/><ErrorCode>108</ErrorCode>"
                "<Error>Invalid or missing integration API Key.</Error></SendMessagesResponse>"
            ),
        ),
        Reply(status=202, body="<SendMessagesResponse><Messages>"),
    )
    first, second = xml_client.send(["27821234567", "27821234568"], "hi")
    assert first.accepted and first.api_message_id == "a"
    assert not second.accepted and second.error_code == 105
    with pytest.raises(AuthenticationError) as caught:
        xml_client.send("27821234567", "hi")
    assert caught.value.status == 200 and caught.value.error_code == 108
    with pytest.raises(OutcomeUnknownError):
        xml_client.send("27821234567", "hi")


# -- duplicates and batching ------------------------------------------------------------------


def test_duplicates_are_sent_once_and_reported(client: Client, server: Scripted) -> None:
    result = client.send(["+27 82 123 4567", "27821234568", "0027821234567"], "hi")
    assert server.received[0].json()["to"] == ["27821234567", "27821234568"]
    duplicate = result[2]
    assert not duplicate.accepted and duplicate.duplicate_of == 0
    assert duplicate.error == "duplicate" and "to[0]" in (duplicate.description or "")
    assert duplicate.to == "0027821234567" and duplicate.number == "27821234567"
    assert result[0].accepted


def test_450_recipients_are_three_requests_in_order(client: Client, server: Scripted) -> None:
    numbers = NUMBERS[:450]
    result = client.send(numbers, "hi")
    assert [len(r.numbers()) for r in server.received] == [200, 200, 50]
    sent = [n for r in server.received for n in r.numbers()]
    assert sent == numbers  # each once, in order
    assert [r.number for r in result] == numbers
    assert [r.index for r in result] == list(range(450))
    assert all(r.api_message_id == f"id-{r.number}" for r in result)
    assert len(result.raw_responses) == 3


def test_duplicates_across_batches(client: Client, server: Scripted) -> None:
    numbers = NUMBERS[:250] + NUMBERS[:10]
    result = client.send(numbers, "hi")
    assert [len(r.numbers()) for r in server.received] == [200, 50]
    assert [r.duplicate_of for r in result[250:]] == list(range(10))
    assert len(result.accepted) == 250


def test_a_failure_in_a_later_request_carries_the_earlier_results(
    client: Client, server: Scripted
) -> None:
    server.then(Reply(), Drop())
    with pytest.raises(OutcomeUnknownError) as caught:
        client.send(NUMBERS[:450], "hi", client_message_id="batch-7")
    error = caught.value
    assert error.recipients == NUMBERS[200:400] and error.client_message_id == "batch-7"
    assert error.partial is not None and len(error.partial) == 200
    assert [r.number for r in error.partial] == NUMBERS[:200]
    assert len(server.received) == 2  # the third request was never sent


def test_no_partial_when_the_first_request_fails(client: Client, server: Scripted) -> None:
    server.then(Reply(status=401, body=envelope(errorCode=108, error="bad key")))
    with pytest.raises(AuthenticationError) as caught:
        client.send(NUMBERS[:300], "hi")
    assert caught.value.partial is None


# -- retries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_are_retried_then_succeed(
    client: Client, server: Scripted, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="clickatell_sms")
    server.then(Reply(status=status, body=envelope(), headers={"Retry-After": "0"}))
    result = client.send("27821234567", "hi")
    assert result.all_accepted and len(server.received) == 2
    assert f"retrying (retry 1 of 2): HTTP {status}" in caplog.text


def test_debug_logging_tells_each_request_and_its_answer_with_the_time_taken(
    client: Client, server: Scripted, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="clickatell_sms")  # whatever earlier tests left
    client.send("27821234567", "hi")  # DEBUG off: nothing said, nothing timed
    assert "answer to request" not in caplog.text
    caplog.set_level(logging.DEBUG, logger="clickatell_sms")
    client.send(["27821234567", "27821234568"], "hi")
    assert "POST /messages (request 1 of 1, json): 2 recipients" in caplog.text
    assert re.search(r"answer to request 1 of 1: HTTP 202, \d+ bytes in \d+\.\d ms", caplog.text)


def test_429_exhausted_is_a_rate_limit_error(client: Client, server: Scripted) -> None:
    server.then(*[Reply(status=429, body=envelope(), headers={"Retry-After": "0"})] * 3)
    with pytest.raises(RateLimitError) as caught:
        client.send("27821234567", "hi")
    assert len(server.received) == 3  # the first try and two retries
    assert caught.value.status == 429 and caught.value.retry_after == 0


def test_503_exhausted_is_an_api_error_503(client: Client, server: Scripted) -> None:
    server.then(*[Reply(status=503, body=envelope(errorCode=901, error="retry"))] * 3)
    with pytest.raises(APIError) as caught:
        client.send("27821234567", "hi")
    assert type(caught.value) is APIError and caught.value.status == 503
    assert len(server.received) == 3


def test_a_retry_after_beyond_the_cap_is_not_slept(
    client: Client, server: Scripted, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="clickatell_sms")
    server.then(Reply(status=429, body=envelope(), headers={"Retry-After": "3600"}))
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        client.send("27821234567", "hi")
    assert time.monotonic() - started < 2
    assert caught.value.retry_after == 3600 and len(server.received) == 1
    assert "more than the 60 s cap" in caplog.text


def test_retry_after_is_honoured(server: Scripted) -> None:
    server.then(Reply(status=503, body=envelope(), headers={"Retry-After": "1"}))
    with Client(KEY, base_url=server.url, retries=FAST) as made:
        started = time.monotonic()
        made.send("27821234567", "hi")
    assert time.monotonic() - started >= 0.9


def test_backoff_grows_and_is_capped() -> None:
    from clickatell_sms.retry import RetryState

    policy = RetryPolicy(max_retries=9, backoff_factor=0.5, backoff_max=1.5, backoff_jitter=0.0)
    assert [policy.backoff(n) for n in range(1, 5)] == [0.5, 1.0, 1.5, 1.5]
    state = RetryState(policy, time.monotonic() + 60, idempotent=False)
    refused = RequestFailed("refused", kind="refused")
    assert [state.after_failure(refused) for _ in range(4)] == [0.5, 1.0, 1.5, 1.5]


def test_retries_can_be_turned_off_per_call(client: Client, server: Scripted) -> None:
    server.then(Reply(status=429, body=envelope()))
    with pytest.raises(RateLimitError):
        client.send("27821234567", "hi", retries=0)
    assert len(server.received) == 1


def test_connection_refused_is_retried_then_a_connection_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="clickatell_sms")
    base = f"http://127.0.0.1:{closed_port()}"
    with Client(KEY, base_url=base, retries=FAST) as made, pytest.raises(ConnectionError) as caught:
        made.send("27821234567", "hi")
    assert "nothing was sent" in str(caught.value)
    assert caplog.text.count("retrying (retry") == 2
    assert "not retrying (attempt 3)" in caplog.text
    # The cause says what failed (never the library's exception: those quote headers and
    # URLs), and its own cause is the socket's error, copied.
    failed = caught.value.__cause__
    assert isinstance(failed, RequestFailed) and failed.kind == "refused"
    assert "Connection refused" in failed.detail
    assert isinstance(failed.__cause__, ConnectionRefusedError)


def test_dns_failure_is_a_connection_error() -> None:
    base = "https://no-such-host.invalid"
    with Client(KEY, base_url=base, retries=0) as made, pytest.raises(ConnectionError) as caught:
        made.send("27821234567", "hi")
    assert "DNS" in str(caught.value)


def test_connect_timeout_is_retried_then_a_timeout_error() -> None:
    # A listener with a full backlog never completes the handshake: a loopback connect timeout.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    filler = socket.create_connection(listener.getsockname())
    try:
        base = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with Client(KEY, base_url=base, retries=FAST, timeout=(0.2, 5)) as made:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                made.send("27821234567", "hi")
        assert 0.5 < time.monotonic() - started < 5  # three attempts of 0.2 s
    finally:
        filler.close()
        listener.close()


def test_a_read_timeout_is_outcome_unknown_and_never_resent(
    client: Client, server: Scripted, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="clickatell_sms")
    server.then(Reply(delay=1.0))
    with pytest.raises(OutcomeUnknownError) as caught:
        client.send(["27821234567", "27821234568"], "hi", client_message_id="c-1", timeout=0.3)
    error = caught.value
    assert error.recipients == ["27821234567", "27821234568"]
    assert error.client_message_id == "c-1" and error.raw is None
    assert "read timeout" in str(error)
    time.sleep(0.9)
    assert len(server.received) == 1
    assert "reporting the outcome as unknown" in caplog.text


def test_a_dropped_connection_after_the_body_is_outcome_unknown(
    client: Client, server: Scripted
) -> None:
    server.then(Drop())
    with pytest.raises(OutcomeUnknownError) as caught:
        client.send("27821234567", "hi")
    assert "broke after the request was sent" in str(caught.value)
    assert len(server.received) == 1


def test_a_keep_alive_connection_closed_while_idle_is_replaced(
    client: Client, server: Scripted
) -> None:
    # The server closes the connection after its answer without saying so. urllib3 sees the
    # closed socket before reusing it, so the next send opens a new one: sent once, succeeds.
    server.then(Reply(close=True), Reply())
    client.send("27821234567", "one")
    time.sleep(0.1)
    client.send("27821234568", "two")
    assert [r.json()["content"] for r in server.received] == ["one", "two"]


def test_no_urllib3_or_parser_exception_escapes(server: Scripted) -> None:
    with Client(KEY, base_url=server.url, retries=0) as made:
        for action in (Drop(), Reply(delay=0.5), Reply(status=202, body=b"\xff\xfe")):
            server.then(action)
            with pytest.raises(ClickatellError) as caught:
                made.send("27821234567", "hi", timeout=0.2)
            assert not isinstance(caught.value, urllib3.exceptions.HTTPError | json.JSONDecodeError)


def test_a_closed_client_refuses_to_send(server: Scripted) -> None:
    made = Client(KEY, base_url=server.url)
    made.close()
    with pytest.raises(ClickatellError, match="closed"):
        made.send("27821234567", "hi")


def test_one_client_is_safe_across_threads(client: Client, server: Scripted) -> None:
    failures: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(5):
                numbers = NUMBERS[offset * 50 + i * 10 : offset * 50 + i * 10 + 10]
                result = client.send(numbers, f"t{offset}")
                assert [r.api_message_id for r in result] == [f"id-{n}" for n in numbers]
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(server.received) == 40


# -- secrets and numbers stay out of logs -----------------------------------------------------


def test_the_key_never_appears_in_logs_errors_or_reprs(
    server: Scripted, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's included
    texts: list[str] = []
    server.then(
        Reply(),
        Reply(status=429, body=envelope(), headers={"Retry-After": "0"}),
        Reply(),
        Reply(status=401, body=envelope(errorCode=108, error="Invalid key")),
        Reply(status=200, body=envelope(errorCode=106, error="bad from")),
        Drop(),
        Reply(status=500, body="oops"),
        Reply(status=202, body="garbage"),
        Reply(status=429, body=envelope(), headers={"Retry-After": "999"}),
    )
    with Client(KEY, base_url=server.url, retries=FAST) as made:
        texts += [repr(made), repr(made.config)]
        for _ in range(9):
            try:
                texts.append(repr(made.send(["27821234567", "27821234568"], "hi")))
            except ClickatellError as exc:
                texts += [str(exc), repr(exc), repr(getattr(exc, "raw", None))]
                cause = exc.__cause__
                texts += [str(cause), repr(cause)] if cause else []
            if len(server.received) >= 10:
                break
        for bad in ({"to": "x"}, {"content": ""}, {"extra_headers": {"A": "\n"}}):
            try:
                made.send(**({"to": "27821234567", "content": "hi"} | bad))
            except ClickatellError as exc:
                texts += [str(exc), repr(exc)]
    with Client(KEY, base_url=f"http://127.0.0.1:{closed_port()}", retries=1) as made:
        try:
            made.send("27821234567", "hi")
        except ClickatellError as exc:
            texts += [str(exc), repr(exc), str(exc.__cause__)]
    texts.append(caplog.text)
    texts += [record.getMessage() for record in caplog.records]
    everything = "\n".join(texts)
    assert "rate limited" in everything and "authentication failed" in everything
    assert KEY not in everything
    assert KEY[:12] not in everything


def test_numbers_are_masked_in_logs_unless_asked(
    server: Scripted, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="clickatell_sms")
    with Client(KEY, base_url=server.url) as made:
        made.send(["27821234567"], "hi")
    assert "27821234567" not in caplog.text and "27******567" in caplog.text
    caplog.clear()
    with Client(KEY, base_url=server.url, log_numbers=True) as made:
        made.send(["27821234567"], "hi")
    assert "27821234567" in caplog.text


# -- the package ------------------------------------------------------------------------------


def test_public_names() -> None:
    assert set(clickatell_sms.__all__) >= {
        "Client",
        "ClientConfig",
        "MessageResult",
        "SendResult",
        "Estimate",
        "RetryPolicy",
        "ValidationError",
        "AuthenticationError",
        "RateLimitError",
        "APIError",
        "ResponseError",
        "ConnectionError",
        "TimeoutError",
        "OutcomeUnknownError",
    }
    for name in clickatell_sms.__all__:
        assert getattr(clickatell_sms, name) is not None
    assert MessageResult.__module__ == "clickatell_sms.results"
    with pytest.raises(AttributeError):
        clickatell_sms.Nope  # noqa: B018


_IMPORT_PROBE = """
import json, sys
before = set(sys.modules)
import clickatell_sms
from clickatell_sms import Client, ClientConfig, RetryPolicy
Client("k", base_url="http://127.0.0.1:9")
print(json.dumps(sorted(set(sys.modules) - before)))
"""
# What the import and a Client() may not load: the HTTP stack (urllib3, loaded by the first
# request), the codecs (msgspec, by the first answer), XML support (by the first XML send),
# phonenumbers (by the first number that needs it), asyncio and aiohttp (AsyncClient's), and
# the parts of the standard library that only a request, a journal or a server needs.
_NOT_AT_START_UP = {
    "urllib3", "msgspec", "xsdata", "phonenumbers", "aiohttp", "h11", "yaml", "jinja2",
    "asyncio", "ssl", "socket", "http", "email", "json", "sqlite3", "concurrent",
}  # fmt: skip


def test_cold_import_and_client_load_only_the_standard_library_and_our_own_modules() -> None:
    # "Cheap" proved by what is loaded, which no machine's speed changes; how long it takes is
    # the bench's to measure (scripts/bench: import + Client() against httpx's).
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(out.stdout))
    tops = {name.split(".")[0] for name in loaded}
    ours = {"clickatell_sms", "clickatell_wire"}
    outside = sorted(tops - ours - set(sys.stdlib_module_names))
    assert outside == [], f"third-party packages loaded at start-up: {outside}"
    assert sorted(tops & _NOT_AT_START_UP) == []
    later = ("clickatell_wire.xml", "clickatell_sms.sandbox", "clickatell_sms.bulk",
             "clickatell_sms.cli", "clickatell_sms.callbacks", "clickatell_sms.async_client")  # fmt: skip
    early = sorted(m for m in loaded if any(m == p or m.startswith(f"{p}.") for p in later))
    assert early == [], f"loaded at start-up: {early}"


def test_a_json_send_never_loads_xml_support() -> None:
    code = (
        "import sys, json, threading\n"
        "from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer\n"
        "class H(BaseHTTPRequestHandler):\n"
        "    protocol_version = 'HTTP/1.1'\n"
        "    def do_POST(self):\n"
        "        n = json.loads(self.rfile.read(int(self.headers['Content-Length'])))['to']\n"
        "        out = json.dumps({'messages': [{'apiMessageId': 'a', 'accepted': True, 'to': x} for x in n]}).encode()\n"
        "        self.send_response(202); self.send_header('Content-Length', str(len(out)))\n"
        "        self.send_header('Content-Type', 'application/json'); self.end_headers(); self.wfile.write(out)\n"
        "    def log_message(self, *a): pass\n"
        "s = ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
        "threading.Thread(target=s.serve_forever, daemon=True).start()\n"
        "from clickatell_sms import Client\n"
        "Client('k', base_url=f'http://127.0.0.1:{s.server_port}').send('27821234567', 'hi')\n"
        "print(sorted(m for m in sys.modules if m.startswith(('clickatell_wire.xml', 'xsdata'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
