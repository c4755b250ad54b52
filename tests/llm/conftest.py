from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from axon_lab.llm import OpenAICompatClient, RetryPolicy
from axon_lab.llm.testing import FakeChatServer

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05, jitter=0.0)


@pytest.fixture
def fake_server() -> Iterator[FakeChatServer]:
    with FakeChatServer() as server:
        yield server


@pytest.fixture
def make_client(
    fake_server: FakeChatServer,
) -> Iterator[Callable[..., OpenAICompatClient]]:
    made: list[OpenAICompatClient] = []

    def make(**kwargs: Any) -> OpenAICompatClient:
        kwargs.setdefault("base_url", fake_server.base_url)
        kwargs.setdefault("retry", FAST_RETRY)
        kwargs.setdefault("timeout_s", 5.0)
        client = OpenAICompatClient(kwargs.pop("model", "fake-model"), **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., OpenAICompatClient]) -> OpenAICompatClient:
    return make_client()
