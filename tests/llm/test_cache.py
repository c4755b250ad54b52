from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from axon_lab.errors import CacheMissError, ConfigError, StoreError
from axon_lab.llm import (
    CachedClient,
    CacheMode,
    CacheStore,
    LLMRequest,
    MemoryCacheStore,
    OpenAICompatClient,
    ScriptedClient,
    SQLCacheStore,
    make_response,
)
from axon_lab.llm.testing import FakeChatServer, FakeReply

ROOT = Path(__file__).resolve().parents[2]


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


POSTGRES_URL = os.environ.get("AXON_TEST_POSTGRES_URL", "")
_needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL,
    reason='AXON_TEST_POSTGRES_URL is not set; run export AXON_TEST_POSTGRES_URL="$(bash '
    '.ci/postgres)" to test PostgreSQL',
)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose search path is a fresh schema, dropped afterwards."""
    import sqlalchemy as sa

    base = sa.engine.make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    schema = f"axon_cache_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        # a plain postgresql:// URL, as a user writes it: the store picks the psycopg driver
        url = base.set(drivername="postgresql").update_query_dict(
            {"options": f"-csearch_path={schema}"}
        )
        yield url.render_as_string(hide_password=False)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgresql", marks=[pytest.mark.postgres, _needs_postgres]),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CacheStore]:
    if request.param == "memory":
        yield MemoryCacheStore()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'runs' / 'axon.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    sql = SQLCacheStore(url)
    assert isinstance(sql, CacheStore)
    yield sql
    sql.close()


def test_every_store_is_a_cache_store() -> None:
    # CachedClient takes anything else for a URL: a store failing the protocol check would be
    # silently replaced by the default SQLite file
    assert isinstance(MemoryCacheStore(), CacheStore)
    assert isinstance(SQLCacheStore("sqlite://"), CacheStore)


def counting_client() -> ScriptedClient:
    counter = iter(range(10**6))
    return ScriptedClient(
        lambda req: make_response(
            f"{req.messages[-1]['content']}#{next(counter)}", prompt_tokens=3, completion_tokens=2
        )
    )


def test_record_then_hit(store: CacheStore) -> None:
    inner = counting_client()
    cached = CachedClient(inner, mode="record", store=store)
    first = cached.complete(user("a"), temperature=0)
    again = cached.complete(user("a"), temperature=0)
    other = cached.complete(user("a"), temperature=1)
    assert (first.text, first.cache_hit) == ("a#0", False)
    assert (again.text, again.cache_hit) == ("a#0", True)
    assert other.text == "a#1"
    assert len(inner.requests) == 2
    assert len(store) == 2
    assert (
        again.request_hash
        == first.request_hash
        == LLMRequest.build(user("a"), temperature=0).key("scripted")
    )


def test_replay_returns_identical_responses_and_never_calls_inner(
    store: CacheStore, fake_server: FakeChatServer, make_client: Callable[..., OpenAICompatClient]
) -> None:
    fake_server.enqueue(*(FakeReply.chat(f"answer {i}", delay_s=0.01) for i in range(3)))
    live = make_client()
    recorder = CachedClient(live, mode="record", store=store)
    recorded = [recorder.complete(user(f"step {i}"), max_tokens=50) for i in range(3)]
    assert len(fake_server.chat_requests) == 3

    replayer = CachedClient(make_client(), mode="replay", store=store)
    first = [replayer.complete(user(f"step {i}"), max_tokens=50) for i in range(3)]
    second = [replayer.complete(user(f"step {i}"), max_tokens=50) for i in range(3)]
    assert len(fake_server.chat_requests) == 3  # replay never touched the network
    assert first == second
    for rec, rep in zip(recorded, first, strict=True):
        assert rep.cache_hit
        assert rep.replace(cache_hit=False) == rec


def test_replay_miss_names_key_and_step(store: CacheStore) -> None:
    cached = CachedClient(ScriptedClient([]), mode="replay", store=store)
    key = LLMRequest.build(user("unseen")).key("scripted")
    with cached.label("step 42"), pytest.raises(CacheMissError, match=f"{key} at step 42"):
        cached.complete(user("unseen"))
    with pytest.raises(CacheMissError, match=f"key {key} \\(model 'scripted', endpoint ''\\)"):
        cached.complete(user("unseen"))


def test_live_mode_bypasses_the_cache(store: CacheStore) -> None:
    inner = counting_client()
    cached = CachedClient(inner, mode=CacheMode.LIVE, store=store)
    assert [cached.complete(user("a")).text for _ in range(2)] == ["a#0", "a#1"]
    assert len(store) == 0


def test_a_store_that_is_not_one_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"store must be a CacheStore .* got dict"):
        CachedClient(ScriptedClient([]), store={})  # type: ignore[arg-type]


def test_unknown_mode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Unknown cache mode 'replya'"):
        CachedClient(ScriptedClient([]), mode="replya", store=MemoryCacheStore())


def test_async_record_and_replay(store: CacheStore) -> None:
    recorder = CachedClient(counting_client(), mode="record", store=store)
    rec = asyncio.run(recorder.acomplete(user("z")))
    replay = CachedClient(ScriptedClient([]), mode="replay", store=store)
    rep = asyncio.run(replay.acomplete(user("z")))
    assert rep.text == rec.text == "z#0"
    assert rep.cache_hit


def test_concurrent_threads_record_the_same_keys(tmp_path: Path) -> None:
    # eight threads open one new database at once (schema creation and the WAL switch race),
    # then record overlapping keys
    url = f"sqlite:///{tmp_path / 'axon.db'}"
    errors: list[BaseException] = []
    barrier = threading.Barrier(8, timeout=60)

    def worker(n: int) -> None:
        try:
            cached = CachedClient(counting_client(), mode="record", store=SQLCacheStore(url))
            barrier.wait()
            for i in range(25):
                cached.complete(user(f"q{i % 10}"))
        except BaseException as exc:  # surfaced below, so the test fails loudly
            errors.append(exc)
            barrier.abort()  # release the others: a failed worker must not hang the test

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker is still running after 120 s"
    assert [e for e in errors if not isinstance(e, threading.BrokenBarrierError)] == []
    assert errors == []
    assert len(SQLCacheStore(url)) == 10


_WRITER = textwrap.dedent(
    """
    import sys
    from axon_lab.llm import CachedClient, ScriptedClient, SQLCacheStore
    url, tag = sys.argv[1], sys.argv[2]
    client = CachedClient(ScriptedClient(lambda req: f"from {tag}"), mode="record",
                          store=SQLCacheStore(url))
    for i in range(60):
        client.complete([{"role": "user", "content": f"q{i % 40}"}])
    """
)


def test_two_processes_write_one_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs' / 'axon.db'}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, url, tag], stderr=subprocess.PIPE, cwd=ROOT
        )
        for tag in ("A", "B")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    store = SQLCacheStore(url)
    assert len(store) == 40
    replay = CachedClient(ScriptedClient([]), mode="replay", store=store)
    texts = {replay.complete(user(f"q{i}")).text for i in range(40)}
    assert texts <= {"from A", "from B"}


def test_sql_store_is_in_wal_mode_with_its_own_table(tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'axon.db'}"
    store = SQLCacheStore(url)
    store.put("k", "{}", model="m", label="step 1")
    assert store.put("k", "[]", model="m") is False  # insert-or-ignore keeps the first
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        row = conn.exec_driver_sql("SELECT key, model, label, response FROM llm_cache").one()
    engine.dispose()
    assert tuple(row) == ("k", "m", "step 1", "{}")
    store.close()


def test_invalid_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Invalid cache URL"):
        SQLCacheStore("not a url")


def test_a_held_sqlite_reader_sees_later_writes_and_never_pins_the_wal(tmp_path: Path) -> None:
    # the store keeps one connection between lookups: it must not hold a read snapshot open
    import sqlite3

    url = f"sqlite:///{tmp_path / 'axon.db'}"
    reader, writer = SQLCacheStore(url), SQLCacheStore(url)
    assert reader.get("k") is None  # the reader's connection is now open and held
    assert writer.put("k", '{"v": 1}', model="m") is True
    assert reader.get("k") == '{"v": 1}'
    for i in range(50):
        writer.put(f"k{i}", "{}", model="m")
    assert reader.get("k49") == "{}"
    con = sqlite3.connect(tmp_path / "axon.db")
    busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    con.close()
    assert busy == 0, "a held cache connection blocks the WAL checkpoint"
    reader.close()
    writer.close()


def test_one_sql_store_shared_by_threads(tmp_path: Path) -> None:
    store = SQLCacheStore(f"sqlite:///{tmp_path / 'axon.db'}")
    errors: list[BaseException] = []
    inserted: list[bool] = []

    def worker(n: int) -> None:
        try:
            for i in range(40):
                inserted.append(store.put(f"k{i}", f'"{n}"', model="m"))
                if store.get(f"k{i}") is None:
                    raise AssertionError(f"k{i} missing right after its put")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sum(inserted) == 40 == len(store)  # each key inserted exactly once
    store.close()


def test_a_held_connection_lost_between_calls_is_replaced(tmp_path: Path) -> None:
    store = SQLCacheStore(f"sqlite:///{tmp_path / 'axon.db'}")
    store.put("k", "{}", model="m")
    assert store._held is not None
    held = store._held._held
    assert held is not None
    held.driver_connection.close()  # the driver connection dies under the store
    assert store.get("k") == "{}"  # on a fresh connection; the dead one was discarded
    assert store._held._held is not held
    store.close()


def test_a_database_error_is_a_store_error_naming_the_cache(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "axon.db"
    store = SQLCacheStore(f"sqlite:///{path}")
    store.put("k", "{}", model="m")
    con = sqlite3.connect(path)
    con.execute("DROP TABLE llm_cache")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match=r"Cannot read the LLM cache at .*no such table"):
        store.get("k")
    with pytest.raises(StoreError, match=r"Cannot write the LLM cache at .*no such table"):
        store.put("k2", "{}", model="m")
    store.close()


_FORKED = textwrap.dedent(
    """
    import multiprocessing as mp, sys
    from axon_lab.llm import SQLCacheStore

    def child(store):
        store.put("from-child", "{}", model="m")
        sys.exit(0 if store.get("from-parent") == "{}" else 3)

    if __name__ == "__main__":
        store = SQLCacheStore(sys.argv[1])
        store.put("from-parent", "{}", model="m")  # the parent's connection is open and held
        proc = mp.get_context("fork").Process(target=child, args=(store,))
        proc.start()
        proc.join(60)
        assert proc.exitcode == 0, proc.exitcode
        assert store.get("from-child") == "{}", "the child's write is not visible"
        store.put("after", "{}", model="m")
        print(len(store))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX only")
def test_a_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    # SQLite forbids using a connection opened before fork in the child
    script = tmp_path / "forked.py"
    script.write_text(_FORKED)
    out = subprocess.run(
        [sys.executable, str(script), f"sqlite:///{tmp_path / 'axon.db'}"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3"


@pytest.mark.parametrize("stored", ["not json", "[1, 2]", '{"text": "no model"}'])
def test_a_damaged_cache_entry_is_a_store_error_naming_the_key(stored: str) -> None:
    store = MemoryCacheStore()
    request = LLMRequest.build(user("q"))
    key = request.key("scripted")
    store.put(key, stored, model="scripted")
    replay = CachedClient(ScriptedClient([]), mode="replay", store=store)
    with pytest.raises(StoreError, match=f"cache entry for key {key} is not a recorded response"):
        replay.complete(user("q"))
