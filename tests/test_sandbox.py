"""The sandbox against the contract: the seed examples, the other operations, records, billing,
status progression and the HTTP/1.1 plumbing, all over real loopback sockets.

The helpers at the top (`call`, `assert_conforms`, `xsd_valid`) are shared by the other
test_sandbox_*.py files.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
import tracemalloc
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import msgspec
import pytest
import urllib3
import xmlschema
import yaml
from clickatell_wire import models
from clickatell_wire.xml import codec
from jsonschema import Draft202012Validator

from clickatell_sms.sandbox import (
    FAILS_DELIVERY_NUMBER,
    STAYS_AT_GATEWAY_NUMBER,
    MemoryStore,
    Quirks,
    RecordedMessage,
    Sandbox,
    SQLiteStore,
    StatusDelays,
    TemporaryStore,
)

ROOT = Path(__file__).resolve().parent.parent
SEED_FROM = "380671234567"
KEY = "sandbox-key"

_http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2, read=5))


# ------------------------------------------------------------------------------------------------
# Shared helpers


def call(
    sb: Sandbox,
    method: str,
    path: str,
    body: bytes | str | None = None,
    *,
    content_type: str | None = "application/json",
    accept: str | None = None,
    key: str | None = KEY,
    headers: dict[str, str] | None = None,
    timeout: float | None = None,
) -> urllib3.BaseHTTPResponse:
    """One request to the sandbox with the usual headers; None leaves a header out."""
    sent: dict[str, str] = {}
    if key is not None:
        sent["Authorization"] = key
    if body is not None and content_type is not None:
        sent["Content-Type"] = content_type
    if accept is not None:
        sent["Accept"] = accept
    sent.update(headers or {})
    data = body.encode() if isinstance(body, str) else body
    return _http.request(
        method,
        sb.base_url + path,
        body=data,
        headers=sent,
        timeout=timeout if timeout is not None else urllib3.Timeout(connect=2, read=5),
    )


def send_json(sb: Sandbox, document: dict[str, Any], **kwargs: Any) -> urllib3.BaseHTTPResponse:
    return call(sb, "POST", "/messages", json.dumps(document), **kwargs)


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())
    return spec


@cache
def _xsd() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(ROOT / "spec" / "messages.xsd"))


def xsd_valid(document: bytes) -> bool:
    return bool(_xsd().is_valid(document.decode()))


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = _spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def spec_schema(method: str, path: str, status: int, media: str) -> dict[str, Any]:
    """The schema the spec gives for this answer (fails the test if the spec has none)."""
    operation = _spec()["paths"][path][method.lower()]
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {path}: the spec has no {status} answer"
    response = _resolve(responses[str(status)])
    assert media in response["content"], f"{method} {path} {status}: no {media} in the spec"
    schema: dict[str, Any] = response["content"][media]["schema"]
    return schema


def assert_conforms(response: urllib3.BaseHTTPResponse, method: str, path: str) -> None:
    """The answer's status and media type are in the spec, and its body matches the schema
    (JSON Schema from openapi.yaml for JSON, messages.xsd for XML)."""
    media = response.headers["Content-Type"].split(";")[0]
    schema = spec_schema(method, path, response.status, media)
    if media == "application/json":
        root = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": _spec()["components"],
            **schema,
        }
        errors = list(Draft202012Validator(root).iter_errors(json.loads(response.data)))
        assert not errors, [error.message for error in errors]
    else:
        assert media == "application/xml"
        _xsd().validate(response.data.decode())
    if response.status in (429, 503):
        assert int(response.headers["Retry-After"]) >= 0


def body_json(response: urllib3.BaseHTTPResponse) -> Any:
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.data)


def seed_text(seeds: Path, name: str) -> bytes:
    return (seeds / name).read_bytes()


# ------------------------------------------------------------------------------------------------
# The seed examples


@pytest.fixture
def two_way() -> Any:
    with Sandbox(two_way_numbers=[SEED_FROM]) as sb:
        yield sb


def test_seed_json_request_is_accepted_by_a_two_way_sandbox(two_way: Sandbox, seeds: Path) -> None:
    response = call(two_way, "POST", "/messages", seed_text(seeds, "send-request.json"))
    assert response.status == 202
    assert_conforms(response, "POST", "/messages")
    answer = body_json(response)
    assert [m["to"] for m in answer["messages"]] == ["380976543211", "380976543212"]
    assert all(m["accepted"] for m in answer["messages"])
    assert all(len(m["apiMessageId"]) == 32 for m in answer["messages"])
    assert answer["errorCode"] is None and answer["error"] is None
    # The generated model reads it back.
    decoded = msgspec.json.decode(response.data, type=models.SendMessagesResponse)
    assert isinstance(decoded.messages, list) and len(decoded.messages) == 2

    records = two_way.messages()
    assert [r.api_message_id for r in records] == [m["apiMessageId"] for m in answer["messages"]]
    first = records[0]
    assert first == RecordedMessage(
        api_message_id=first.api_message_id,
        to="380976543211",
        content="string",
        options={
            "from": SEED_FROM,
            "binary": False,
            "clientMessageId": "uuid",
            "scheduledDeliveryTime": "2017-02-27T14:30:00+0200",
            "userDataHeader": "0605040B8423F0",
            "validityPeriod": 1,
            "charset": "UTF-8",
        },
        parts=1,
        format="json",
        request_id=first.request_id,
        received_at=first.received_at,
    )
    assert records[1].request_id == first.request_id
    # Each recorded field reads by its Python name too, with the spec's default when not sent.
    assert (first.from_, first.validity_period, first.binary) == (SEED_FROM, 1, False)


def test_seed_xml_request_is_accepted_and_answered_in_xml(two_way: Sandbox, seeds: Path) -> None:
    response = call(
        two_way,
        "POST",
        "/messages",
        seed_text(seeds, "send-request.xml"),
        content_type="application/xml",
    )
    assert response.status == 202
    assert response.headers["Content-Type"] == "application/xml"
    assert xsd_valid(response.data)
    assert_conforms(response, "POST", "/messages")
    decoded = codec.decode_send_messages_response(response.data)
    assert decoded.messages is not None
    (message,) = decoded.messages.message
    assert message.accepted is True
    assert message.to == "380685555555"
    assert message.error_code is None
    (record,) = two_way.messages()
    assert record.format == "xml"
    assert record.client_message_id == "id"
    assert record.user_data_header == "0605040B8423F0"
    assert record.api_message_id == message.api_message_id


@pytest.mark.parametrize(
    ("seed", "content_type", "accept", "answered"),
    [
        ("send-request.json", "application/json", "application/xml", "application/xml"),
        ("send-request.xml", "application/xml", "application/json", "application/json"),
        ("send-request.json", "application/json", "*/*", "application/json"),
        ("send-request.xml", "application/xml", "*/*", "application/xml"),
        (
            "send-request.xml",
            "application/xml",
            "text/html, application/json;q=0.5",
            "application/json",
        ),
        ("send-request.json", "application/json; charset=utf-8", None, "application/json"),
    ],
)
def test_answer_follows_accept_else_the_request_format(
    two_way: Sandbox, seeds: Path, seed: str, content_type: str, accept: str | None, answered: str
) -> None:
    response = call(
        two_way,
        "POST",
        "/messages",
        seed_text(seeds, seed),
        content_type=content_type,
        accept=accept,
    )
    assert response.status == 202
    assert response.headers["Content-Type"] == answered
    assert_conforms(response, "POST", "/messages")
    if answered == "application/xml":
        assert xsd_valid(response.data)


def test_the_default_sandbox_answers_clickatells_example_requests_as_documented(
    seeds: Path,
) -> None:
    """Clickatell's example requests carry a `from` and are answered 202: a sandbox told
    nothing about the integration's numbers takes them, in JSON and in XML, and records the
    `from`."""
    with Sandbox() as sb:
        taken = call(sb, "POST", "/messages", seed_text(seeds, "send-request.json"))
        taken_xml = call(
            sb,
            "POST",
            "/messages",
            seed_text(seeds, "send-request.xml"),
            content_type="application/xml",
        )
        for response in (taken, taken_xml):
            assert response.status == 202, response.data
            assert_conforms(response, "POST", "/messages")
            assert "X-Sandbox-Warning" not in response.headers
        assert all(m["accepted"] for m in body_json(taken)["messages"])
        assert xsd_valid(taken_xml.data)
        records = sb.messages()
        assert [r.to for r in records] == ["380976543211", "380976543212", "380685555555"]
        assert [r.from_ for r in records] == [SEED_FROM] * 3
        assert sb.refusals() == {} and sb.warnings() == {}


def test_a_one_way_sandbox_takes_the_seeds_without_from_and_refuses_them_with_it(
    seeds: Path,
) -> None:
    json_seed = json.loads(seed_text(seeds, "send-request.json"))
    xml_seed = seed_text(seeds, "send-request.xml")
    xml_without_from = xml_seed.replace(f"<From>{SEED_FROM}</From>".encode(), b"")
    assert xml_without_from != xml_seed
    with Sandbox(one_way=True) as sb:
        refused = send_json(sb, json_seed)
        refused_xml = call(sb, "POST", "/messages", xml_seed, content_type="application/xml")
        for response in (refused, refused_xml):
            assert response.status == 200  # as the live API answered the other from error, 106
            assert_conforms(response, "POST", "/messages")
        assert body_json(refused) == {
            "messages": [],
            "errorCode": 607,
            "error": "Invalid FROM number.",
            "errorDescription": "User specified FROM number, but integration isn't two-way.",
        }
        assert b"<ErrorCode>607</ErrorCode>" in refused_xml.data
        assert sb.messages() == []

        del json_seed["from"]
        taken = send_json(sb, json_seed)
        taken_xml = call(sb, "POST", "/messages", xml_without_from, content_type="application/xml")
        for response in (taken, taken_xml):
            assert response.status == 202
            assert_conforms(response, "POST", "/messages")
        assert xsd_valid(taken_xml.data)
        assert [r.to for r in sb.messages()] == ["380976543211", "380976543212", "380685555555"]
        assert all(r.from_ is None for r in sb.messages())


# ------------------------------------------------------------------------------------------------
# Billing and balance


def test_balance_falls_by_price_per_part_for_each_accepted_recipient() -> None:
    with Sandbox(balance=Decimal("10"), price_per_part=Decimal("0.25"), currency="USD") as sb:
        long_gsm = "x" * 161  # two GSM-7 parts
        unicode_text = "ça coûte 💶"  # UCS-2 (the emoji), one part
        assert (
            send_json(sb, {"content": long_gsm, "to": ["27821234567", "27821234568"]}).status == 202
        )
        assert send_json(sb, {"content": unicode_text, "to": ["27821234569", "x2"]}).status == 202
        assert [r.parts for r in sb.messages()] == [2, 2, 1]
        expected = Decimal("10") - Decimal("0.25") * (2 + 2 + 1)
        assert sb.balance == expected
        response = call(sb, "GET", "/public-client/balance", content_type=None)
        assert response.status == 200
        assert_conforms(response, "GET", "/public-client/balance")
        assert body_json(response) == {"balance": float(expected), "currency": "USD"}


def test_running_out_of_credit_refuses_recipients_with_301_and_charges_nothing_for_them() -> None:
    with Sandbox(balance=Decimal("0.2"), price_per_part=Decimal("0.1")) as sb:
        response = send_json(
            sb, {"content": "hi", "to": ["27821234567", "27821234568", "27821234569"]}
        )
        assert response.status == 202
        assert_conforms(response, "POST", "/messages")
        messages = body_json(response)["messages"]
        assert [m["accepted"] for m in messages] == [True, True, False]
        assert messages[2] == {
            "apiMessageId": None,
            "accepted": False,
            "to": "27821234569",
            "errorCode": 301,
            "error": "No credit left",
            "errorDescription": "The balance does not cover this message.",
        }
        assert sb.balance == Decimal("0")
        assert len(sb.messages()) == 2


# ------------------------------------------------------------------------------------------------
# Message status and its progression


def _status(sb: Sandbox, message_id: str) -> dict[str, Any]:
    response = call(
        sb, "GET", f"/public-client/message/status?messageId={message_id}", content_type=None
    )
    assert response.status == 200
    assert_conforms(response, "GET", "/public-client/message/status")
    document: dict[str, Any] = body_json(response)
    return document


def _wait_for_code(sb: Sandbox, message_id: str, code: int, limit: float = 3.0) -> dict[str, Any]:
    deadline = time.monotonic() + limit
    while True:
        document = _status(sb, message_id)
        if document["statusCode"] == code or time.monotonic() > deadline:
            return document
        time.sleep(0.01)


def test_status_moves_from_queued_to_gateway_to_recipient() -> None:
    with Sandbox(status_delays=(0.3, 0.3)) as sb:
        response = send_json(sb, {"content": "hi", "to": ["27821234567"]})
        message_id = body_json(response)["messages"][0]["apiMessageId"]
        first = _status(sb, message_id)
        assert first["messageId"] == message_id
        assert (first["statusCode"], first["status"]) == (2, "MESSAGE_QUEUED")
        at_gateway = _wait_for_code(sb, message_id, 3)
        assert at_gateway["status"] == "DELIVERED_TO_GATEWAY"
        received = _wait_for_code(sb, message_id, 4)
        assert received["status"] == "RECEIVED_BY_RECIPIENT"
        assert first["timestamp"] < at_gateway["timestamp"] < received["timestamp"]
        assert received["timestamp"] - at_gateway["timestamp"] == pytest.approx(300, abs=2)
        assert sb.status(message_id).code == 4


def test_test_numbers_fail_delivery_or_stay_at_the_gateway() -> None:
    with Sandbox(status_delays=StatusDelays(0.01, 0.01)) as sb:
        to = [FAILS_DELIVERY_NUMBER, STAYS_AT_GATEWAY_NUMBER]
        response = send_json(sb, {"content": "hi", "to": to})
        failing, stuck = (m["apiMessageId"] for m in body_json(response)["messages"])
        assert _wait_for_code(sb, failing, 7)["status"] == "ERROR_DELIVERING"
        time.sleep(0.1)
        assert _status(sb, stuck)["statusCode"] == 3
        assert sb.status(failing).is_failure


def test_a_future_scheduled_delivery_is_held_as_scheduled() -> None:
    with Sandbox() as sb:
        response = send_json(
            sb,
            {
                "content": "later",
                "to": ["27821234567"],
                "scheduledDeliveryTime": "2999-01-01T10:00:00+0200",
            },
        )
        message_id = body_json(response)["messages"][0]["apiMessageId"]
        time.sleep(0.15)
        document = _status(sb, message_id)
        assert (document["statusCode"], document["status"]) == (11, "SCHEDULED")


# ------------------------------------------------------------------------------------------------
# The HTTP GET send


def test_http_get_send_takes_comma_separated_recipients_and_the_key_in_the_query() -> None:
    with Sandbox(two_way_numbers=["27830000001"]) as sb:
        query = (
            "to=%2B27821234567,27821234568&content=Hello+there%21&from=27830000001&apiKey=" + KEY
        )
        response = call(sb, "GET", f"/messages/http/send?{query}", key=None, content_type=None)
        assert response.status == 202
        assert_conforms(response, "GET", "/messages/http/send")
        assert [m["to"] for m in body_json(response)["messages"]] == ["27821234567", "27821234568"]
        assert {(r.content, r.format, r.from_) for r in sb.messages()} == {
            ("Hello there!", "http", "27830000001")
        }


# ------------------------------------------------------------------------------------------------
# The record


def test_records_are_listed_read_only_under_the_sandbox_prefix() -> None:
    with Sandbox() as sb:
        send_json(sb, {"content": "one", "to": ["27821234567"], "clientMessageId": "ref-1"})
        send_json(sb, {"content": "two", "to": ["27821234568", "27821234569"]})
        listing = call(sb, "GET", "/_sandbox/messages", key=None, content_type=None)
        assert listing.status == 200
        items = body_json(listing)
        assert [item["content"] for item in items] == ["one", "two", "two"]
        assert items[0]["clientMessageId"] == "ref-1"
        assert items[0]["statusCode"] in (2, 3, 4)
        assert set(items[0]) >= {
            "apiMessageId",
            "to",
            "from",
            "parts",
            "format",
            "requestId",
            "receivedAt",
        }
        only = body_json(call(sb, "GET", "/_sandbox/messages?to=%2B27821234568", key=None))
        assert [item["to"] for item in only] == ["27821234568"]
        by_ref = body_json(call(sb, "GET", "/_sandbox/messages?clientMessageId=ref-1", key=None))
        assert [item["content"] for item in by_ref] == ["one"]
        refused = call(sb, "POST", "/_sandbox/messages", b"{}")
        assert refused.status == 405
        assert sb.requests_seen == 2  # the /_sandbox/ reads are not API requests


def test_sqlite_store_keeps_records_in_a_file_after_the_sandbox_stops(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.sqlite"
    with Sandbox(store=path) as sb:
        send_json(sb, {"content": "kept", "to": ["27821234567"], "validityPeriod": 60})
        live = sb.messages()
    reopened = SQLiteStore(path)
    try:
        assert reopened.all() == live
        assert reopened.get(live[0].api_message_id) == live[0]
        assert live[0].validity_period == 60
        assert live[0].received_at.tzinfo is not None
    finally:
        reopened.close()


def recorded(request: int, count: int, **fields: Any) -> list[RecordedMessage]:
    """`count` records of one request, sharing its fields as the sandbox's records do."""
    shared: dict[str, Any] = {
        "content": f"text {request}",
        "options": MappingProxyType({"clientMessageId": f"ref-{request}"}),
        "parts": 1,
        "format": "json",
        "request_id": f"request-{request}",
        "received_at": datetime(2024, 5, 1, 12, 0, request % 60, tzinfo=UTC),
        **fields,
    }
    return [
        RecordedMessage(
            api_message_id=f"{request:06d}{index:04d}{'a' * 22}",
            to=f"2782{request:03d}{index:04d}",
            **shared,
        )
        for index in range(count)
    ]


