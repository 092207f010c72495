"""Opt-outs on workers: real `celery worker` processes, a real PostgreSQL (the campaign's journal
and, by default, its opt-out store) and Redis, as in tests/test_bulk_scale.py. A STOP that a
listener records while the campaign runs keeps the batches the workers form after it from
reaching that number.

Cost on the 2-core machine: about 20 s (workers starting and stopping, and a campaign slowed by
its rate limit so that the reply arrives half-way).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator

import pytest

from clickatell_sms.callbacks import CallbackReceiver
from clickatell_sms.callbacks.listener import CallbackServer
from clickatell_sms.callbacks.sinks import OptOutSink
from clickatell_sms.errors import ValidationError
from clickatell_sms.sandbox import Faults

from .conftest import SHARED_SERVICES
from .test_bulk_scale import POSTGRES, REDIS, Cluster, answered_batches, cluster_factory

pytestmark = [
    pytest.mark.slow,
    SHARED_SERVICES,
    pytest.mark.skipif(
        not (POSTGRES and REDIS),
        reason="needs Redis and PostgreSQL: run scripts/test (or eval $(scripts/services start))",
    ),
]
psycopg = pytest.importorskip("psycopg")
from clickatell_sms.bulk.cluster import campaign_results, run_campaign  # noqa: E402

__all__ = ["cluster_factory"]  # the fixture, shared with the scale tests
SECRET = "workers-opt-out-secret-00001"


def numbers(count: int) -> list[str]:
    """A range of its own (2785...): the opt-out store is the database's, shared by the tests
    of every module that sends to it, so these numbers are taken out of it after."""
    return [f"2785{i:06d}0" for i in range(count)]


@pytest.fixture
def forget_opt_outs() -> Iterator[None]:
    yield
    assert POSTGRES
    with psycopg.connect(POSTGRES, autocommit=True) as db:
        db.execute("DELETE FROM clickatell_sms.opt_outs WHERE number LIKE '2785%'")


@contextlib.contextmanager
def listener_on_the_database() -> Iterator[str]:
    """What `listen --opt-outs postgresql://...` runs: a receiver whose sink writes the replies
    into the campaign's database, behind a real HTTP server."""
    assert POSTGRES
    with OptOutSink(POSTGRES) as sink:
        receiver = CallbackReceiver(secret=SECRET, sinks=[sink])
        with CallbackServer(receiver) as server:
            yield server.url


def reply_stop(url: str, sender: str) -> None:
    fields = {
        "messageId": uuid.uuid4().hex,
        "replyMessageId": uuid.uuid4().hex,
        "fromNumber": sender,
        "toNumber": "27870000000",
        "text": "Stop",
        "timestamp": str(int(time.time() * 1000)),
    }
    request = urllib.request.Request(
        f"{url}?token={SECRET}", json.dumps(fields).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


@pytest.mark.timeout(240)
def test_an_opt_out_recorded_during_a_campaign_on_workers_keeps_later_batches_from_it(
    cluster_factory: Callable[[Faults | None], Cluster], forget_opt_outs: None
) -> None:
    cluster = cluster_factory(None)
    cluster.start(2)
    rows = numbers(2400)
    late = rows[-1]  # read last by its shard: every batch of its shard comes before it
    seen: dict[str, int] = {}

    def mid_run(campaign: str) -> None:
        deadline = time.monotonic() + 60
        while answered_batches(campaign) < 2:  # the campaign is under way
            assert time.monotonic() < deadline
            time.sleep(0.02)
        with listener_on_the_database() as url:
            reply_stop(url, late)
        seen["sent_by_then"] = len(cluster.sandbox.messages())

    threads: list[threading.Thread] = []

    def submitted(campaign: str) -> None:
        threads.append(threading.Thread(target=mid_run, args=(campaign,)))
        threads[-1].start()

    # 2 shards sharing 400 messages a second: about 6 s of sending, batches of 200 at most
    summary = cluster.run(rows, shards=2, concurrency=1, rate_limit=400, on_submitted=submitted)
    for thread in threads:
        thread.join()
    sent = {m.to for m in cluster.sandbox.messages()}
    assert seen["sent_by_then"] < len(rows) - 400  # it came while most of the campaign waited
    assert late not in sent and len(sent) == len(rows) - 1
    assert (summary.accepted, summary.opted_out) == (len(rows) - 1, 1)
    assert summary.campaign is not None and POSTGRES
    by_number = {r.to: r for r in campaign_results(POSTGRES, summary.campaign)}
    assert by_number[late].status == "opted_out" and by_number[late].error == "opted out"
    assert "replied STOP on" in (by_number[late].description or "")
    # the store the workers read is named with the campaign, without the database's password
    password = str(psycopg.conninfo.conninfo_to_dict(POSTGRES).get("password"))
    with psycopg.connect(POSTGRES, autocommit=True) as db:
        (settings,) = db.execute(
            "SELECT settings FROM clickatell_sms.campaigns WHERE id = %s", (summary.campaign,)
        ).fetchone()
    assert json.loads(settings)["opt_outs"].startswith("postgresql://")
    assert password not in settings


def test_a_campaign_on_workers_needs_a_store_every_worker_reads(tmp_path: object) -> None:
    assert POSTGRES and REDIS
    with pytest.raises(ValidationError, match="must be a postgresql:// URL for a campaign on"):
        run_campaign(numbers(3), "hi", journal=POSTGRES, broker=REDIS, opt_outs="/tmp/local.sqlite")
