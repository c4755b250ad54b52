"""Fuzzing what comes from outside (issue 15): model answers, tool-call arguments, data files and
run ids.

The invariant, for every input: the run either continues with a recorded abstention or rejection,
or stops with one of axon_lab's own errors (an :class:`~axon_lab.errors.AxonError` whose cause, if
any, is one too), and nothing is written outside the run's folder. The oracles are written from
the inputs (``json`` with a raised recursion limit, path arithmetic), not from axon_lab's code.

The default profile keeps this to a few seconds per test; ``HYPOTHESIS_PROFILE=thorough`` digs.
"""

from __future__ import annotations

import json
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from axon_lab.cli import app
from axon_lab.data import DataRepairWarning, load_ohlcv, make_synthetic
from axon_lab.errors import AxonError, LLMToolCallError, StageError
from axon_lab.explain import run_folder
from axon_lab.llm import ScriptedClient, check_tool_call, make_response
from axon_lab.oader import make_agent
from axon_lab.records import AnalysisSource, ToolCall

FRAME = make_synthetic(80, timeframe="1h", start="2024-01-01", seed=7, symbol="FUZ")
FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_market_data",
            "parameters": {"type": "object", "required": ["symbol"]},
        },
    }
]

# ---------------------------------------------------------------- strategies

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
analysis_like = st.fixed_dictionaries(
    {
        "thought": st.text(max_size=50),
        "market_assessment": st.sampled_from(["uptrend", "downtrend", "range", "UP", ""]),
        "risk_assessment": st.sampled_from(["low", "medium", "high", "extreme"]),
        "confidence": st.one_of(st.floats(-1, 2), st.text(max_size=5), st.none()),
        "action": st.sampled_from(["buy", "sell", "hold", "short", "BUY"]),
        "reason": st.text(max_size=50),
    }
)
depths = st.one_of(st.sampled_from([65, 1_500, 100_000]), st.integers(40, 20_000))
deep = st.tuples(depths, st.sampled_from(["[", '{"a":', '{"a":['])).map(lambda t: t[1] * t[0])
control = st.text(alphabet=st.characters(max_codepoint=0x2070), max_size=200)
answers = st.one_of(
    st.text(max_size=300),
    control,
    json_value.map(json.dumps),
    analysis_like.map(json.dumps),
    analysis_like.map(lambda d: f"Sure!\n```json\n{json.dumps(d)}\n```\nanything else?"),
    deep,
    deep.map(lambda d: '{"thought": "' + d + '"'),
    st.integers(10_000, 300_000).map(lambda n: "x" * n),
)
arguments = st.one_of(
    st.text(max_size=200), json_value.map(json.dumps), deep, st.just(""), st.just("{}" * 3000)
)