def test_the_temporary_store_keeps_what_the_memory_store_keeps() -> None:
    batches = [
        recorded(1, 3),
        recorded(2, 1, format="xml", unknown=MappingProxyType({"extra": [1, "two"]})),
        recorded(3, 2, notes=("bearer-prefix: Bearer before the key",)) + recorded(4, 2),
        [],
    ]
    memory = MemoryStore()
    with TemporaryStore() as temporary:
        folder = temporary.folder
        assert temporary.path.parent == folder and folder.is_dir()
        for batch in batches:
            memory.add(batch)
            temporary.add(batch)
        assert temporary.all() == memory.all()
        assert (temporary.count, temporary.requests) == (8, 4)
        for record in memory.all():
            assert temporary.get(record.api_message_id) == record
        temporary.add(recorded(5, 1))  # after the index was built: it catches up
        assert temporary.get(recorded(5, 1)[0].api_message_id) == recorded(5, 1)[0]
        assert temporary.get("never-sent") is None
        temporary.clear()
        assert (
            temporary.all(),
            temporary.count,
            temporary.get(recorded(1, 1)[0].api_message_id),
        ) == (
            [],
            0,
            None,
        )
        temporary.add(recorded(6, 2))
        assert [r.to for r in temporary.all()] == [r.to for r in recorded(6, 2)]
        assert temporary.get(recorded(6, 2)[1].api_message_id) == recorded(6, 2)[1]
    assert not folder.exists()  # closing deletes its folder


