"""Injected faults: what each does to the connection, and what it does to the record.

The rule the bulk sender relies on: 429, 500 and 503 refuse the request (nothing recorded or
charged); `drop-before-body` loses it unread (nothing recorded); `drop-after-body` processes it
completely (recorded and charged) and then closes without an answer, so "outcome unknown" is real.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import urllib3

from clickatell_sms.sandbox import Faults, Sandbox
from tests.test_sandbox import assert_conforms, body_json, call, send_json, xsd_valid

VALID = {"content": "Hello", "to": ["27821234567", "27821234568"]}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(balance=Decimal("100"), faults=Faults(retry_after=7)) as sandbox:
        yield sandbox


def _fault(sb: Sandbox, kind: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
    return send_json(sb, VALID, headers={"X-Sandbox-Fault": kind}, **kwargs)


@pytest.mark.parametrize(
    ("kind", "status", "code", "error"),
    [
        ("429", 429, None, "Too many requests"),
        ("500", 500, 901, "Internal error - please retry"),
        ("503", 503, 901, "Internal error - please retry"),
    ],
)
def test_refusing_faults_answer_and_record_nothing(
    sb: Sandbox, kind: str, status: int, code: int | None, error: str
) -> None:
    response = _fault(sb, kind)
    assert response.status == status
    assert_conforms(response, "POST", "/messages")
    document = body_json(response)
    assert (document["messages"], document["errorCode"], document["error"]) == ([], code, error)
    if status in (429, 503):
        assert response.headers["Retry-After"] == "7"
    else:
        assert "Retry-After" not in response.headers
    assert sb.messages() == []
    assert sb.balance == Decimal("100")
    # The connection stays usable, and the next request is not faulted.
    assert send_json(sb, VALID).status == 202


def test_fault_answers_follow_the_requested_format(sb: Sandbox) -> None:
    response = _fault(sb, "503", accept="application/xml")
    assert response.status == 503
    assert response.headers["Content-Type"] == "application/xml"
    assert xsd_valid(response.data)
    balance = call(sb, "GET", "/public-client/balance", headers={"X-Sandbox-Fault": "429"})
    assert balance.status == 429
    assert_conforms(balance, "GET", "/public-client/balance")


def test_drop_before_body_loses_the_request_unread(sb: Sandbox) -> None:
    with pytest.raises(urllib3.exceptions.ProtocolError):
        _fault(sb, "drop-before-body")
    assert sb.messages() == []
    assert sb.balance == Decimal("100")


def test_drop_after_body_records_and_charges_then_closes_without_answer(sb: Sandbox) -> None:
    with pytest.raises(urllib3.exceptions.ProtocolError):
        _fault(sb, "drop-after-body")
    assert [r.to for r in sb.messages()] == ["27821234567", "27821234568"]
    assert sb.balance == Decimal("99.8")


def test_latency_delays_the_answer_after_processing(sb: Sandbox) -> None:
    started = time.perf_counter()
    response = send_json(sb, VALID, headers={"X-Sandbox-Latency": "0.3"})
    assert response.status == 202
    assert time.perf_counter() - started >= 0.3
    # A client that gives up first has still sent the message: the outcome is unknown to it.
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        send_json(
            sb,
            {"content": "slow", "to": ["27821234569"]},
            headers={"X-Sandbox-Latency": "1"},
            timeout=urllib3.Timeout(connect=1, read=0.2),
        )
    assert [r.content for r in sb.messages()][-1] == "slow"


def _statuses(sb: Sandbox, count: int) -> list[int | str]:
    seen: list[int | str] = []
    for _ in range(count):
        try:
            seen.append(send_json(sb, {"content": "hi", "to": ["27821234567"]}).status)
        except urllib3.exceptions.ProtocolError:
            seen.append("dropped")
    return seen


MIXED = Faults(
    rate_429=0.15, rate_500=0.1, rate_503=0.15, drop_before_body=0.1, drop_after_body=0.1
)


def test_rate_faults_are_deterministic_for_a_seed() -> None:
    runs = []
    for _ in range(2):
        with Sandbox(faults=MIXED, seed=42) as sandbox:
            runs.append(_statuses(sandbox, 40))
    assert runs[0] == runs[1]
    assert {429, 500, 503, 202, "dropped"} <= set(runs[0])
    with Sandbox(faults=MIXED, seed=43) as other:
        assert _statuses(other, 40) != runs[0]


def test_max_faults_bounds_the_failures_so_runs_end() -> None:
    faults = Faults(rate_503=1.0, max_faults=3, retry_after=0)
    with Sandbox(faults=faults) as sandbox:
        assert _statuses(sandbox, 6) == [503, 503, 503, 202, 202, 202]
        assert sandbox.faults_injected == 3
        # Header faults are not bounded (and not counted); "none" exempts a request.
        assert _fault(sandbox, "503").status == 503
        assert sandbox.faults_injected == 3
        sandbox.set_faults(Faults(rate_429=1.0))
        assert _statuses(sandbox, 2) == [429, 429]
        assert _fault(sandbox, "none").status == 202
        sandbox.set_faults(None)
        assert _statuses(sandbox, 2) == [202, 202]
        assert sandbox.requests_seen == 12


def test_rate_faults_record_only_what_was_processed() -> None:
    with Sandbox(faults=MIXED, seed=5) as sandbox:
        seen = _statuses(sandbox, 60)
        drops_after = sandbox.requests_seen  # every request was seen
        assert drops_after == 60
        recorded = len(sandbox.messages())
    accepted = seen.count(202)
    # Each recorded message is an accepted one or a drop-after-body; refusals record nothing.
    assert accepted <= recorded <= accepted + seen.count("dropped")


def test_latency_ranges_and_sandbox_paths_are_never_faulted() -> None:
    with Sandbox(faults=Faults(latency=(0.05, 0.1), rate_503=1.0)) as sandbox:
        started = time.perf_counter()
        listing = call(sandbox, "GET", "/_sandbox/messages")
        assert listing.status == 200
        assert time.perf_counter() - started < 0.05
        started = time.perf_counter()
        assert send_json(sandbox, VALID).status == 503
        assert 0.05 <= time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "options",
    [
        {"rate_429": 1.5},
        {"rate_503": -0.1},
        {"rate_429": 0.6, "rate_503": 0.6},
        {"latency": (0.5, 0.1)},
        {"latency": 120.0},
        {"retry_after": -1},
        {"max_faults": -1},
    ],
)
def test_fault_settings_are_checked(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Faults(**options)  # type: ignore[arg-type]
