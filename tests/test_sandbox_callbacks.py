"""Delivery-status callbacks, received by the SDK's own `CallbackReceiver` over real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from jsonschema import Draft202012Validator

from clickatell_sms.callbacks import CallbackReceiver, StatusCallback
from clickatell_sms.sandbox import FAILS_DELIVERY_NUMBER, Sandbox
from tests.test_sandbox import _spec, body_json, send_json

Start = Callable[..., str]
SECRET = "sandbox-callbacks-test-secret"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


@pytest.fixture
def receiver() -> Iterator[Start]:
    """Start a WSGI server for an app on a free loopback port; returns its URL."""
    running: list[Any] = []

    def start(app: Any) -> str:
        server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        running.append((server, thread))
        # The secret as Basic credentials: the sandbox sends them as an Authorization header.
        return f"http://clickatell:{SECRET}@127.0.0.1:{server.server_port}/clickatell/status"

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_each_accepted_message_gets_its_statuses_posted_in_order(receiver: Start) -> None:
    events: list[StatusCallback] = []
    lock = threading.Lock()

    def on_status(event: StatusCallback) -> None:
        with lock:
            events.append(event)

    url = receiver(CallbackReceiver(on_status=on_status, secret=SECRET))
    with Sandbox(
        two_way_numbers=["27830000001"], callback_url=url, status_delays=(0.02, 0.02)
    ) as sb:
        response = send_json(
            sb,
            {
                "content": "hi",
                "to": ["27821234567", FAILS_DELIVERY_NUMBER, "bad"],
                "from": "27830000001",
                "clientMessageId": "order-17",
            },
        )
        ok_id, failing_id, _ = (m["apiMessageId"] for m in body_json(response)["messages"])
        assert sb.wait_for_callbacks(5)
        deliveries = sb.callbacks()
    assert all(d.ok and d.attempt == 1 for d in deliveries)
    assert len(deliveries) == len(events) == 6  # nothing for the refused recipient

    by_message: dict[str, list[StatusCallback]] = {}
    for event in events:
        by_message.setdefault(event.api_message_id, []).append(event)
    assert [e.status.code for e in by_message[ok_id]] == [2, 3, 4]
    assert [e.status.name for e in by_message[ok_id]] == [
        "MESSAGE_QUEUED",
        "DELIVERED_TO_GATEWAY",
        "RECEIVED_BY_RECIPIENT",
    ]
    assert [e.status.code for e in by_message[failing_id]] == [2, 3, 7]
    first = by_message[ok_id][0]
    assert first.integration_name == "sandbox"
    assert first.client_message_id == "order-17"
    assert first.to == "27821234567"
    assert first.from_number == "27830000001"
    assert first.request_id == by_message[failing_id][0].request_id
    assert first.extra == {}
    stamps = [e.timestamp.timestamp() for e in by_message[ok_id] if e.timestamp is not None]
    assert len(stamps) == 3
    assert stamps == sorted(stamps)


def test_callback_payloads_match_the_spec_webhook(receiver: Start) -> None:
    url = receiver(CallbackReceiver(on_status=lambda event: None, secret=SECRET))
    with Sandbox(callback_url=url, status_delays=(0, 0)) as sb:
        send_json(sb, {"content": "hi", "to": ["27821234567"]})
        assert sb.wait_for_callbacks(5)
        payloads = [d.payload for d in sb.callbacks()]
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": _spec()["components"],
        "$ref": "#/components/schemas/StatusCallback",
    }
    validator = Draft202012Validator(schema)
    for payload in payloads:
        assert not list(validator.iter_errors(payload))
        assert "clientMessageId" not in payload and "from" not in payload  # absent, not null
        # A string, as Clickatell documents it: epoch milliseconds in digits.
        assert (
            isinstance(payload["timestamp"], str) and int(payload["timestamp"]) > 1_600_000_000_000
        )


def test_callbacks_by_get_put_the_fields_in_the_query_string(receiver: Start) -> None:
    queries: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        queries.append(environ["REQUEST_METHOD"] + " " + environ["QUERY_STRING"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"OK"]

    url = receiver(app)
    with Sandbox(callback_url=url, callback_method="GET", status_delays=(0, 0)) as sb:
        send_json(sb, {"content": "hi", "to": ["27821234567"]})
        assert sb.wait_for_callbacks(5)
    assert len(queries) == 3
    assert all(q.startswith("GET ") and "statusCode=" in q and "messageId=" in q for q in queries)


def test_a_failing_receiver_gets_retries_and_a_dead_one_is_given_up_on(receiver: Start) -> None:
    answers = iter(["500 Internal Server Error", "503 Service Unavailable"])
    bodies: list[dict[str, Any]] = []

    def flaky(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        bodies.append(json.loads(environ["wsgi.input"].read(length)))
        start_response(next(answers, "200 OK"), [("Content-Type", "text/plain")])
        return [b"."]

    url = receiver(flaky)
    with Sandbox(callback_url=url, status_delays=(5, 5)) as sb:  # only the "queued" event is due
        send_json(sb, {"content": "hi", "to": ["27821234567"]})
        deadline = threading.Event()
        for _ in range(100):
            if any(d.ok for d in sb.callbacks()):
                break
            deadline.wait(0.02)
        attempts = [(d.attempt, d.status) for d in sb.callbacks()]
    assert attempts == [(1, 500), (2, 503), (3, 200)]
    assert bodies[0] == bodies[1] == bodies[2]

    with Sandbox(callback_url="http://127.0.0.1:9/unreachable", status_delays=(0, 0)) as dead:
        send_json(dead, {"content": "hi", "to": ["27821234567"]})
        assert dead.wait_for_callbacks(10)
        failures = dead.callbacks()
    assert failures and all(d.status is None and d.error for d in failures)
    assert max(d.attempt for d in failures) == 3


def test_a_callback_timestamp_reads_the_same_as_a_string_or_a_number() -> None:
    # The spec documents a string (as Clickatell does); a number has been seen too.
    from clickatell_sms.callbacks import parse_status_callback

    as_string = parse_status_callback(b'{"messageId": "m1", "timestamp": "1516217711000"}')
    as_number = parse_status_callback(b'{"messageId": "m1", "timestamp": 1516217711000}')
    assert as_string.timestamp == as_number.timestamp is not None
    assert as_string.timestamp.isoformat() == "2018-01-17T19:35:11+00:00"


def test_a_token_in_the_callback_url_stays_out_of_every_log_record(
    receiver: Start, caplog: pytest.LogCaptureFixture
) -> None:
    """urllib3 logs each request line at DEBUG, query and all: the token is scrubbed there too."""
    got: list[StatusCallback] = []
    url = receiver(CallbackReceiver(on_status=got.append, secret=SECRET))
    token_url = url.replace(f"clickatell:{SECRET}@", "") + f"?token={SECRET}"
    caplog.set_level("DEBUG")
    with Sandbox(callback_url=token_url, callback_method="GET", status_delays=(0, 0)) as sb:
        send_json(sb, {"content": "hi", "to": ["27821234567"]})
        assert sb.wait_for_callbacks(5)
    assert len(got) == 3  # the receiver took them: the token did reach it
    lines = [record.getMessage() for record in caplog.records]
    assert any(
        "urllib3" in record.name and "token=" in line
        for record, line in zip(caplog.records, lines, strict=True)
    )
    assert not any(SECRET in line for line in lines)