def test_the_temporary_store_holds_no_record_in_memory() -> None:
    """What a million-row `bulk` on the embedded sandbox relies on: Python memory after 40,000
    records is what it was after 2,000 (a memory store holds about 10 MB more)."""
    with TemporaryStore() as store:
        for request in range(10):
            store.add(recorded(request, 200))
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for request in range(10, 200):
                store.add(recorded(request, 200))
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert store.count == 40_000
        assert grown < 256 * 1024, f"{grown / 1024:.0f} KiB more after 38,000 records"
        assert store.get(recorded(150, 200)[199].api_message_id) == recorded(150, 200)[199]


def test_the_embedded_sandbox_records_into_a_temporary_folder_that_goes_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clickatell_sms import Client
    from clickatell_sms.cli.common import SANDBOX_KEY, maybe_sandbox

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with maybe_sandbox(True, None) as base_url:
        assert base_url is not None
        with Client(SANDBOX_KEY, base_url=base_url) as client:
            sent = client.send(to=["27821234567", "27821234568"], content="hello")
            status = client.message_status(sent[0].api_message_id or "")
        (folder,) = tmp_path.iterdir()
        assert folder.name.startswith("clickatell-sandbox-")
        assert (folder / "records.sqlite").stat().st_size > 0
    assert status.status is not None
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------------------------------
# Lifecycle and HTTP/1.1