def _own_error(exc: BaseException) -> bool:
    """An axon_lab error; for a StageError, the stage's own error must be one too.

    A foreign error mapped at a boundary (``raise DataError(...) from ParserError``) is fine; a
    stage that raised a foreign error (a RecursionError from a hostile answer) is not.
    """
    if not isinstance(exc, AxonError):
        return False
    if isinstance(exc, StageError):
        return isinstance(exc.__cause__, AxonError)
    return True


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@contextmanager
def _deep_recursion() -> Iterator[None]:
    """Room for the oracle's json.loads on inputs the code under test must refuse."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 100_000))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _run_and_check(
    loop: Any, steps: int, sources: tuple[AnalysisSource, ...] = (AnalysisSource.LLM,)
) -> None:
    stopped: AxonError | None = None
    try:
        loop.run(steps)
    except AxonError as exc:
        stopped = exc
    assert stopped is None or _own_error(stopped), repr(stopped.__cause__)
    for record in loop.store.steps(loop.run_id):
        if record.failed_stage is not None:
            assert record.error is not None
            continue
        assert record.analysis is not None
        assert record.analysis.source in (*sources, AnalysisSource.ABSTAIN)
        for call in record.analysis.llm_calls:
            assert len(call.raw_response) <= 32_000


# ---------------------------------------------------------------- model answers


@FUZZ
@given(answer=answers, tool_first=st.booleans(), on_error=st.sampled_from(["stop", "abstain"]))
def test_any_model_answer_is_an_analysis_or_a_recorded_abstention(
    answer: str, tool_first: bool, on_error: str
) -> None:
    def reply(request: Any) -> Any:
        if tool_first and request.tools is not None and len(request.messages) == 2:
            call = ToolCall(name="get_market_data", arguments=answer[:5000], call_id="c")
            return make_response(answer[:200], tool_calls=[call])
        return make_response(answer)

    loop = make_agent(
        FRAME,
        analyst=ScriptedClient(reply),
        store="sqlite://",
        run_id="fuzz",
        progress=False,
        on_error=on_error,  # type: ignore[arg-type]
        max_iterations=1,
    )
    try:
        _run_and_check(loop, 2)
        records = loop.store.steps("fuzz")
        assert records, "the first step is always recorded"
        assert all(r.failed_stage is None for r in records)  # hostile text never fails a stage
    finally:
        loop.close()


# ---------------------------------------------------------------- tool-call arguments


@FUZZ
@given(args=arguments, name=st.sampled_from(["get_market_data", "get_market_dat", "rm -rf"]))
def test_any_tool_call_is_parsed_or_refused_with_a_tool_call_error(args: str, name: str) -> None:
    call = ToolCall(name=name, arguments=args)
    try:
        parsed = check_tool_call(call, TOOLS)
    except LLMToolCallError:
        return
    with _deep_recursion():
        expected = json.loads(args or "{}")
    assert name == "get_market_data"
    assert parsed == expected
    assert isinstance(expected, dict)
    assert "symbol" in expected
    assert _depth(expected) <= 64
    assert len(args) <= 4_000


# ---------------------------------------------------------------- data files

header = st.sampled_from(
    [
        "timestamp,open,high,low,close,volume",
        "Date,Open,High,Low,Close,Volume",
        "time,o,h,l,c,v,symbol",
        "timestamp,open,high,low,close",
        "a;b;c",
        "",
    ]
)
cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(
        ["", "NaN", "9999-12-31", "1500-01-01T00:00", "2024-01-01 00:00:00+00:00", "BTC USD"]
    ),
    st.text(alphabet=st.characters(max_codepoint=0x7F, blacklist_characters=",\n\r"), max_size=8),
)
rows = st.one_of(
    st.just([]),
    st.lists(st.lists(cell, min_size=6, max_size=6).map(",".join), max_size=3),
    st.lists(st.lists(cell, min_size=1, max_size=7).map(",".join), max_size=12),
)
file_names = st.text(
    alphabet=st.characters(max_codepoint=0x24F, blacklist_characters="/\\\x00"),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in (".", ".."))


def _valid_rows(n: int) -> list[str]:
    frame = FRAME.iloc[:n]
    return [
        f"{t.isoformat()},{r.open},{r.high},{r.low},{r.close},{r.volume}"
        for t, r in zip(frame.index, frame.itertuples(), strict=True)
    ]


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    """A file of real bars with a few cells corrupted and junk rows added (or a junk file)."""
    head = draw(st.one_of(st.just("timestamp,open,high,low,close,volume"), header))
    lines = _valid_rows(draw(st.integers(0, 60))) if head.startswith("timestamp,open") else []
    for _ in range(draw(st.integers(0, 3)) if lines else 0):
        i = draw(st.integers(0, len(lines) - 1))
        cells = lines[i].split(",")
        cells[draw(st.integers(0, len(cells) - 1))] = draw(cell)
        lines[i] = ",".join(cells)
    return "\n".join([head, *lines, *draw(rows)]) + "\n"


@settings(FUZZ, max_examples=60)
@given(
    text=csv_texts(),
    name=st.one_of(st.just("BTC-USD"), st.just("eth_usd.v1"), file_names),
    suffix=st.sampled_from([".csv", ".CSV", ".txt", ""]),
)
def test_any_data_file_loads_and_runs_or_is_a_data_error(text: str, name: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}{suffix}"
        try:
            path.write_text(text, encoding="utf-8")
        except OSError:
            return  # a name this file system refuses is not axon_lab's input
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataRepairWarning)  # the report is the record
            refused: AxonError | None = None
            try:
                frame = load_ohlcv(path)
            except AxonError as exc:
                refused = exc
            if refused is not None:
                event(f"refused: {str(refused).split(': ')[1][:20]}")
                assert _own_error(refused)
                return
            event("loaded")
            loop = make_agent(frame, store="sqlite://", run_id="data", progress=False)
            try:
                _run_and_check(loop, 2, sources=(AnalysisSource.RULES,))
            finally:
                loop.close()


# ---------------------------------------------------------------- run ids

runner = CliRunner()
run_ids = st.one_of(
    st.text(max_size=20),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True),
    st.sampled_from(["../x", "..", "/tmp/axon-fuzz-escape", "a/../../b", "C:\\x", "~", "."]),
    st.lists(st.sampled_from(["..", "a", "/", "\\", "."]), max_size=6).map("".join),
)


@settings(FUZZ, max_examples=15)
@given(run_id=run_ids)
def test_any_run_id_runs_inside_its_folder_or_is_refused(run_id: str) -> None:
    event("ran" if _demo_in_sandbox(run_id) == 0 else "refused")


@pytest.mark.parametrize("run_id", ["../escape", "/abs", "ok-id"])
def test_the_fuzzed_property_holds_for_known_ids(run_id: str) -> None:
    assert _demo_in_sandbox(run_id) == (0 if run_id == "ok-id" else 2)


def _demo_in_sandbox(run_id: str) -> int:
    """Run the demo with ``run_id`` in a fresh folder; check where it wrote; return its exit."""
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Path(tmp)
        data = sandbox / "in" / "bars.csv"
        data.parent.mkdir()
        FRAME.iloc[:60].rename_axis("timestamp").to_csv(data)
        out = sandbox / "a" / "b" / "runs"
        before = {p for p in sandbox.rglob("*") if p.is_file()}
        result = runner.invoke(
            app,
            [
                *("demo", "--steps", "2", "--no-progress", "--out", str(out), "--data", str(data)),
                *("--run-id", run_id),
            ],
        )
        written = {p for p in sandbox.rglob("*") if p.is_file()} - before
        # oracle: every new file lies under `out`, and a report only in out/<id>
        assert all(out in p.parents for p in written), sorted(map(str, written))
        if result.exit_code == 0:
            report = out / run_id / "report.html"
            assert report in written
            assert report.parent.parent == out
            assert run_folder(out, run_id) == report.parent
        else:
            assert result.exit_code == 2, result.output
            assert "error:" in result.output
    assert not Path("/tmp/axon-fuzz-escape").exists()
    return result.exit_code
