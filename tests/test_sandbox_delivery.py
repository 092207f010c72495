"""The sandbox's delivery outcomes: failures drawn from the spec's status list at a rate, and
status callbacks lost at a rate, while the status look-up keeps answering the truth."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator

import pytest
from clickatell_wire.tables import MESSAGE_STATUSES

from clickatell_sms import Client
from clickatell_sms.callbacks import CallbackReceiver, StatusCallback
from clickatell_sms.callbacks.listener import CallbackServer
from clickatell_sms.cli import build_parser
from clickatell_sms.sandbox import Sandbox
from clickatell_sms.sandbox.timeline import FAILURE_STATUSES, Failures, unit_draw

SECRET = "sandbox-delivery-test-secret"


class Collector:
    def __init__(self) -> None:
        self.events: list[StatusCallback] = []
        self._lock = threading.Lock()

    def __call__(self, event: StatusCallback) -> None:
        with self._lock:
            self.events.append(event)


@pytest.fixture
def collector() -> Iterator[tuple[str, Collector]]:
    got = Collector()
    with CallbackServer(CallbackReceiver(on_status=got, secret=SECRET)) as server:
        yield f"{server.url}?token={SECRET}", got


def send_all(sandbox: Sandbox, count: int) -> None:
    with Client(sandbox.api_key, base_url=sandbox.base_url) as client:
        for start in range(0, count, 200):
            client.send([f"2782{n:07d}" for n in range(start, min(start + 200, count))], "hi")


def settle(sandbox: Sandbox, seconds: float = 0.2) -> None:
    """Every status is due `seconds` after the send: wait for it, then for its callbacks."""
    time.sleep(seconds)
    assert sandbox.wait_for_callbacks(60)


def test_the_failure_statuses_are_every_final_status_of_the_spec_but_receipt() -> None:
    finals = {code for code, entry in MESSAGE_STATUSES.items() if entry.final}
    assert {status.code for status in FAILURE_STATUSES} == finals - {4}
    assert all(status.is_failure for status in FAILURE_STATUSES)


def test_a_failure_rate_ends_that_share_in_failure_statuses_and_callbacks_agree(
    collector: tuple[str, Collector],
) -> None:
    url, got = collector
    with Sandbox(callback_url=url, status_delays=(0.02, 0.02), failure_rate=0.3, seed=7) as sb:
        send_all(sb, 1000)
        settle(sb)
        final = {m.api_message_id: sb.status(m.api_message_id) for m in sb.messages()}
    kinds = Counter(status.kind for status in final.values())
    failed = sum(1 for status in final.values() if status.is_failure)
    assert 250 <= failed <= 350, kinds  # 300 expected; the draw is fixed by the seed
    assert kinds["received"] == 1000 - failed
    assert {s.code for s in final.values() if s.is_failure} == {s.code for s in FAILURE_STATUSES}

    by_message: dict[str, list[StatusCallback]] = defaultdict(list)
    for event in got.events:
        by_message[event.api_message_id].append(event)
    assert by_message.keys() == final.keys()
    for message_id, events in by_message.items():
        events.sort(key=lambda e: e.timestamp or 0)
        assert events[-1].status.code == final[message_id].code  # the look-up agrees
        assert events[0].status.name == "MESSAGE_QUEUED"
        at_gateway = any(e.status.name == "DELIVERED_TO_GATEWAY" for e in events)
        # a failure decided at the handset comes after the gateway; the others replace it
        assert at_gateway == final[message_id].reached_gateway


def test_callback_loss_drops_that_share_each_on_its_own_and_the_look_up_still_answers(
    collector: tuple[str, Collector],
) -> None:
    url, got = collector
    with Sandbox(callback_url=url, status_delays=(0.02, 0.02), callback_loss=0.2, seed=3) as sb:
        send_all(sb, 600)
        settle(sb)
        ids = [m.api_message_id for m in sb.messages()]
        lost = sb.callbacks_lost
        finals = {message_id: sb.status(message_id) for message_id in ids}
    scheduled = 3 * len(ids)  # queued, at the gateway, received
    assert lost + len(got.events) == scheduled
    assert 0.15 * scheduled <= lost <= 0.25 * scheduled
    heard = {e.api_message_id for e in got.events if e.status.is_final}
    missing_final = len(ids) - len(heard)
    assert 0.15 * len(ids) <= missing_final <= 0.25 * len(ids)
    assert all(status.name == "RECEIVED_BY_RECIPIENT" for status in finals.values())
    # which callbacks are lost depends on the seed, the message and the status only
    first = ids[0]
    drops = [unit_draw(3, f"{first}:{code}", "callback-loss") < 0.2 for code in (2, 3, 4)]
    sent = {e.status.code for e in got.events if e.api_message_id == first}
    assert sent == {code for code, dropped in zip((2, 3, 4), drops, strict=True) if not dropped}


def test_the_failure_draw_is_a_function_of_the_seed_and_the_message() -> None:
    failures = Failures(0.5, seed=11)
    ids = [f"{n:032x}" for n in range(400)]
    first = [failures.failure_of(i) for i in ids]
    assert first == [Failures(0.5, seed=11).failure_of(i) for i in ids]
    assert first != [Failures(0.5, seed=12).failure_of(i) for i in ids]
    assert all(Failures(0.0).failure_of(i) is None for i in ids)
    assert all(Failures(1.0).failure_of(i) is not None for i in ids)
    with pytest.raises(ValueError, match="between 0 and 1"):
        Failures(1.5)


@pytest.mark.parametrize("flag", ["--callback-loss", "--failure-rate"])
def test_the_command_line_takes_the_two_rates_and_refuses_others(
    flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(["sandbox", flag, "0.25"])
    assert args.callback_loss == (0.25 if flag == "--callback-loss" else 0.0)
    assert args.failure_rate == (0.25 if flag == "--failure-rate" else 0.0)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sandbox", flag, "1.5"])
    assert "a rate is between 0 and 1" in capsys.readouterr().err
