"""The program Celery workers run to send campaigns' shards:

    celery -A clickatell_sms.worker worker -Q clickatell-sms --concurrency 2

`bulk.celery` defines the app and its task below the client; this module, a program like the
CLI, gives it the package's `Client`, one per shard, with the connections the campaign's
concurrency needs and the account's settings from the worker's environment (see
`settings`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .bulk.celery import make_app
from .bulk.cluster import CampaignSpec
from .client import Client

__all__ = ["app", "shard_client"]


@contextmanager
def shard_client(spec: CampaignSpec) -> Iterator[Client]:
    """A client for one shard of the campaign `spec` describes, closed when the shard ends."""
    connections = max(spec.concurrency, 1)
    with Client(default_region=spec.default_region, max_connections=connections) as client:
        yield client


app = make_app(shard_client)
