"""The Celery side of a campaign on workers: the app and the one task that sends a shard.

Start workers on every host that should send, each with the account's settings in its
environment (the same variables as the client: `CLICKATELL_API_KEY`, `CLICKATELL_BASE_URL`...),
the broker in `CLICKATELL_CELERY_BROKER`, and the database password, if any, where libpq finds
it (`PGPASSWORD`, `~/.pgpass`):

    celery -A clickatell_sms.bulk.celery worker -Q clickatell-sms --concurrency 2

The task is `acks_late` with `reject_on_worker_lost`: the broker forgets a shard only once it is
done, and a worker process that dies (SIGKILL, out of memory) hands its shard back at once, to
be delivered again. A delivered task always resumes its shard from the journal, so a delivery
that repeats never sends twice; a second delivery while the first still runs finds the shard
locked and waits its turn. When the journal's database is away (a restart), the run stops with
its requests in flight marked unknown, and the task is retried with back-off until the database
is back, then resumes.

`visibility_timeout` (`CLICKATELL_CELERY_VISIBILITY`, default 3600 s) is how long Redis waits
before it hands out again a task whose whole worker host vanished; the shard lock makes a task
that outlives it safe.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any, Final

from celery import Celery
from redis.exceptions import RedisError

from ..config import API_KEY_ENV
from .cluster import QUEUE, SHARD_TASK, CampaignSpec, rate_limit_redis, run_shard
from .journal import JournalUnavailableError, JournalWriteError, OptOutsUnreadableError
from .redis_rate_limit import RedisRateLimiter, account_key

__all__ = ["BROKER_ENV", "QUEUE", "SHARD_TASK", "app", "make_app"]

BROKER_ENV: Final = "CLICKATELL_CELERY_BROKER"
VISIBILITY_ENV: Final = "CLICKATELL_CELERY_VISIBILITY"
_RETRY_CAP: Final = 30.0  # seconds between retries, at most


def make_app(broker: str | None = None) -> Celery:
    """A Celery app for campaigns: the submitting side's (with its broker) or the workers'."""
    celery = Celery("clickatell_sms", broker=broker or os.environ.get(BROKER_ENV))
    celery.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker takes one shard at a time: the others wait
        task_default_queue=QUEUE,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": int(os.environ.get(VISIBILITY_ENV, 3600))},
        worker_hijack_root_logger=False,
    )
    celery.task(
        name=SHARD_TASK,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        max_retries=None,
    )(_send_shard)
    return celery


def _send_shard(
    task: Any,
    journal: str,
    campaign_id: str,
    shard: int,
    generation: int,
    resend_unknown: bool | list[str],
) -> str:
    """Send or resume one shard (see the module docs)."""
    broker = task.app.conf.broker_url

    def limiter(per_second: float, burst: int) -> RedisRateLimiter:
        url = rate_limit_redis(broker)
        if url is None:
            raise JournalUnavailableError(
                "a rate limit across workers needs Redis: set CLICKATELL_RATE_LIMIT_REDIS"
            )
        key = os.environ.get("CLICKATELL_RATE_LIMIT_KEY") or account_key(
            os.environ.get(API_KEY_ENV, "")
        )
        return RedisRateLimiter(url, per_second, key=key, burst=burst)

    delay = min(_RETRY_CAP, 2.0 ** min(task.request.retries, 5))
    try:
        outcome = run_shard(
            journal,
            campaign_id,
            shard,
            generation,
            resend_unknown,
            client_factory=_client,
            limiter_factory=limiter,
        )
    except (JournalWriteError, JournalUnavailableError, OptOutsUnreadableError, RedisError) as exc:
        # the journal's database, the opt-out store or the rate limit's Redis is away: resume
        # once it is back
        raise task.retry(exc=exc, countdown=delay) from exc
    if outcome.state == "busy":  # delivered twice: the other delivery is sending it
        raise task.retry(countdown=delay)
    return outcome.state


@contextlib.contextmanager
def _client(spec: CampaignSpec) -> Iterator[Any]:
    from ..client import Client

    connections = max(spec.concurrency, 1)
    with Client(default_region=spec.default_region, max_connections=connections) as client:
        yield client


app = make_app()
