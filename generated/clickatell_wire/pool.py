# generated from spec/openapi.yaml by python -m codegen, do not edit
"""The one urllib3 pool a `transport.Transport` sends through, made as urllib3 makes pools.

The pool is for the base URL's host, with `connection.Watched` connections. A PoolManager's own
code makes it (its settings, proxy routing and pool classes): the transport's own manager, a
`ProxyManager` for a proxy, or the caller's, on a copy of it that has `Watched` pool classes and
no pools yet, so the caller's manager and its pools are not changed.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import ssl

    import urllib3
    from urllib3.connectionpool import HTTPConnectionPool
    from urllib3.util.retry import Retry
    from urllib3.util.timeout import Timeout

    from .deadline import AttemptState

__all__ = ["Route", "classify", "open_route"]


class Route(NamedTuple):
    """Where a transport's requests go, and urllib3's settings for each of them."""

    pool: HTTPConnectionPool
    prefix: str  # before each request's path: the origin, when a proxy forwards whole URLs
    retries: Retry  # none: each call is one attempt
    timeout: Callable[[float, float], Timeout]  # (connect, read) -> urllib3's, made once
    attempt: AttemptState  # this thread's attempt: its deadline, and whether it failed to connect


@functools.cache
def _watched(pool: type[HTTPConnectionPool]) -> type[HTTPConnectionPool]:
    """`pool` with `Watched` connections (any pool class: a caller's manager may have its own)."""
    from .connection import Watched

    base = pool.ConnectionCls
    respond = staticmethod(base.response_class)  # type: ignore[attr-defined]
    connection = type(f"Watched{base.__name__}", (Watched, base), {"respond": respond})
    return type(f"Watched{pool.__name__}", (pool,), {"ConnectionCls": connection})


def open_route(
    base_url: str,
    manager: urllib3.PoolManager | None,
    proxy: tuple[str, Mapping[str, str]] | None,
    maxsize: int,
    ssl_context: ssl.SSLContext | None,
) -> Route:
    """The route to `base_url`'s host through `manager`, or through a manager of its own with
    `maxsize` connections, `ssl_context` and the `proxy` (URL, headers) if there is one."""
    import urllib3
    from urllib3.util.proxy import connection_requires_http_tunnel

    from .deadline import ATTEMPT, checked_timeout

    if manager is None:
        options: dict[str, Any] = {"num_pools": 1, "maxsize": maxsize, "block": False}
        if ssl_context is not None:
            options["ssl_context"] = ssl_context
        if proxy is None:
            manager = urllib3.PoolManager(**options)
        else:
            manager = urllib3.ProxyManager(proxy[0], proxy_headers=dict(proxy[1]), **options)
    view = copy.copy(manager)
    view.pools = type(manager.pools)()
    view.pool_classes_by_scheme = {
        s: _watched(p) for s, p in manager.pool_classes_by_scheme.items()
    }
    pool = view.connection_from_url(base_url)
    scheme, rest = base_url.split("://", 1)
    forward = pool.proxy is not None and not connection_requires_http_tunnel(
        pool.proxy, pool.proxy_config, scheme
    )
    prefix = f"{scheme}://{rest.split('/', 1)[0]}" if forward else ""
    checked = checked_timeout()
    timeout = functools.lru_cache(maxsize=64)(lambda c, r: checked(connect=c, read=r))
    return Route(pool, prefix, urllib3.Retry(total=False, redirect=False), timeout, ATTEMPT)


def classify(error: BaseException) -> tuple[bool, str | None] | None:
    """Whether urllib3's `error` is a timeout, and the word for it when it came from connecting
    ("proxy", "dns", or None: `TransportBase._unsent` reads its chain); None: not urllib3's."""
    from urllib3 import exceptions as lib

    if not isinstance(error, lib.HTTPError | OSError):
        return None
    why = "dns" if isinstance(error, lib.NameResolutionError) else None
    return isinstance(error, lib.TimeoutError), "proxy" if isinstance(
        error, lib.ProxyError
    ) else why
