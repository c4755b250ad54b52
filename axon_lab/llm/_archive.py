"""What the model saw, kept by content: the parts of every request, addressed by their SHA-256.

A request is split into parts — a head (model, sampling parameters, response format), the tool
schemas, and each message — and each part's canonical JSON is kept once under its digest. An
:class:`~axon_lab.records.LLMCall` carries the digests (``request_parts``); the explain store keeps
each run's parts once (a system prompt sent at every step is stored once), compressed, and
:func:`request_json` joins them back into the request exactly as it was hashed: its SHA-256 is
the call's ``request_hash`` for a client without an endpoint.

:data:`PROMPTS` is the process's archive: clients put every request's parts into it as they send,
and the explain recorder takes from it the parts each step refers to. It holds only recent parts
(bounded by size), which is all a recorder needs: a step is recorded right after it ran.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from axon_lab.errors import ConfigError

from ._request import canonical_json

if TYPE_CHECKING:
    from ._request import LLMRequest

__all__ = ["PROMPTS", "PromptArchive", "request_json", "request_parts"]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class PromptArchive:
    """Texts by their SHA-256, the most recent ``max_bytes`` of them.

    Args:
        max_bytes: How many bytes of text to keep (oldest dropped first).

    Examples:
        >>> archive = PromptArchive()
        >>> key = archive.put('{"role":"user","content":"hi"}')
        >>> archive.get(key)
        '{"role":"user","content":"hi"}'
    """

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        if not (isinstance(max_bytes, int) and max_bytes > 0):
            raise ConfigError(f"max_bytes must be a positive int, got {max_bytes!r}")
        self.max_bytes = max_bytes
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def put(self, text: str) -> str:
        """Keep ``text``; return its digest."""
        key = _digest(text)
        self.put_known(key, text)
        return key

    def put_known(self, key: str, text: str) -> None:
        """Keep ``text`` under ``key``, its digest computed by the caller."""
        with self._lock:
            if key in self._texts:
                self._texts.move_to_end(key)
                return
            self._texts[key] = text
            self._size += len(text)
            while self._size > self.max_bytes and len(self._texts) > 1:
                _, old = self._texts.popitem(last=False)
                self._size -= len(old)

    def get(self, key: str) -> str | None:
        """The text kept under ``key``, or None."""
        with self._lock:
            return self._texts.get(key)

    def take(self, keys: Iterable[str]) -> dict[str, str]:
        """The texts kept under ``keys`` (those still held), by key."""
        with self._lock:
            return {k: self._texts[k] for k in keys if k in self._texts}

    def __len__(self) -> int:
        return len(self._texts)


PROMPTS = PromptArchive()
"""The process's archive of request parts (see the module docstring)."""


def _texts(request: LLMRequest, model: str) -> list[str]:
    """The request's parts as canonical JSON: head, tools, then each message."""
    prepared = request._texts  # the canonical texts build() made (None for a hand-made one)
    if prepared is None:
        messages = [canonical_json(m) for m in request.messages]
        tools = canonical_json(list(request.tools) if request.tools is not None else None)
        fmt, params = canonical_json(request.response_format), canonical_json(request.params)
    else:
        message_texts, tool_texts, fmt, params = prepared
        messages = list(message_texts)
        tools = "null" if tool_texts is None else "[" + ",".join(tool_texts) + "]"
    head = (
        '{"model":' + canonical_json(model) + ',"params":' + params
        + ',"response_format":' + fmt + "}"
    )  # fmt: skip
    return [head, tools, *messages]


def request_parts(
    request: LLMRequest, model: str, *, archive: PromptArchive | None = None
) -> tuple[str, ...]:
    """Put the request's parts into ``archive`` (default :data:`PROMPTS`); return their digests."""
    store = PROMPTS if archive is None else archive
    return tuple(store.put(text) for text in _texts(request, model))


def request_json(parts: Sequence[str]) -> str:
    """The request's canonical JSON from its parts' texts (head, tools, messages...).

    It is the text ``request_key`` hashes (for a client without an endpoint): keys in sorted
    order, no spaces.

    Raises:
        ConfigError: If fewer than two parts are given.
    """
    if len(parts) < 2:
        raise ConfigError(f"a request has a head and tools part at least; got {len(parts)} parts")
    head, tools, *messages = parts
    inner = head[1:-1]  # "model":...,"params":...,"response_format":...
    return '{"messages":[' + ",".join(messages) + "]," + inner + ',"tools":' + tools + "}"
