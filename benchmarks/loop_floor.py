"""The floor under the loop: one OADER step's required work, hand-written with no framework.

The peer of ``loop_overhead.py``. Each step does what a step of the benchmarked loop must do, on
the same data and with the same libraries, but as one flat function over plain dicts and numpy
arrays: no stages, protocols, records, tools or callbacks. What it does per step:

* observe: the last 20 complete bars (numpy slice) and the bar-close features (precomputed, as
  the MarketView precomputes them), the portfolio from two floats;
* analyse: the prompt text (the 20 bars, features, portfolio), the request's cache key (SHA-256
  of its JSON, keys in a fixed order), the same scripted answer text, parsed and checked in
  plain Python;
* decide: an ATR-stop, risk-sized limit order with stop loss and take profit;
* execute: the order's JSON arguments (the tool interface an LLM call uses) dumped and parsed
  back, seven risk checks each giving a verdict dict, then the same compiled kernels the sim
  backend calls: ``submit_orders_nb`` at the decision bar and ``fill_range_nb`` over the next;
* record: the step as JSON (analysis, LLM call, decision, seven verdicts, ack, fills), its
  SHA-256, and one committed SQLite transaction into the explain store's own tables (the same
  DDL, pragmas, rows and indexes: the step row, and a row per rejecting verdict); and what the
  model saw, kept by content as the record must keep it: the observation as JSON (its bars,
  features and portfolio) and the prompt, each under its SHA-256, zlib-compressed (level 1, a
  4 KiB window) and inserted into ``axon_blobs`` once per run (the system prompt once, the rest
  each step).

JSON is written and read with pydantic-core's Rust codec (``to_json``/``from_json``, 3-4x the
standard library here) and a bar's prompt line is formatted once, when the bar completes: the
floor is what a careful hand-written loop would cost, not a naive one.

What it leaves out is what the framework adds: validated records, the tool registry, the risk
chain's objects, the backend's order book, the LLM client's layers, callbacks. The ratio
``loop / floor`` is the framework's cost over the work itself. It is a floor for a Python
implementation of this design, not a second implementation: nothing here is reusable.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import sqlite3
import statistics
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic_core import from_json, to_json
from sqlalchemy import create_engine

from axon_lab.backtest import _kernels as k
from axon_lab.backtest import fill_range_nb, init_state_nb, make_params, submit_orders_nb
from axon_lab.explain import _schema

FILL_RANGE: Callable[..., int] = fill_range_nb  # typed views of the numba dispatchers
SUBMIT: Callable[..., int] = submit_orders_nb
LOOKBACK = 20
RULES = (
    ("safety_mode", "safety_mode"),
    ("max_order_value", "limit"),
    ("max_position_value", "limit"),
    ("max_daily_orders", "limit"),
    ("cash", "limit"),
    ("rejection_breaker", "gate"),
    ("drawdown_breaker", "gate"),
)
ACTIONS = {"buy", "sell", "hold"}
TRENDS = {"uptrend", "downtrend", "range"}
RISKS = {"low", "medium", "high"}


def _atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int = 14) -> np.ndarray:
    prev = np.concatenate([[close[0]], close[:-1]])
    tr = np.maximum(high - low, np.maximum(abs(high - prev), abs(low - prev)))
    return pd.Series(tr).ewm(alpha=1 / n, adjust=False).mean().to_numpy()


def _rsi(close: np.ndarray, n: int = 14) -> np.ndarray:
    delta = np.diff(close, prepend=close[0])
    up = pd.Series(np.clip(delta, 0, None)).ewm(alpha=1 / n, adjust=False).mean()
    down = pd.Series(np.clip(-delta, 0, None)).ewm(alpha=1 / n, adjust=False).mean()
    return (100 - 100 / (1 + up / down.replace(0, np.nan))).fillna(50).to_numpy()


def _store(path: Path) -> sqlite3.Connection:
    for suffix in ("", "-wal", "-shm"):  # a fresh store each run
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{path}")
    _schema.metadata.create_all(engine)  # the explain store's tables and indexes
    engine.dispose()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(
        "INSERT INTO axon_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
        ("floor", "2020-01-01 00:00:00.000000", "", "scripted", None, "", "{}"),
    )
    return db


def _insert(table: str, n: int) -> str:
    return f"INSERT INTO {table} VALUES ({', '.join('?' * n)})"


def run_floor(
    frame: pd.DataFrame,
    steps: int,
    start: int,
    folder: Path,
    answer: Any,
    stages: dict[str, list[float]] | None = None,
) -> list[float]:
    """Run ``steps`` floor steps from bar ``start``; returns each step's wall time in us.

    ``stages``, if given, receives each stage's time per step in us, under the loop's stage
    names (observe, analyze, decide, execute, record).
    """
    laps: dict[str, list[float]] = stages if stages is not None else {}
    for name in ("observe", "analyze", "decide", "execute", "record"):
        laps.setdefault(name, [])
    o, h, lo, c, v = (frame[col].to_numpy() for col in ("open", "high", "low", "close", "volume"))
    iso = [t.isoformat() for t in frame.index]
    stamps = [t.strftime("%Y-%m-%d %H:%M:%S.%f") for t in frame.index]
    atr, rsi = _atr(h, lo, c), _rsi(c)
    o2, h2, lo2, c2 = (np.ascontiguousarray(a.reshape(-1, 1)) for a in (o, h, lo, c))
    params = make_params(fees=0.0)
    state = init_state_nb(1, 1e9)
    block = state[0:1]
    types = np.empty(1, dtype=np.int64)
    size_a, level_a, sl_a, tp_a = (np.empty(1) for _ in range(4))
    sub_records = np.empty((2, k.N_REC))
    empty2 = np.empty((0, 0))
    no_orders = (*[np.empty(0, dtype=np.int64)] * 3, *[np.empty(0)] * 4)
    db = _store(folder / "floor.db")
    cur = db.cursor()
    sql = {"steps": _insert("axon_steps", 15), "rejections": _insert("axon_rejections", 7)}
    sql["blobs"] = _insert("axon_blobs", 4) + " ON CONFLICT DO NOTHING"
    kept: set[str] = set()  # blobs stored in this run
    system = "You are a trading analyst. Answer with one JSON object: thought, market_assessment..."
    cash, position, equity, day_orders, n_orders = 1e9, 0.0, 1e9, 0, 0
    rows = np.column_stack([o, h, lo, c, v]).tolist()
    lines: dict[int, str] = {}
    times = []
    for step in range(steps):
        t0 = time.perf_counter()
        i = start + step  # bars [0, i) are complete at the decision time
        # observe
        close, a_i, r_i = c[i - 1].item(), atr[i - 1].item(), rsi[i - 1].item()
        t1 = time.perf_counter()
        # analyse: a bar's prompt line is made once, when it completes (consecutive prompts
        # share all but one bar)
        for j in range(i - LOOKBACK, i):
            if j not in lines:
                b, hh, ll, cc, vv = rows[j]
                lines[j] = f"{iso[j]} o={b:.6g} h={hh:.6g} l={ll:.6g} c={cc:.6g} v={vv:.6g}"
        lines.pop(i - LOOKBACK - 1, None)
        prompt = (
            f"time {iso[i]} symbol SYN timeframe 1h\nbars:\n"
            + "\n".join([lines[j] for j in range(i - LOOKBACK, i)])
            + f"\nfeatures: atr_14={a_i:.6g} rsi_14={r_i:.6g}\n"
            f"portfolio: cash={cash:.2f} equity={equity:.2f} position={position:.6g}\n"
            f"state: step={step} orders={n_orders}"
        )
        request = {
            "model": "scripted",
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": prompt},
            ],
            "params": {"temperature": 0.0, "max_tokens": 300},
        }
        key = hashlib.sha256(to_json(request)).hexdigest()  # (keys in a fixed order)
        text = answer(request)
        ans = from_json(text)
        if not (
            ans["action"] in ACTIONS
            and ans["market_assessment"] in TRENDS
            and ans["risk_assessment"] in RISKS
            and 0.0 <= float(ans["confidence"]) <= 1.0
            and isinstance(ans["thought"], str)
            and isinstance(ans["reason"], str)
        ):
            raise ValueError(f"bad answer {text!r}")
        t2 = time.perf_counter()
        # decide
        side = 1.0 if ans["action"] == "buy" else -1.0
        stop_dist = 2.0 * a_i
        qty = math.floor(0.01 * equity / stop_dist * 1e6) / 1e6
        price = close
        decision = {
            "action": ans["action"], "symbol": "SYN", "quantity": qty, "order_type": "limit",
            "price": price, "stop_loss": price - side * stop_dist,
            "take_profit": price + side * 2 * stop_dist, "reason": ans["reason"],
            "confidence": ans["confidence"], "source": "llm",
        }  # fmt: skip
        t3 = time.perf_counter()
        # execute: the tool's JSON interface, the risk checks, the kernels
        args = from_json(to_json({k_: decision[k_] for k_ in ("symbol", "quantity", "price")}))
        value = args["quantity"] * args["price"]
        observed = (0.0, value, abs(position * close + side * value), day_orders, value, 0, 0.0)
        limits = (1.0, 1e12, 1e12, 1e9, cash, 5, 0.5)
        verdicts = []
        for (rule, line), seen, limit in zip(RULES, observed, limits, strict=True):
            ok = seen <= limit
            verdicts.append({
                "approved": ok, "line": line, "rule": rule, "limit": limit, "observed": seen,
                "message": f"{rule}: {seen:.6g} <= {limit:.6g}", "client_order_id": f"c{step}",
                "timestamp": iso[i],
            })  # fmt: skip
        types[0] = k.OT_LIMIT
        size_a[0], level_a[0] = side * qty, price
        sl_a[0], tp_a[0] = decision["stop_loss"], decision["take_profit"]
        SUBMIT(state, 0, i - 1, close, types, size_a, level_a, sl_a, tp_a, params, sub_records)
        records = np.empty((6, k.N_REC))
        m = FILL_RANGE(
            o2, h2, lo2, c2, empty2, k.K_SIGNAL, *no_orders, params, block,
            i, i + 1, empty2, empty2, empty2, records, empty2,
        )  # fmt: skip
        n_orders += 1  # noqa: SIM113 (every step sends one order here; it counts orders)
        day_orders = (day_orders + 1) % 24
        order_id = f"sim-{n_orders}"
        ack = {
            "order_id": order_id, "client_order_id": f"c{step}", "symbol": "SYN",
            "side": "buy" if side > 0 else "sell", "status": "accepted", "quantity": qty,
            "timestamp": iso[i],
        }  # fmt: skip
        fills = []
        for j, r in enumerate(records[:m].tolist()):
            fills.append({
                "fill_id": f"{order_id}-fill-{j}", "order_id": order_id, "symbol": "SYN",
                "side": "buy" if r[k.R_SIZE] > 0 else "sell", "quantity": abs(r[k.R_SIZE]),
                "price": r[k.R_PRICE], "fee": r[k.R_FEE], "timestamp": iso[i + 1],
            })  # fmt: skip
        cash = state[0, k.S_CASH].item()
        position = state[0, k.S_POS].item()
        equity = cash + position * c[i].item()
        t4 = time.perf_counter()
        # record
        call = {
            "model": "scripted", "request_hash": key, "tokens_in": len(prompt) // 4,
            "tokens_out": len(text) // 4, "latency_s": 0.0, "cost": 0.0, "cache_hit": False,
            "response": text,
        }  # fmt: skip
        record = {
            "run_id": "floor", "step": step, "timestamp": iso[i],
            "analysis": {**ans, "reasoning_steps": [], "llm_calls": [call], "source": "llm"},
            "decision": decision, "verdicts": verdicts, "acks": [ack], "fills": fills,
            "equity": equity, "pnl": 0.0, "failed_stage": None, "error": None,
        }  # fmt: skip
        record_bytes = to_json(record)
        digest = hashlib.sha256(record_bytes).hexdigest()
        record_json = record_bytes.decode()
        observation = {
            "timestamp": iso[i], "symbols": ["SYN"], "timeframe": "1h",
            "bars": {"SYN": [
                {"timestamp": iso[j], "open": rows[j][0], "high": rows[j][1], "low": rows[j][2],
                 "close": rows[j][3], "volume": rows[j][4]}
                for j in range(i - LOOKBACK, i)
            ]},
            "features": {"SYN": {"atr_14": a_i, "rsi_14": r_i}},
            "portfolio": {"cash": cash, "equity": equity, "positions": {"SYN": position}},
        }  # fmt: skip
        blobs = []
        for text in (system, prompt, to_json(observation)):
            raw = text.encode() if isinstance(text, str) else text
            key = hashlib.sha256(raw).hexdigest()
            if key not in kept:
                kept.add(key)
                packer = zlib.compressobj(1, zlib.DEFLATED, 12, 4)  # small blobs, small window
                blobs.append(("floor", key, len(raw), packer.compress(raw) + packer.flush()))
        when = stamps[i]
        cur.execute("BEGIN IMMEDIATE")
        cur.execute(
            sql["steps"],
            ("floor", step, when, ans["action"], "llm", equity, 0.0, 0, 1, 7, 0, 1, len(fills),
             digest, record_json),
        )  # fmt: skip
        rejected = [
            ("floor", step, j, x["line"], x["rule"], x["client_order_id"], when)
            for j, x in enumerate(verdicts)
            if not x["approved"]
        ]
        if rejected:
            cur.executemany(sql["rejections"], rejected)
        cur.executemany(sql["blobs"], blobs)
        cur.execute("COMMIT")
        t5 = time.perf_counter()
        times.append((t5 - t0) * 1e6)
        for name, a, b in (
            ("observe", t0, t1), ("analyze", t1, t2), ("decide", t2, t3),
            ("execute", t3, t4), ("record", t4, t5),
        ):  # fmt: skip
            laps[name].append((b - a) * 1e6)
    db.close()
    return times


def main() -> None:
    import tempfile

    from axon_lab.data import make_synthetic

    frame = make_synthetic(3_100, timeframe="1h", start="2020-01-01", seed=7)
    counter = itertools.count()

    def answer(request: Any) -> str:
        j = next(counter)
        return json.dumps({
            "thought": "scripted", "market_assessment": "uptrend" if j % 2 == 0 else "downtrend",
            "risk_assessment": "low", "confidence": 0.8, "action": "buy" if j % 2 == 0 else "sell",
            "reason": "benchmark",
        })  # fmt: skip

    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as d:
        times = run_floor(frame, 3_000, 60, Path(d), answer)
    print(f"floor_us_per_step={statistics.median(times):.0f}")


if __name__ == "__main__":
    main()
