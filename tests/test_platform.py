"""Balance, message status and callbacks: the other half of an integration, against real servers.

The sandbox charges `price_per_part` for every part of every accepted recipient and moves each
message through 2 -> 3 -> 4 on a clock, posting a callback at every step; the client is checked
against those rules. A tiny canned HTTP server (also used by test_get_send.py) stands in for
answers the sandbox never gives: more digits than a float holds, unknown codes, broken bodies.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import clickatell_sms
from clickatell_sms import (
    APIError,
    AuthenticationError,
    Balance,
    CallbackReceiver,
    Client,
    ConnectionError,
    MessageStatus,
    RateLimitError,
    ResponseError,
    RetryPolicy,
    StatusCallback,
    StatusResult,
    TimeoutError,
    ValidationError,
)
from clickatell_sms.callbacks import url_with_secret
from clickatell_sms.callbacks.listener import CallbackServer
from clickatell_sms.sandbox import (
    CANNOT_ROUTE_NUMBER,
    FAILS_DELIVERY_NUMBER,
    STAYS_AT_GATEWAY_NUMBER,
    Faults,
    Sandbox,
)
from clickatell_sms.statuses import KNOWN_STATUSES

KEY = "platform-test-key-5b2e"
FAST = RetryPolicy(max_retries=2, backoff_factor=0.0)


# -- a canned server --------------------------------------------------------------------------


@dataclass
class Canned:
    """Answers every request with the next queued (status, body, headers, delay), or the last one
    again; records each request line and its headers exactly as received."""

    answers: list[tuple[int, bytes, dict[str, str], float]] = field(default_factory=list)
    request_lines: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""
    echo: bool = False  # put the request line into the body and an X-Echo header

    def answer(
        self,
        body: bytes | dict[str, Any],
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        self.answers.append((status, data, headers or {}, delay))


@contextmanager
def serve_canned() -> Iterator[Canned]:
    """A canned server on a free loopback port for the duration of the block."""
    state = Canned()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with lock:
                state.request_lines.append(self.requestline)
                state.headers.append(dict(self.headers.items()))
                answers = state.answers
                status, body, headers, delay = answers.pop(0) if len(answers) > 1 else answers[0]
            if delay:
                time.sleep(delay)
            if state.echo:
                body = body.replace(b"ECHO", self.requestline.encode("latin-1"))
                headers = {**headers, "X-Echo": self.requestline}
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            with suppress(OSError):  # the client gave up waiting (read-timeout tests)
                self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def canned() -> Iterator[Canned]:
    with serve_canned() as state:
        yield state


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(api_keys=(KEY,), faults=Faults(retry_after=0)) as sb:
        yield sb


def make(base_url: str, **settings: Any) -> Client:
    options: dict[str, Any] = {"retries": FAST, "timeout": 5} | settings
    return Client(KEY, base_url=base_url, **options)


# -- balance ----------------------------------------------------------------------------------


def test_balance_is_an_exact_decimal_in_the_account_currency() -> None:
    with (
        Sandbox(api_keys=(KEY,), balance="1267.92865", currency="ZAR") as sb,
        make(sb.base_url) as client,
    ):
        balance = client.balance()
    assert isinstance(balance, Balance)
    assert isinstance(balance.amount, Decimal)
    assert balance.amount == Decimal("1267.92865")
    assert str(balance.amount) == "1267.92865"
    assert balance.currency == "ZAR"
    assert str(balance) == "1267.92865 ZAR"
    assert balance.raw is not None and b"1267.92865" in balance.raw.body
    assert "raw" not in repr(balance) and "1267.92865" in repr(balance)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (b"0.1000000000000000055511151231257827", "0.1000000000000000055511151231257827"),
        (b"1267.92865", "1267.92865"),
        (b"12345678901234567890.123456789", "12345678901234567890.123456789"),
        (b"100", "100"),
        (b"1E3", "1E+3"),
        (b'"12.50"', "12.50"),  # a number sent as a string, read as the spec's tolerance allows
    ],
)
def test_balance_digits_are_never_rounded_through_a_float(
    canned: Canned, written: bytes, expected: str
) -> None:
    canned.answer(b'{"balance": ' + written + b', "currency": "USD", "unknown": [1, 2]}')
    with make(canned.url) as client:
        balance = client.balance()
    assert str(balance.amount) == expected
    assert balance.currency == "USD"
    assert canned.request_lines == ["GET /public-client/balance HTTP/1.1"]
    assert canned.headers[0]["Authorization"] == KEY  # the header scheme, as the spec says


def test_balance_decreases_by_the_parts_charged_for_each_accepted_message() -> None:
    price = Decimal("0.25")
    with (
        Sandbox(api_keys=(KEY,), balance="10", price_per_part=price) as sb,
        make(sb.base_url) as client,
    ):
        before = client.balance().amount
        assert before == Decimal("10") == sb.balance
        cases: list[tuple[list[str], str, str]] = [
            (["27821000001", "27821000002"], "hi", "rest"),  # 1 part x 2
            (["27821000003"], "x" * 200, "rest"),  # GSM-7, 2 parts
            (["27821000004"], "€" * 70, "rest"),  # GSM-7 extension: 140 septets, 1 part
            (["27821000005"], "ж" * 71, "rest"),  # UCS-2 past 70: 2 parts
            (["27821000006", CANNOT_ROUTE_NUMBER], "refused one", "rest"),  # one refused: free
            (["27821000007"], "y" * 161, "http"),  # the GET send charges the same
        ]
        for numbers, text, integration in cases:
            result = client.send(numbers, text, integration=integration)  # type: ignore[arg-type]
            parts = Client.estimate(text).parts
            after = client.balance().amount
            assert before - after == price * parts * len(result.accepted), (text[:10], parts)
            assert after == sb.balance
            before = after
        assert before == Decimal("10") - price * (2 + 2 + 1 + 2 + 1 + 2)


# -- status -----------------------------------------------------------------------------------


def _poll(client: Client, message_id: str, limit: float = 5.0) -> list[StatusResult]:
    seen: list[StatusResult] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = client.message_status(message_id)
        if not seen or found.status != seen[-1].status:
            seen.append(found)
        if found.status.is_final:
            return seen
        time.sleep(0.01)
    return seen


def test_status_advances_through_the_sandbox_sequence_to_a_final_state() -> None:
    with (
        Sandbox(api_keys=(KEY,), status_delays=(0.5, 0.5)) as sb,
        make(sb.base_url) as client,
    ):
        (sent,) = client.send("+27 82 123 4567", "track me")
        assert sent.api_message_id is not None
        seen = _poll(client, sent.api_message_id)
        assert [s.status.code for s in seen] == [2, 3, 4]
        assert [s.status.name for s in seen] == [
            "MESSAGE_QUEUED",
            "DELIVERED_TO_GATEWAY",
            "RECEIVED_BY_RECIPIENT",
        ]
        assert [s.status.is_final for s in seen] == [False, False, True]
        final = seen[-1]
        assert final.status.is_success and not final.status.is_failure
        assert final.status == sb.status(sent.api_message_id) == KNOWN_STATUSES[4]
        assert final.status.description == "The handset confirmed receipt."
        assert final.api_message_id == sent.api_message_id
        stamps = [s.timestamp for s in seen]
        assert all(t is not None and t.tzinfo is not None for t in stamps)
        assert stamps == sorted(stamps)  # type: ignore[type-var]
        assert abs((datetime.now(UTC) - stamps[-1]).total_seconds()) < 10  # type: ignore[operator]
        assert final.raw is not None and final.raw.status == 200


def test_a_failing_and_a_stuck_message() -> None:
    with (
        Sandbox(api_keys=(KEY,), status_delays=(0.01, 0.01)) as sb,
        make(sb.base_url) as client,
    ):
        failing, stuck = client.send(
            [FAILS_DELIVERY_NUMBER, STAYS_AT_GATEWAY_NUMBER], "sandbox test numbers"
        )
        assert failing.api_message_id and stuck.api_message_id
        last = _poll(client, failing.api_message_id)[-1].status
        assert (last.code, last.name, last.is_final, last.is_failure) == (
            7,
            "ERROR_DELIVERING",
            True,
            True,
        )
        time.sleep(0.1)
        held = client.message_status(stuck.api_message_id).status
        assert (held.code, held.is_final) == (3, False)


@pytest.mark.parametrize(
    ("body", "code", "name", "description", "final"),
    [
        (
            {
                "messageId": "abc",
                "statusCode": 42,
                "status": "SOMETHING_NEW",
                "statusDescription": "New",
            },
            42,
            "SOMETHING_NEW",
            "New",
            False,
        ),
        (
            {"messageId": "abc", "status": "received by recipient"},
            4,
            "received by recipient",
            "The handset confirmed receipt.",
            True,
        ),
        ({"statusCode": "4"}, 4, "RECEIVED_BY_RECIPIENT", "The handset confirmed receipt.", True),
        (
            {"status": "QUEUED_SOMEWHERE_NEW", "statusCode": None, "timestamp": None},
            None,
            "QUEUED_SOMEWHERE_NEW",
            "",
            False,
        ),
        (
            {
                "statusCode": 10,
                "status": "MESSAGE_EXPIRED",
                "errorCode": None,
                "error": None,
                "extra": {"x": 1},
            },
            10,
            "MESSAGE_EXPIRED",
            "Expired before reaching the upstream gateway.",
            True,
        ),
        (
            {"statusCode": 11, "status": "SCHEDULED"},
            11,
            "SCHEDULED",
            "Held for delivery at a later time.",
            False,
        ),
    ],
)
def test_unknown_codes_and_names_come_through_and_never_raise(
    canned: Canned,
    body: dict[str, Any],
    code: int | None,
    name: str,
    description: str,
    final: bool,
) -> None:
    canned.answer(body)
    with make(canned.url) as client:
        found = client.message_status("abc")
    assert isinstance(found.status, MessageStatus)
    assert (found.status.code, found.status.name, found.status.description) == (
        code,
        name,
        description,
    )
    assert found.status.is_final is final
    assert found.api_message_id == "abc"
    assert found.timestamp is None
    assert canned.request_lines == ["GET /public-client/message/status?messageId=abc HTTP/1.1"]


def test_status_timestamp_is_read_as_epoch_milliseconds(canned: Canned) -> None:
    canned.answer(
        {
            "messageId": "m1",
            "statusCode": 3,
            "status": "DELIVERED_TO_GATEWAY",
            "timestamp": 1516217711123,
        }
    )
    with make(canned.url) as client:
        found = client.message_status("m1")
    assert found.timestamp == datetime(2018, 1, 17, 19, 35, 11, 123000, tzinfo=UTC)


def test_an_unknown_message_id_is_an_api_error_with_its_code(sandbox: Sandbox) -> None:
    with make(sandbox.base_url) as client, pytest.raises(APIError) as caught:
        client.message_status("0123456789abcdef0123456789abcdef")
    error = caught.value
    assert type(error) is APIError
    assert (error.status, error.error_code, error.error) == (404, 103, "Unknown API message ID")
    assert error.raw is not None and error.raw.status == 404
    assert "103" in str(error) and KEY not in str(error)


@pytest.mark.parametrize(
    "bad", ["", "   ", "has space", "x" * 65, "semi;colon", "ünï", 12345, None]
)
def test_a_malformed_message_id_is_refused_before_sending(canned: Canned, bad: Any) -> None:
    canned.answer({})
    with make(canned.url) as client, pytest.raises(ValidationError) as caught:
        client.message_status(bad)
    assert caught.value.field == "api_message_id"
    assert canned.request_lines == []


# -- look-up errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("lookup", ["balance", "status"])
def test_a_wrong_key_is_an_authentication_error(sandbox: Sandbox, lookup: str) -> None:
    with (
        Client("not-the-key", base_url=sandbox.base_url) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.balance() if lookup == "balance" else client.message_status("abc")
    assert (caught.value.status, caught.value.error_code) == (401, 108)
    assert "not-the-key" not in str(caught.value)


def test_rate_limits_and_unavailability_are_retried_then_typed(sandbox: Sandbox) -> None:
    with make(sandbox.base_url, retries=RetryPolicy(max_retries=1, backoff_factor=0)) as client:
        with pytest.raises(RateLimitError) as limited:
            client.balance(extra_headers={"X-Sandbox-Fault": "429"})
        assert limited.value.status == 429 and limited.value.retry_after == 0
        with pytest.raises(APIError) as unavailable:
            client.message_status("abc", extra_headers={"X-Sandbox-Fault": "503"})
        assert unavailable.value.status == 503 and unavailable.value.error_code == 901
    assert sandbox.requests_seen == 4  # each tried twice: once, then the one retry


def test_a_recovering_api_is_retried_into_an_answer(sandbox: Sandbox) -> None:
    sandbox.set_faults(Faults(rate_503=1.0, max_faults=2, retry_after=0))
    with make(sandbox.base_url) as client:
        assert client.balance().amount == sandbox.balance
    assert sandbox.faults_injected == 2


@pytest.mark.parametrize(
    ("status", "body", "error_type", "code"),
    [
        (200, b"<html>maintenance</html>", ResponseError, None),
        (502, b"<html>bad gateway</html>", ResponseError, None),
        (200, b'{"errorCode": 1, "error": "Authentication failed"}', AuthenticationError, 1),
        (200, b'{"errorCode": 999, "error": "Something"}', APIError, 999),
        (200, b'{"currency": "ZAR"}', ResponseError, None),
        (202, b"{}", ResponseError, None),
    ],
)
def test_unusable_balance_answers_are_typed(
    canned: Canned, status: int, body: bytes, error_type: type[APIError], code: int | None
) -> None:
    canned.answer(body, status)
    with make(canned.url) as client, pytest.raises(error_type) as caught:
        client.balance()
    assert type(caught.value) is error_type
    assert caught.value.error_code == code
    assert caught.value.raw is not None and caught.value.raw.body == body


def test_a_status_answer_without_a_status_is_a_response_error(canned: Canned) -> None:
    canned.answer({"messageId": "abc"})
    with make(canned.url) as client, pytest.raises(ResponseError):
        client.message_status("abc")


def test_a_status_answer_with_an_error_is_an_api_error(canned: Canned) -> None:
    canned.answer({"errorCode": 103, "error": "Unknown API message ID", "status": None})
    with make(canned.url) as client, pytest.raises(APIError) as caught:
        client.message_status("abc")
    assert caught.value.error_code == 103


def test_a_lookup_is_retried_after_a_read_timeout_unlike_a_send(canned: Canned) -> None:
    canned.answer({"balance": 5, "currency": "ZAR"}, delay=1.0)  # the first answer comes late
    canned.answer({"balance": 5, "currency": "ZAR"})
    with make(canned.url, timeout=(2, 0.3)) as client:
        assert client.balance().amount == 5
    assert len(canned.request_lines) == 2


def test_a_lookup_that_keeps_timing_out_is_a_timeout_error(canned: Canned) -> None:
    canned.answer({"balance": 5, "currency": "ZAR"}, delay=1.0)
    with make(canned.url, timeout=(2, 0.2), retries=1) as client, pytest.raises(TimeoutError):
        client.balance()
    assert len(canned.request_lines) == 2


def test_an_unreachable_api_is_a_connection_error() -> None:
    with Sandbox() as sb:
        url = sb.base_url
    with make(url) as client, pytest.raises(ConnectionError) as caught:
        client.message_status("abc")
    assert url in str(caught.value) and "status look-up" in str(caught.value)


def test_a_closed_client_refuses_lookups(sandbox: Sandbox) -> None:
    client = make(sandbox.base_url)
    client.close()
    with pytest.raises(clickatell_sms.ClickatellError, match="closed"):
        client.balance()


# -- callbacks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_sandbox_callbacks_reach_the_wsgi_receiver_and_parse_into_the_same_statuses(
    method: str,
) -> None:
    events: list[StatusCallback] = []
    lock = threading.Lock()

    def on_status(event: StatusCallback) -> None:
        with lock:
            events.append(event)

    secret = "platform-test-callback-secret"
    receiver = CallbackReceiver(on_status=on_status, secret=secret)
    with (
        CallbackServer(receiver) as server,
        Sandbox(
            api_keys=(KEY,),
            callback_url=url_with_secret(server.url + "clickatell/status", secret),
            callback_method=method,  # type: ignore[arg-type]
            status_delays=(0.02, 0.02),
        ) as sb,
        make(sb.base_url) as client,
    ):
        to = ["27821000001", FAILS_DELIVERY_NUMBER]
        result = client.send(to, "loop", client_message_id="order-42")
        ids = [item.api_message_id for item in result]
        assert sb.wait_for_callbacks(10)
        assert all(delivery.status == 200 for delivery in sb.callbacks())
        finals = {mid: client.message_status(mid) for mid in ids if mid}
    by_id: dict[str, list[StatusCallback]] = {}
    for event in events:
        by_id.setdefault(event.api_message_id, []).append(event)
    assert set(by_id) == set(ids)
    delivered, failed = (by_id[mid] for mid in ids if mid)
    assert [e.status.name for e in delivered] == [
        "MESSAGE_QUEUED",
        "DELIVERED_TO_GATEWAY",
        "RECEIVED_BY_RECIPIENT",
    ]
    assert [e.status.code for e in failed] == [2, 3, 7]
    for mid, received in by_id.items():
        # The callback and the look-up say the same thing about the same message.
        assert received[-1].status == finals[mid].status
        assert received[-1].timestamp == finals[mid].timestamp
        assert all(e.client_message_id == "order-42" for e in received)
        assert all(e.timestamp is not None and e.timestamp.tzinfo is not None for e in received)
    assert {e.to for e in delivered} == {"27821000001"}


# -- the package ------------------------------------------------------------------------------


def test_the_new_names_are_public_and_lazy() -> None:
    for name in (
        "Balance",
        "StatusResult",
        "MessageStatus",
        "CallbackReceiver",
        "StatusCallback",
        "ReplyCallback",
        "parse_status_callback",
        "parse_reply_callback",
        "parse_callback_request",
        "is_newer",
    ):
        assert name in clickatell_sms.__all__
        assert getattr(clickatell_sms, name) is not None
    probe = (
        "import sys, clickatell_sms\n"
        "print(sorted(m for m in sys.modules if m.startswith('clickatell_sms.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    # RawResponse too is loaded when first named (with the first request, or by the caller);
    # `settings` reads CLICKATELL_LOG at import, as it reads every variable.
    assert out.stdout.strip() == (
        "['clickatell_sms._version', 'clickatell_sms.errors', 'clickatell_sms.settings']"
    )


def test_reprs_say_nothing_secret(sandbox: Sandbox) -> None:
    with make(sandbox.base_url, integration="http") as client:
        assert KEY not in repr(client) and "integration='http'" in repr(client)
        (sent,) = client.send("27821234567", "hi")
        assert sent.api_message_id
        found = client.message_status(sent.api_message_id)
    assert KEY not in repr(found) and "raw" not in repr(found)
