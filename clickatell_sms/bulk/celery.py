"""The Celery side of a campaign on workers: the app and the one task that sends a shard.

Start workers on every host that should send, each with the account's settings in its
environment (the same variables as the client: `CLICKATELL_API_KEY`, `CLICKATELL_BASE_URL`...),
the broker in `CLICKATELL_CELERY_BROKER`, and the database password, if any, where libpq finds
it (`PGPASSWORD`, `~/.pgpass`):

    celery -A clickatell_sms.worker worker -Q clickatell-sms --concurrency 2

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

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Final

from celery import Celery
from redis.exceptions import RedisError

from ..settings import (
    API_KEY_ENV,
    CELERY_BROKER_ENV,
    CELERY_VISIBILITY_ENV,
    RATE_LIMIT_KEY_ENV,
    RATE_LIMIT_REDIS_ENV,
    read,
    read_seconds,
)
from ._sender import MessageSender
from .cluster import QUEUE, SHARD_TASK, CampaignSpec, rate_limit_redis, run_shard
from .journal import JournalUnavailableError, JournalWriteError, OptOutsUnreadableError
from .redis_rate_limit import RedisRateLimiter, account_key

__all__ = ["QUEUE", "SHARD_TASK", "ClientFactory", "make_app"]

_RETRY_CAP: Final = 30.0  # seconds between retries, at most
_VISIBILITY_DEFAULT: Final = 3600  # seconds

ClientFactory = Callable[[CampaignSpec], AbstractContextManager[MessageSender]]
"""Makes the client a shard is sent with, from the campaign's settings (`worker` gives the
package's `Client`: this module sits below it and names no client class)."""


def make_app(client_factory: ClientFactory, broker: str | None = None) -> Celery:
    """A Celery app whose shard task sends with clients from `client_factory`: the workers' app
    (`clickatell_sms.worker`), or a test's."""
    visibility = read_seconds(CELERY_VISIBILITY_ENV, _VISIBILITY_DEFAULT)
    celery = Celery("clickatell_sms", broker=broker or read(CELERY_BROKER_ENV))
    celery.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker takes one shard at a time: the others wait
        task_default_queue=QUEUE,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": visibility},
        worker_hijack_root_logger=False,
    )

    def send_shard(
        task: Any,
        journal: str,
        campaign_id: str,
        shard: int,
        generation: int,
        resend_unknown: bool | list[str],
    ) -> str:
        """Send or resume one shard (see the module docs)."""
        shard_run = (journal, campaign_id, shard, generation, resend_unknown)
        return _send_shard(task, shard_run, client_factory)

    celery.task(
        name=SHARD_TASK,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        max_retries=None,
    )(send_shard)
    return celery


def _send_shard(
    task: Any,
    shard_run: tuple[str, str, int, int, bool | list[str]],
    client_factory: ClientFactory,
) -> str:
    broker = task.app.conf.broker_url

    def limiter(per_second: float, burst: int) -> RedisRateLimiter:
        url = rate_limit_redis(broker)
        if url is None:
            raise JournalUnavailableError(
                f"a rate limit across workers needs Redis: set {RATE_LIMIT_REDIS_ENV}"
            )
        key = read(RATE_LIMIT_KEY_ENV) or account_key(read(API_KEY_ENV) or "")
        return RedisRateLimiter(url, per_second, key=key, burst=burst)

    delay = min(_RETRY_CAP, 2.0 ** min(task.request.retries, 5))
    try:
        outcome = run_shard(*shard_run, client_factory=client_factory, limiter_factory=limiter)
    except (JournalWriteError, JournalUnavailableError, OptOutsUnreadableError, RedisError) as exc:
        # the journal's database, the opt-out store or the rate limit's Redis is away: resume
        # once it is back
        raise task.retry(exc=exc, countdown=delay) from exc
    if outcome.state == "busy":  # delivered twice: the other delivery is sending it
        raise task.retry(countdown=delay)
    return outcome.state
