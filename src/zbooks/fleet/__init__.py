"""Fleet mode: many Zoho Books connections kept in sync by many workers and machines.

Shared token stores and limiter backends (PostgreSQL, Redis) are picked by URL through
`zbooks.core.store_urls`; `Connections` is the registry of tenants; `zbooks.fleet.celery`
holds the Celery tasks. Everything here sits on top of the SDK, which never imports it.
Install with ``pip install 'zbooks[fleet]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zbooks.fleet.connections import Connection, Connections

__all__ = ["Connection", "Connections"]


def __getattr__(name: str) -> Any:
    """Import the registry on first use, so `import zbooks.fleet.redis_limits` stays light."""
    if name in __all__:
        from zbooks.fleet import connections

        return getattr(connections, name)
    raise AttributeError(name)
