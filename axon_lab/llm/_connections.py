"""`pooled_connections()`: one async connection pool per client for the length of a block.

An async SDK client (and its HTTP connection pool) belongs to one event loop, so a lone async
call outside any block makes its own and closes it afterwards: a new TCP connection per call.
Inside ``async with pooled_connections():`` every :class:`~axon_lab.llm.OpenAICompatClient`
used in the block (in any task started inside it) keeps one async SDK client, made on first use
and closed when the block ends, so concurrent windows of an evaluation reuse keep-alive
connections. Blocks nest: an inner block uses the outer one's pools.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import AsyncIterator, Callable
from typing import Any

__all__ = ["pooled_connections", "pooled_sdk"]

_pools: contextvars.ContextVar[dict[Any, Any] | None] = contextvars.ContextVar(
    "axon_llm_pools", default=None
)


@contextlib.asynccontextmanager
async def pooled_connections() -> AsyncIterator[None]:
    """Within the block, each client reuses one async connection pool; closed at the end.

    Examples:
        >>> import asyncio
        >>> async def main() -> None:
        ...     async with pooled_connections():
        ...         pass  # e.g. await loop.arun() of many windows at once
        >>> asyncio.run(main())
    """
    if _pools.get() is not None:
        yield  # the outer block owns the pools
        return
    pools: dict[Any, Any] = {}
    token = _pools.set(pools)
    try:
        yield
    finally:
        _pools.reset(token)
        while pools:
            _, sdk = pools.popitem()
            await sdk.close()


def pooled_sdk(owner: Any, make: Callable[[], Any]) -> Any | None:
    """The block's SDK client of ``owner`` (made by ``make`` on first use); None outside one."""
    pools = _pools.get()
    if pools is None:
        return None
    sdk = pools.get(owner)
    if sdk is None:
        sdk = pools[owner] = make()
    return sdk
