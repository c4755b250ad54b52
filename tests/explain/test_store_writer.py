"""The step writer: rows bound as SQLAlchemy binds them, and the connection kept between steps."""

from __future__ import annotations

import threading
from datetime import date
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Dialect, create_engine, text
from sqlalchemy.dialects import postgresql, sqlite

from axon_lab.errors import StoreError
from axon_lab.explain import ExplainStore, _schema
from axon_lab.explain._rows import COLUMNS, RowBinder, step_action
from axon_lab.records import OrderAck, OrderStatus, StepRecord

from .test_store_properties import moments, positive, steps, word
from .test_store_properties import text as texts

DIALECTS = [sqlite.dialect(), postgresql.psycopg.dialect()]


def _reference_rows(step: StepRecord, dialect: Dialect) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows as ``insert(table).values(...)`` would bind them (column processors)."""
    action, source = step_action(step)
    key = {"run_id": step.run_id, "step": step.step}
    calls = step.analysis.llm_calls if step.analysis is not None else ()
    rows: dict[str, list[dict[str, Any]]] = {
        "axon_steps": [
            {
                **key,
                "timestamp": step.timestamp,
                "action": action,
                "source": source,
                "equity": step.equity,
                "pnl": step.pnl,
                "failed": step.is_failed,
                "n_llm_calls": len(calls),
                "n_verdicts": len(step.verdicts),
                "n_rejections": len(step.rejections),
                "n_acks": len(step.acks),
                "n_fills": len(step.fills),
                "digest": step.digest(),
                "record_json": step.to_json(),
            }
        ],
        "axon_rejections": [
            {**key, "idx": i, **v.model_dump(), "line": v.line.value}
            for i, v in enumerate(step.verdicts)
            if not v.approved
        ],
    }
    bound: dict[str, list[tuple[Any, ...]]] = {}
    for table in (_schema.steps, *_schema.CHILD_TABLES.values()):
        process = {
            c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.columns
        }
        bound[table.name] = [
            tuple(
                row[name] if process[name] is None else process[name](row[name])  # type: ignore[misc]
                for name in COLUMNS[table.name]
            )
            for row in rows[table.name]
        ]
    return bound


@st.composite
def rich_steps(draw: st.DrawFn) -> StepRecord:
    """A step of every kind of child row, with several instants, NULs and empty values."""
    step = draw(steps())
    ack = OrderAck(
        order_id=draw(texts),
        client_order_id=draw(texts),
        symbol=draw(word),
        side=draw(st.sampled_from(["buy", "sell"])),
        quantity=draw(positive),
        status=draw(st.sampled_from(list(OrderStatus))),
        timestamp=draw(st.sampled_from([step.timestamp, draw(moments)])),
    )
    verdict = step.verdicts[0].replace(
        approved=draw(st.booleans()),
        client_order_id=draw(texts | st.none()),
        timestamp=draw(moments),
    )
    failed = draw(st.booleans())
    return step.replace(
        verdicts=(*step.verdicts, verdict, step.verdicts[0]),
        acks=draw(st.sampled_from([(), (ack,), (ack, ack)])),
        failed_stage="execute" if failed else None,
        error=draw(texts) if failed else None,
        analysis=draw(st.sampled_from([step.analysis, None])),
    )


def _exact(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[list[tuple[type, str]]]]:
    return {t: [[(type(v), repr(v)) for v in row] for row in found] for t, found in rows.items()}


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@settings(max_examples=60)
@given(step=rich_steps())
def test_rows_are_bound_as_sqlalchemy_binds_them(dialect: Dialect, step: StepRecord) -> None:
    binder = RowBinder(dialect)
    got = {t: [] for t in COLUMNS} | dict(binder.children(step))
    got["axon_steps"] = [binder.step(step, step.to_json(), step.digest())]
    assert _exact(got) == _exact(_reference_rows(step, dialect))


def _new_run(store: ExplainStore, run_id: str) -> None:
    store.create_run(
        {}, run_id=run_id, data_fingerprint="-", model="m", model_cutoff=date(2024, 1, 2)
    )


def test_the_kept_connection_goes_back_to_the_pool(store_url: str, gen: ModuleType) -> None:
    store = ExplainStore(store_url)
    pool = store._engine.pool
    kept = 1 if store_url.startswith("sqlite") else 0  # PostgreSQL: plain Core, nothing kept
    _new_run(store, "r")
    for step in gen.make_steps("r", 3):
        store.record_step(step)
    assert pool.checkedout() == kept  # kept between steps
    with pytest.raises(StoreError, match="different content"):
        store.record_step(gen.make_steps("r", 3)[2].replace(pnl=99.0))
    assert pool.checkedout() == 0  # a failed write hands it back
    for step in gen.make_steps("r", 5)[3:]:
        store.record_step(step)
    assert pool.checkedout() == kept
    store.close()
    assert pool.checkedout() == 0


def _kill(store: ExplainStore, store_url: str) -> None:
    if store_url.startswith("sqlite"):
        held = store._step_writer._held
        assert held is not None
        assert held._held is not None
        held._held.dbapi_connection.close()  # type: ignore[union-attr]
        return
    with store._engine.connect() as conn:  # the pool's idle connection, the next step's
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    admin = create_engine(store_url)
    try:
        with admin.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


def test_a_connection_lost_between_steps_is_replaced(store_url: str, gen: ModuleType) -> None:
    written = gen.make_steps("r", 6)
    with ExplainStore(store_url) as store:
        _new_run(store, "r")
        for step in written[:3]:
            store.record_step(step)
        _kill(store, store_url)  # e.g. a server restart between two steps
        for step in written[3:]:
            store.record_step(step)
        assert store.steps("r") == written
        assert store.check_run("r") == []


def test_threads_writing_through_one_store(store_url: str, gen: ModuleType) -> None:
    n_threads, n_steps = 4, 25
    errors: list[BaseException] = []
    with ExplainStore(store_url) as store:
        for t in range(n_threads):
            _new_run(store, f"t{t}")

        def write(run_id: str) -> None:
            try:
                gen.run_loop(store, run_id, n_steps)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(f"t{t}",)) for t in range(n_threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        for t in range(n_threads):
            assert store.steps(f"t{t}") == gen.make_steps(f"t{t}", n_steps)
            assert store.check_run(f"t{t}") == []
