"""`CachedClient`: record and replay any client's responses.

Modes (:class:`CacheMode`):

* ``live`` — pass every call through; the cache is neither read nor written.
* ``record`` — answer from the cache when the request was seen before, else call the wrapped client
  and store its response. A second run of the same requests is free.
* ``replay`` — answer only from the cache; the wrapped client is never called, so nothing touches
  the network. A miss raises :class:`~axon_lab.errors.CacheMissError` naming the key and, when set
  with :meth:`CachedClient.label`, the step.

The key is :func:`~axon_lab.llm.request_key` of (endpoint, model, messages, tools,
response_format, params): the endpoint is the wrapped client's (a server's API root, see
:attr:`BaseLLMClient.endpoint <axon_lab.llm.BaseLLMClient.endpoint>`), so a run against another
server does not replay the first one's answers. Keys made before the endpoint was part of them
(cache layout 1) cannot match: :class:`SQLCacheStore` refuses such a table and says how to clear
it.
A hit is the stored response with ``cache_hit=True`` and ``cost=0``; every other field (text, tool
calls, usage, recorded latency) is as recorded, so a replayed run is identical to the recorded one.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from axon_lab._json import loads_bounded
from axon_lab.errors import CacheMissError, ConfigError, LLMError, StoreError
from axon_lab.llm._cache_store import DEFAULT_CACHE_URL, CacheStore, SQLCacheStore
from axon_lab.llm._client import BaseLLMClient, LLMClient, asend_request, send_request
from axon_lab.llm._request import LLMRequest
from axon_lab.llm._response import LLMResponse

__all__ = ["CacheMode", "CachedClient"]

_label: contextvars.ContextVar[str | None] = contextvars.ContextVar("axon_llm_label", default=None)


class CacheMode(StrEnum):
    """How :class:`CachedClient` uses its store."""

    LIVE = "live"
    RECORD = "record"
    REPLAY = "replay"


class CachedClient(BaseLLMClient):
    """Wrap any client with a record/replay cache.

    Args:
        inner: The client to call on a miss (``live`` and ``record`` modes).
        mode: ``"live"``, ``"record"`` or ``"replay"``.
        store: A :class:`CacheStore`, or an SQLAlchemy URL; default ``sqlite:///runs/axon.db``.
        endpoint: The endpoint responses are keyed by (default: the inner client's). Set it to
            replay a recording through a stand-in client, e.g. ``ScriptedClient([])``.

    Examples:
        >>> from axon_lab.llm import MemoryCacheStore, ScriptedClient
        >>> store = MemoryCacheStore()
        >>> msgs = [{"role": "user", "content": "hi"}]
        >>> CachedClient(ScriptedClient(["hello"]), mode="record", store=store).complete(msgs).text
        'hello'
        >>> replay = CachedClient(ScriptedClient([]), mode="replay", store=store)
        >>> r = replay.complete(msgs)
        >>> r.text, r.cache_hit
        ('hello', True)
        >>> with replay.label("step 7"):
        ...     replay.complete([{"role": "user", "content": "new"}])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        axon_lab.errors.CacheMissError: Replay found no recorded response for key ... at step 7 ...
    """

    def __init__(
        self,
        inner: LLMClient,
        *,
        mode: CacheMode | str = CacheMode.RECORD,
        store: CacheStore | str | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(inner.model, max_concurrency=getattr(inner, "max_concurrency", 8))
        try:
            self.mode = CacheMode(mode)
        except ValueError:
            raise ConfigError(
                f"Unknown cache mode {mode!r}; use one of {[m.value for m in CacheMode]}."
            ) from None
        self.inner = inner
        self._endpoint = str(getattr(inner, "endpoint", "")) if endpoint is None else endpoint
        self._opened: SQLCacheStore | None = None  # a store opened here from a URL
        if store is None or isinstance(store, str):
            self.store: CacheStore = SQLCacheStore(store or DEFAULT_CACHE_URL)
            self._opened = self.store
        elif isinstance(store, CacheStore):
            self.store = store
        else:
            raise ConfigError(
                f"store must be a CacheStore (get, put, __len__) or a database URL, got "
                f"{type(store).__name__}; e.g. store='sqlite:///runs/axon.db'."
            )

    @property
    def endpoint(self) -> str:
        """The endpoint this cache keys responses by."""
        return self._endpoint

    def close(self) -> None:
        """Close the store this client opened from a URL (a store passed in is left open)."""
        if self._opened is not None:
            self._opened.close()

    @staticmethod
    @contextmanager
    def label(text: str) -> Iterator[None]:
        """Name the step the calls inside belong to (shown in cache-miss errors and stored)."""
        token = _label.set(text)
        try:
            yield
        finally:
            _label.reset(token)

    def _lookup(self, key: str) -> LLMResponse | None:
        if self.mode is CacheMode.LIVE:
            return None
        hit = self.store.get(key)
        if hit is not None:
            try:
                data = loads_bounded(hit, what=f"The cache entry {key}")
                data.update(cache_hit=True, request_hash=key, cost=0.0)  # a hit is free
                return LLMResponse.from_dict(data)
            except (ValueError, TypeError, KeyError, AttributeError, LLMError) as exc:
                raise StoreError(
                    f"The LLM cache entry for key {key} is not a recorded response "
                    f"({type(exc).__name__}: {exc}); delete that row from the cache table, "
                    "then record it again with mode='record'."
                ) from exc
        if self.mode is CacheMode.REPLAY:
            step = _label.get()
            where = f" at {step}" if step else ""
            raise CacheMissError(
                f"Replay found no recorded response for key {key}{where} (model {self.model!r}, "
                f"endpoint {self._endpoint!r}). The request differs from the recorded run "
                "(prompt, params, model or endpoint changed), or it was never recorded; run once "
                "with mode='record'."
            )
        return None

    def _save(self, key: str, response: LLMResponse) -> LLMResponse:
        response = response.replace(request_hash=key)
        if self.mode is CacheMode.RECORD:
            self.store.put(
                key, json.dumps(response.to_dict()), model=response.model, label=_label.get()
            )
        return response

    def _send(self, request: LLMRequest) -> LLMResponse:
        key = request.key(self.model, endpoint=self._endpoint)
        hit = self._lookup(key)
        if hit is not None:
            return hit
        return self._save(key, send_request(self.inner, request))

    async def _asend(self, request: LLMRequest) -> LLMResponse:
        key = request.key(self.model, endpoint=self._endpoint)
        hit = self._lookup(key)
        if hit is not None:
            return hit
        return self._save(key, await asend_request(self.inner, request))
