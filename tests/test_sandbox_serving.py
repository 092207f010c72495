"""The sandbox in its own process, started as a user starts it, under the load its benchmark
puts on it (`scripts/bench --sandbox-load`, which reports the rate): 8 keep-alive connections
sending as fast as they can, every answer a whole `202`. The rate itself is the bench's, as it
depends on the machine."""

from __future__ import annotations

import pytest

from benchmarks.sandbox_load import CONNECTIONS, measure, sandbox_process


@pytest.mark.slow
def test_serves_8_busy_keep_alive_connections_answering_every_send_202() -> None:
    with sandbox_process() as (host, port):
        rate, failures = measure(host, port, 1.0)
    assert failures == 0
    assert rate > 0  # every connection was answered, read to the end of each answer
    print(f"\nsandbox: {rate:,.0f} sends/s over {CONNECTIONS} connections (the bench's figure)")
