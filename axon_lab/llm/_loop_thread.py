"""One event loop on a daemon thread, so blocking calls get asyncio's deadlines.

A blocking HTTP client bounds each socket read, not the whole exchange: a server that sends one
byte every half second holds a call with a 1 s read timeout for as long as it likes. asyncio can
cancel an exchange at any point (``asyncio.timeout``), so :class:`OpenAICompatClient` runs its
blocking calls as coroutines on this loop and waits for them; one loop per client keeps one
connection pool alive across calls.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread"]

_T = TypeVar("_T")


class LoopThread:
    """A lazily started event loop on a daemon thread (restarted in a forked child).

    Examples:
        >>> async def add(a, b):
        ...     return a + b
        >>> runner = LoopThread()
        >>> runner.run(add(1, 2))
        3
        >>> runner.close()
    """

    def __init__(self, name: str = "axon-llm-loop") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                # a loop inherited across fork() has no thread running it: start our own
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread, self._pid = loop, thread, os.getpid()
            return self._loop

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coro`` on the loop and block until it finishes; cancel it if the wait ends."""
        future = asyncio.run_coroutine_threadsafe(coro, self._ensure())
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt in the waiting thread
            raise

    def close(self, cleanup: Callable[[], Awaitable[None]] | None = None) -> None:
        """Run ``cleanup()`` on the loop (if it is running here), then stop the loop."""
        with self._lock:
            loop, thread, mine = self._loop, self._thread, self._pid == os.getpid()
            self._loop = self._thread = None
        if loop is None or thread is None or not mine:
            return
        try:
            if cleanup is not None:
                asyncio.run_coroutine_threadsafe(_await(cleanup), loop).result(timeout=5)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            if not thread.is_alive():
                loop.close()


async def _await(cleanup: Callable[[], Awaitable[None]]) -> None:
    await cleanup()
