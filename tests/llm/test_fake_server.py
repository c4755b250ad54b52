from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from axon_lab.llm.testing import FakeChatServer, FakeReply, RecordedRequest

ROOT = Path(__file__).resolve().parents[2]


def test_handler_and_queue_and_models() -> None:
    def handler(request: RecordedRequest) -> FakeReply:
        return FakeReply.chat("from handler")

    with FakeChatServer(handler, models=("a", "b")) as server:
        server.enqueue(FakeReply.chat("queued"))
        post = urllib.request.Request(
            server.base_url + "/chat/completions",
            data=b'{"messages": []}',
            headers={"Content-Type": "application/json"},
        )
        texts = [
            json.loads(urllib.request.urlopen(post).read())["choices"][0]["message"]["content"]
            for _ in range(2)
        ]
        models = json.loads(urllib.request.urlopen(server.base_url + "/models").read())
    assert texts == ["queued", "from handler"]
    assert [m["id"] for m in models["data"]] == ["a", "b"]
    assert len(server.chat_requests) == 2


def test_runs_as_a_separate_process() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "axon_lab.llm.testing", "--latency", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        body = json.loads(urllib.request.urlopen(base_url + "/models").read())
        assert body["object"] == "list"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
