"""Export runs for analysis elsewhere: steps, orders, fills, verdicts and LLM calls as tables.

:func:`export_tables` reads one or many runs from an :class:`~axon_lab.explain.ExplainStore`
into five flat tables, one row per record, each carrying ``run_id`` and ``step`` so they join
back to the step that produced them. ``engine="pandas"`` gives DataFrames, ``engine="polars"``
polars DataFrames; :func:`export_parquet` writes one Parquet file per table.

A verdict's ``limit`` and ``observed`` are numbers or text (a symbol list, an order status): the
tables keep the number in ``limit`` / ``observed`` (NaN for text) and the text in
``limit_text`` / ``observed_text``, so every column has one type.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from axon_lab.errors import ConfigError
from axon_lab.records import StepRecord

if TYPE_CHECKING:
    from ._store import ExplainStore

__all__ = ["TABLES", "export_parquet", "export_tables"]

TABLES = ("steps", "orders", "fills", "verdicts", "llm_calls")
Engine = Literal["pandas", "polars"]


def _split(value: float | str | None) -> tuple[float, str | None]:
    if value is None:
        return math.nan, None
    if isinstance(value, str):
        return math.nan, value
    return float(value), None


def _rows(run_id: str, steps: Sequence[StepRecord]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for s in steps:
        key = {"run_id": run_id, "step": s.step}
        d, a = s.decision, s.analysis
        out["steps"].append(
            {
                **key,
                "timestamp": s.timestamp,
                "action": None if d is None else d.action.value,
                "decision_source": None if d is None else d.source.value,
                "symbol": None if d is None else d.symbol,
                "quantity": None if d is None else d.quantity,
                "order_type": None if d is None else d.order_type.value,
                "price": None if d is None else d.price,
                "confidence": None if d is None else d.confidence,
                "reason": None if d is None else d.reason,
                "analyst": None if a is None else a.analyst,
                "analysis_source": None if a is None else a.source.value,
                "equity": s.equity,
                "pnl": s.pnl,
                "n_verdicts": len(s.verdicts),
                "n_rejections": len(s.rejections),
                "n_acks": len(s.acks),
                "n_fills": len(s.fills),
                "n_llm_calls": 0 if a is None else len(a.llm_calls),
                "gate_states": json.dumps({k: v.value for k, v in s.gate_states.items()}),
                "failed_stage": s.failed_stage,
                "error": s.error,
            }
        )
        for i, v in enumerate(s.verdicts):
            limit, limit_text = _split(v.limit)
            observed, observed_text = _split(v.observed)
            out["verdicts"].append(
                {
                    **key,
                    "index": i,
                    "timestamp": v.timestamp,
                    "approved": v.approved,
                    "line": v.line.value,
                    "rule": v.rule,
                    "limit": limit,
                    "limit_text": limit_text,
                    "observed": observed,
                    "observed_text": observed_text,
                    "message": v.message,
                    "client_order_id": v.client_order_id,
                    "gate_state": v.gate_state,
                }
            )
        for k in s.acks:
            out["orders"].append(
                {
                    **key,
                    **k.model_dump(exclude={"confirm_token"}),
                    "side": k.side.value,
                    "status": k.status.value,
                }
            )
        for f in s.fills:
            out["fills"].append({**key, **f.model_dump(), "side": f.side.value})
        for i, c in enumerate(() if a is None else a.llm_calls):
            out["llm_calls"].append({**key, "index": i, **c.model_dump()})
    return out


def export_tables(
    store: ExplainStore, run_ids: str | Sequence[str], *, engine: Engine = "pandas"
) -> dict[str, Any]:
    """The runs' steps, orders, fills, verdicts and LLM calls as tables, by table name.

    Args:
        store: Where the runs are.
        run_ids: One run id or several.
        engine: ``"pandas"`` or ``"polars"``.

    Raises:
        ConfigError: For an unknown engine or no run ids.
        StoreError: If a run does not exist.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> from axon_lab.oader import make_agent
        >>> loop = make_agent(make_synthetic(300, timeframe="1h", seed=3, symbol="S"),
        ...                   store="sqlite://", run_id="exp", progress=False)
        >>> _ = loop.run(120)
        >>> tables = export_tables(loop.store, "exp")
        >>> sorted(tables), len(tables["steps"])
        (['fills', 'llm_calls', 'orders', 'steps', 'verdicts'], 120)
        >>> loop.close()
    """
    if engine not in ("pandas", "polars"):
        raise ConfigError(f"engine must be 'pandas' or 'polars', got {engine!r}")
    ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
    if not ids:
        raise ConfigError("pass at least one run id")
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for run_id in ids:
        for name, part in _rows(run_id, store.steps(run_id)).items():
            rows[name].extend(part)
    if engine == "polars":
        import polars as pl

        return {name: pl.from_pandas(_frame(name, r)) for name, r in rows.items()}
    return {name: _frame(name, r) for name, r in rows.items()}


_COLUMNS: dict[str, tuple[str, ...]] = {
    "steps": ("run_id", "step", "timestamp", "action", "equity", "pnl"),
    "orders": ("run_id", "step", "order_id", "client_order_id", "symbol", "side", "status"),
    "fills": ("run_id", "step", "fill_id", "order_id", "symbol", "side", "quantity", "price"),
    "verdicts": ("run_id", "step", "index", "approved", "line", "rule", "message"),
    "llm_calls": ("run_id", "step", "index", "model", "request_hash", "cost", "error"),
}


def _frame(name: str, rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    if not rows:  # an empty table still names its key columns
        return pd.DataFrame(columns=list(_COLUMNS[name]))
    return pd.DataFrame.from_records(rows)


def export_parquet(
    store: ExplainStore, run_ids: str | Sequence[str], folder: str | Path
) -> dict[str, Path]:
    """Write each table of :func:`export_tables` to ``folder/<table>.parquet``; return the paths.

    Raises:
        ConfigError: If ``folder`` exists and is not a directory.
        StoreError: If a run does not exist.
    """
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{str(out)!r} is a file; pass a folder for the Parquet files")
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, frame in export_tables(store, run_ids).items():
        path = out / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        paths[name] = path
    return paths
