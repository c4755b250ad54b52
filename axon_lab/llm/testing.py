"""A fake chat-completions server on 127.0.0.1 for fast, real-HTTP tests of any client.

:class:`FakeChatServer` speaks enough of the OpenAI protocol (``POST /v1/chat/completions``,
``GET /v1/models``) to exercise retries, timeouts, concurrency and parsing. Each request is
recorded; each reply is taken from a queue of scripted :class:`FakeReply` values, else from a
handler function, else an echo of the last user message. Replies can add latency, fail with
429/500, hang, trickle the body a byte at a time, or send a broken body (truncated JSON, an
empty ``choices`` list, an HTML page, invalid UTF-8).

Examples:
    >>> import json, urllib.request
    >>> with FakeChatServer() as server:
    ...     server.enqueue(FakeReply.chat("hello"))
    ...     req = urllib.request.Request(
    ...         server.base_url + "/chat/completions",
    ...         data=json.dumps({"model": "m", "messages": []}).encode(),
    ...         headers={"Content-Type": "application/json"})
    ...     body = json.loads(urllib.request.urlopen(req).read())
    >>> body["choices"][0]["message"]["content"], len(server.requests)
    ('hello', 1)
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeChatServer", "FakeReply", "RecordedRequest"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedRequest:
    """A request the fake server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    received_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeReply:
    """One scripted reply: status, body, headers, and how long to wait before sending it.

    ``trickle_s`` > 0 sends the body one byte at a time, that many seconds apart (each read of a
    client then succeeds quickly, but the whole answer takes ``len(body) * trickle_s``).
    """

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    hang: bool = False
    trickle_s: float = 0.0

    @classmethod
    def chat(
        cls,
        text: str | None = "",
        *,
        tool_calls: Sequence[Mapping[str, Any]] = (),
        model: str = "fake-model",
        prompt_tokens: int = 10,
        completion_tokens: int = 5,
        finish_reason: str = "stop",
        delay_s: float = 0.0,
    ) -> FakeReply:
        """A well-formed completion; ``tool_calls`` are ``{"name", "arguments"}`` dicts."""
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if tool_calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{i}",
                    "type": "function",
                    "function": {"name": tc["name"], "arguments": tc.get("arguments", "{}")},
                }
                for i, tc in enumerate(tool_calls)
            ]
        payload = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        return cls(body=json.dumps(payload).encode(), delay_s=delay_s)

    @classmethod
    def error(
        cls, status: int, message: str = "error", *, headers: Mapping[str, str] | None = None
    ) -> FakeReply:
        """An OpenAI-style error body with ``status``."""
        body = json.dumps({"error": {"message": message, "type": "fake_error"}}).encode()
        return cls(status=status, body=body, headers=dict(headers or {}))

    @classmethod
    def rate_limited(cls, retry_after: float | None = None) -> FakeReply:
        """HTTP 429, optionally with a ``Retry-After`` header."""
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return cls.error(429, "Rate limit reached", headers=headers)

    @classmethod
    def truncated_json(cls) -> FakeReply:
        """A 200 whose JSON body is cut off half way."""
        full = cls.chat("this answer will be cut").body
        return cls(body=full[: len(full) // 2])

    @classmethod
    def empty_choices(cls) -> FakeReply:
        """A 200 with ``"choices": []``."""
        return cls(body=json.dumps({"id": "x", "model": "fake-model", "choices": []}).encode())

    @classmethod
    def html(cls) -> FakeReply:
        """A 200 with an HTML page, as a misconfigured proxy sends."""
        page = b"<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>"
        return cls(body=page, content_type="text/html")

    @classmethod
    def invalid_utf8(cls) -> FakeReply:
        """A 200 whose body is not valid UTF-8 (raw Latin-1 bytes inside the content string)."""
        good = cls.chat("caf-PLACEHOLDER").body
        return cls(body=good.replace(b"-PLACEHOLDER", b"\xe9 \xff\xfe"))

    @classmethod
    def trickle(cls, interval_s: float = 0.5, *, text: str = "slow") -> FakeReply:
        """A well-formed completion sent one byte every ``interval_s`` seconds."""
        return cls(body=cls.chat(text).body, trickle_s=interval_s)

    @classmethod
    def hung(cls) -> FakeReply:
        """Never answer (until the server stops)."""
        return cls(hang=True)


Handler = Callable[[RecordedRequest], FakeReply]


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 drops bursts of concurrent connects (a 1 s SYN retry each).
    request_queue_size = 256
    daemon_threads = True


def _echo(request: RecordedRequest) -> FakeReply:
    messages = (request.body or {}).get("messages") or [{}]
    return FakeReply.chat(str(messages[-1].get("content", "")))


class FakeChatServer:
    """A threaded HTTP server speaking the chat-completions protocol on an ephemeral port.

    Args:
        handler: Builds the reply when the queue is empty (default: echo the last message).
        latency_s: Delay added to every reply.
        models: Model ids listed by ``GET /v1/models``.
    """

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        latency_s: float = 0.0,
        models: Sequence[str] = ("fake-model",),
    ) -> None:
        self.handler: Handler = handler or _echo
        self.latency_s = latency_s
        self.models = tuple(models)
        self.requests: list[RecordedRequest] = []
        self._queue: deque[FakeReply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._in_flight = 0
        self.max_in_flight = 0
        self._httpd = _Server(("127.0.0.1", 0), self._make_handler())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The API root to give a client, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The recorded ``POST .../chat/completions`` requests."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def enqueue(self, *replies: FakeReply) -> None:
        """Queue replies; each chat request takes the oldest."""
        with self._lock:
            self._queue.extend(replies)

    def start(self) -> FakeChatServer:
        """Start serving in a background thread."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release hung requests."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _reply_for(self, request: RecordedRequest) -> FakeReply:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
        return self.handler(request)

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms per reply

            def log_message(self, format: str, *args: Any) -> None:
                """Stay quiet."""

            def _record(self, body: dict[str, Any] | None) -> RecordedRequest:
                return RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    received_at=time.monotonic(),
                )

            def _send(self, reply: FakeReply) -> None:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if not reply.trickle_s:
                    self.wfile.write(reply.body)
                    return
                self.wfile.flush()
                for i in range(len(reply.body)):
                    if server._stopping.wait(reply.trickle_s):
                        self.close_connection = True
                        return  # the server is stopping: leave the rest unsent
                    self.wfile.write(reply.body[i : i + 1])
                    self.wfile.flush()

            def do_GET(self) -> None:
                """Serve ``/v1/models``."""
                with server._lock:
                    server.requests.append(self._record(None))
                data = [{"id": m, "object": "model", "owned_by": "fake"} for m in server.models]
                self._send(FakeReply(body=json.dumps({"object": "list", "data": data}).encode()))

            def do_POST(self) -> None:
                """Serve ``/v1/chat/completions`` from the queue or the handler."""
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    body = None
                reply = server._reply_for(self._record(body))
                with server._lock:
                    server._in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                try:
                    wait = server.latency_s + reply.delay_s
                    if reply.hang:
                        server._stopping.wait()
                        self.close_connection = True
                        return
                    if wait and server._stopping.wait(wait):
                        return
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to answer
                finally:
                    with server._lock:
                        server._in_flight -= 1

        return _Handler


def main(argv: Sequence[str] | None = None) -> None:
    """Serve a :class:`FakeChatServer` until killed: ``python -m axon_lab.llm.testing``.

    Writes its base URL as the first line of standard output, so another process (a benchmark, a
    notebook) can use it without sharing an interpreter with it.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each reply")
    args = parser.parse_args(argv)
    with FakeChatServer(latency_s=args.latency) as server:
        sys.stdout.write(server.base_url + "\n")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            server._stopping.wait()


if __name__ == "__main__":
    main()