def _raw_exchange(sb: Sandbox, payload: bytes, *, read_until_close: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", sb.port), timeout=5) as sock:
        sock.sendall(payload)
        chunks = []
        while read_until_close:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def _request(body: bytes, *extra: str, method: str = "POST", version: str = "HTTP/1.1") -> bytes:
    lines = [
        f"{method} /messages {version}",
        "Host: sandbox",
        f"Authorization: {KEY}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


BODY = b'{"content":"hi","to":["27821234567"]}'


def test_stop_frees_the_port_and_binds_loopback_by_default() -> None:
    sb = Sandbox().start()
    port = sb.port
    assert sb.base_url == f"http://127.0.0.1:{port}"
    idle = socket.create_connection(("127.0.0.1", port), timeout=5)  # a kept-alive client
    idle.sendall(_request(BODY))
    assert idle.recv(65536).startswith(b"HTTP/1.1 202 Accepted")
    sb.stop()
    with contextlib.suppress(ConnectionResetError):  # a reset is closed just as well
        assert idle.recv(1) == b""  # the server closed it
    idle.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()
    again = Sandbox(port=port).start()  # and a new sandbox can take it
    assert again.port == port
    again.stop()
    sb.stop()  # idempotent
    with pytest.raises(RuntimeError):
        sb.start()


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent; this only picks a route
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_nothing_listens_beyond_loopback_unless_asked() -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    with Sandbox() as sb, pytest.raises(ConnectionRefusedError):
        socket.create_connection((address, sb.port), timeout=2).close()
    with Sandbox(host="0.0.0.0") as everywhere:  # asked for: then it answers there too
        socket.create_connection((address, everywhere.port), timeout=2).close()
        assert everywhere.base_url.startswith("http://0.0.0.0:")


def test_keep_alive_pipelining_and_connection_close() -> None:
    with Sandbox() as sb, socket.create_connection(("127.0.0.1", sb.port), timeout=5) as sock:
        # Two pipelined requests in one write, then one asking to close.
        sock.sendall(_request(BODY) + _request(BODY) + _request(BODY, "Connection: close"))
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        assert received.count(b"HTTP/1.1 202 Accepted\r\n") == 3
        assert received.count(b"Connection: close") == 1
        assert len(sb.messages()) == 3


def test_http_1_0_closes_after_the_answer_unless_asked_to_keep_alive() -> None:
    with Sandbox() as sb:
        answer = _raw_exchange(sb, _request(BODY, version="HTTP/1.0"))
        assert answer.startswith(b"HTTP/1.1 202 Accepted\r\n")
        assert b"Connection: close" in answer


def test_chunked_bodies_and_expect_100_continue() -> None:
    with Sandbox() as sb:
        chunked = (
            b"".join(
                f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for piece in (BODY[:10], BODY[10:])
            )
            + b"0\r\n\r\n"
        )
        head = (
            f"POST /messages HTTP/1.1\r\nHost: x\r\nAuthorization: {KEY}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        ).encode()
        assert _raw_exchange(sb, head + chunked).startswith(b"HTTP/1.1 202 Accepted\r\n")

        with socket.create_connection(("127.0.0.1", sb.port), timeout=5) as sock:
            sock.sendall(
                _request(b"", "Expect: 100-continue", "Connection: close").replace(
                    b"Content-Length: 0", f"Content-Length: {len(BODY)}".encode()
                )
            )
            interim = sock.recv(65536)
            assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
            sock.sendall(BODY)
            final = sock.recv(65536)
            assert final.startswith(b"HTTP/1.1 202 Accepted\r\n")
        assert len(sb.messages()) == 2


def test_head_gets_headers_only_and_garbage_gets_400_and_a_close() -> None:
    with Sandbox() as sb:
        head = _raw_exchange(sb, b"HEAD /messages HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n")
        assert head.endswith(b"\r\n\r\n")  # no body
        assert b"Allow: POST" in head
        garbage = _raw_exchange(sb, b"NONSENSE\r\n\r\n")
        assert garbage.startswith(b"HTTP/1.1 400 Bad Request\r\n")
        assert b"Connection: close" in garbage
        assert b'"errorCode":100' in garbage


def test_bodies_over_one_mebibyte_are_refused_with_413() -> None:
    with Sandbox() as sb:
        answer = _raw_exchange(
            sb, _request(b"").replace(b"Content-Length: 0", b"Content-Length: 2000000")
        )
        assert answer.startswith(b"HTTP/1.1 413 Request Entity Too Large\r\n")
        assert b'"errorCode":100' in answer


# ------------------------------------------------------------------------------------------------
# The pytest plugin (loaded through the package's pytest11 entry point)


def test_the_fixture_gives_a_running_sandbox(clickatell_sandbox: Sandbox) -> None:
    response = send_json(clickatell_sandbox, {"content": "hi", "to": ["27821234567"]})
    assert response.status == 202
    assert [m.to for m in clickatell_sandbox.messages()] == ["27821234567"]


@pytest.mark.clickatell_sandbox(two_way_numbers=["27830000001"], quirks=Quirks(extra_fields=True))
def test_the_fixture_reads_sandbox_options_from_its_marker(clickatell_sandbox: Sandbox) -> None:
    response = send_json(
        clickatell_sandbox, {"content": "hi", "to": ["27821234567"], "from": "27830000001"}
    )
    assert response.status == 202
    assert "requestId" in body_json(response)


def test_the_session_fixture_is_shared(clickatell_sandbox_session: Sandbox) -> None:
    assert call(clickatell_sandbox_session, "GET", "/public-client/balance").status == 200
