"""The explain store: runs, steps, LLM calls, verdicts, orders and fills; SQLite or PostgreSQL."""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Self, TypeVar

from sqlalchemy import ColumnElement, and_, exists, func, insert, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from axon_lab.errors import ConfigError, StoreError
from axon_lab.explain import _schema
from axon_lab.explain._args import action_of, aware, parse_record, parse_records
from axon_lab.explain._check import find_problems
from axon_lab.explain._children import read_children, read_lists
from axon_lab.explain._engine import (
    BEGIN_OPTION,
    boundary,
    make_store_engine,
    mask_url,
    normalise_url,
)
from axon_lab.explain._info import ResumePoint, RunInfo, code_version
from axon_lab.explain._layout import check_layout, stamp_layout
from axon_lab.explain._prompts import blob_rows
from axon_lab.explain._run_id import check_run_id
from axon_lab.explain._writer import StepWriter
from axon_lab.records import (
    Action,
    Fill,
    LLMCall,
    OrderAck,
    Record,
    RiskVerdict,
    StepRecord,
    StrategyState,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_URL", "ExplainStore"]

DEFAULT_URL = "sqlite:///runs/axon.db"
"""Where runs go unless told otherwise: an SQLite file under ``./runs``."""

_R = TypeVar("_R", bound=Record)
_SCHEMA_LOCK_KEY = 0x6178_6F6E  # "axon": serialises CREATE TABLE across processes on PostgreSQL
_FRAME_COLUMNS = (
    "timestamp",
    "action",
    "source",
    "equity",
    "pnl",
    "failed",
    "n_llm_calls",
    "n_verdicts",
    "n_rejections",
    "n_acks",
    "n_fills",
)


class ExplainStore:
    """The explain store: runs and their steps, written durably, queried for explanations.

    One SQLAlchemy URL picks the database: ``sqlite:///runs/axon.db`` by default (WAL mode,
    ``synchronous=FULL``: a step survives a killed process and a power cut), or
    ``postgresql://user:password@host/db`` (psycopg 3, ``pip install 'axon-lab[postgres]'``) when
    several processes or machines share runs. Several processes may write different runs to one
    store at the same time.

    :meth:`record_step` writes a :class:`~axon_lab.records.StepRecord` with its LLM calls,
    verdicts, order acks and fills in one transaction and returns only once it is committed, so a
    loop that records each step before starting the next loses at most the step in flight. Every
    query returns records equal to those written. The store is built on SQLAlchemy Core rather than
    the ORM: the records are already frozen pydantic values, and a second, mutable, identity-mapped
    copy of them would add nothing but a place for the two to drift apart.

    Args:
        url: An SQLAlchemy URL. ``postgresql://`` selects psycopg 3. Parent directories of an
            SQLite file are created.

    Raises:
        StoreError: If the URL is unsupported, its driver is missing, or the database cannot be
            reached or initialised. The message shows the URL with its password masked.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from axon_lab.records import StepRecord
        >>> store = ExplainStore("sqlite://")  # in memory; the default is sqlite:///runs/axon.db
        >>> run = store.create_run(
        ...     {"symbol": "BTC-USD"}, run_id="demo", data_fingerprint="sha256:ab12", model="rules"
        ... )
        >>> step = StepRecord(
        ...     run_id="demo", step=0, timestamp=datetime(2024, 1, 1, tzinfo=timezone.utc),
        ...     observation_digest="d0", equity=10_000.0, pnl=0.0,
        ... )
        >>> store.record_step(step)
        >>> store.steps("demo") == [step]
        True
        >>> store.resume("demo").next_step
        1
        >>> store.close()
    """

    def __init__(self, url: str = DEFAULT_URL) -> None:
        self._url = normalise_url(url)
        self._engine = make_store_engine(self._url)
        # On SQLite, writers take the write lock up front (BEGIN IMMEDIATE) and so queue politely.
        self._writer = self._engine.execution_options(**{BEGIN_OPTION: "BEGIN IMMEDIATE"})
        self._closed = False
        self._step_writer = StepWriter(self._engine)
        try:
            with (
                boundary(self._url, "create the explain store tables"),
                self._writer.begin() as conn,
            ):
                if self._url.get_backend_name() == "postgresql":
                    lock = text("SELECT pg_advisory_xact_lock(:key)")
                    conn.execute(lock, {"key": _SCHEMA_LOCK_KEY})
                check_layout(conn, self.url)
                _schema.metadata.create_all(conn)
                stamp_layout(conn)
        except StoreError:
            self.close()
            raise

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """The store's URL, with any password masked."""
        return mask_url(self._url)

    def __repr__(self) -> str:
        return f"ExplainStore({self.url!r})"

    def close(self) -> None:
        """Close every pooled connection. The store cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            self._step_writer.close()
            self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"{self!r} is closed; open a new ExplainStore({self.url!r}).")

    # ------------------------------------------------------------------ runs

    def create_run(
        self,
        config: Mapping[str, Any],
        *,
        run_id: str | None = None,
        data_fingerprint: str,
        model: str,
        model_cutoff: date | None = None,
        code_version: str | None = None,
    ) -> RunInfo:
        """Register a new run and return its :class:`RunInfo`.

        Args:
            config: The run configuration; JSON-compatible values only.
            run_id: The run's id; a fresh ``run-<UTC time>-<random>`` id when omitted.
            data_fingerprint: A digest of the market data the run sees.
            model: The model (or rules analyst) making decisions.
            model_cutoff: The model's training cutoff, if known.
            code_version: Defaults to ``axon_lab.__version__`` plus ``git describe``.

        Returns:
            The stored run info, equal to what :meth:`runs` returns later.

        Raises:
            ConfigError: If ``config`` is not JSON-serialisable or ``run_id`` breaks the run-id
                rule (:func:`~axon_lab.explain.check_run_id`: it becomes a folder name).
            StoreError: If a run with this id already exists, or the write fails.
        """
        self._check_open()
        try:
            config_json = json.dumps(dict(config), sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise ConfigError(
                f"The run config cannot be stored as JSON ({err}); use only str, int, float "
                "(finite), bool, None, lists and dicts with string keys."
            ) from err
        if run_id is not None:
            check_run_id(run_id)
        info = RunInfo(
            run_id=run_id if run_id is not None else _new_run_id(),
            created_at=datetime.now(UTC),
            config=json.loads(config_json),
            data_fingerprint=data_fingerprint,
            model=model,
            model_cutoff=model_cutoff,
            code_version=code_version if code_version is not None else _code_version(),
        )
        with boundary(self._url, f"create run {info.run_id!r}"):
            try:
                with self._writer.begin() as conn:
                    conn.execute(
                        insert(_schema.runs).values(
                            run_id=info.run_id,
                            created_at=info.created_at,
                            data_fingerprint=info.data_fingerprint,
                            model=info.model,
                            model_cutoff=info.model_cutoff,
                            code_version=info.code_version,
                            info_json=info.to_json(),
                        )
                    )
            except sa_exc.IntegrityError as err:
                raise StoreError(
                    f"A run with id {info.run_id!r} already exists in {self.url!r}; pass another "
                    f"run_id, or continue it with store.resume({info.run_id!r})."
                ) from err
        return info

    def runs(self) -> list[RunInfo]:
        """Every run in the store, oldest first."""
        self._check_open()
        query = select(_schema.runs.c.info_json).order_by(
            _schema.runs.c.created_at, _schema.runs.c.run_id
        )
        with self._reading("list runs") as conn:
            rows = conn.execute(query).scalars().all()
        return parse_records(RunInfo, rows, "run")

    def get_run(self, run_id: str) -> RunInfo:
        """The :class:`RunInfo` of ``run_id``.

        Raises:
            StoreError: If there is no such run; the message suggests close matches.
        """
        self._check_open()
        query = select(_schema.runs.c.info_json).where(_schema.runs.c.run_id == run_id)
        with self._reading(f"read run {run_id!r}") as conn:
            found = conn.execute(query).scalar_one_or_none()
            if found is None:
                self._raise_unknown_run(conn, run_id)
        return parse_record(RunInfo, found, f"run {run_id!r}")

    # ------------------------------------------------------------------ writing steps

    def record_step(self, step: StepRecord, *, blobs: Mapping[str, str] | None = None) -> None:
        """Write one step and its child records in a single transaction; return once committed.

        ``blobs`` are texts the step refers to by SHA-256 (its LLM calls' request parts, its
        observation): each is stored once per run, compressed, in the same transaction.

        Recording the same step again is a no-op when its JSON is byte-identical, so a loop that
        crashed between committing and reporting a step can safely record it again.

        Args:
            step: The step to write. Its run must exist (see :meth:`create_run`).
            blobs: Texts the step refers to, by SHA-256 (see above).

        Raises:
            ConfigError: If ``step`` is not a :class:`~axon_lab.records.StepRecord`.
            StoreError: If the run does not exist, the step is already recorded with different
                content, or the write fails.
        """
        self._check_open()
        if not isinstance(step, StepRecord):
            raise ConfigError(
                f"record_step() takes a StepRecord, got {type(step).__name__}: {step!r}."
            )
        record_json = step.to_json()
        action = f"record step {step.step} of run {step.run_id!r}"
        with boundary(self._url, action):
            try:
                self._step_writer.commit(step, record_json, blob_rows(step.run_id, blobs or {}))
            except sa_exc.IntegrityError as err:
                self._resolve_conflict(step, record_json, err)

    def _resolve_conflict(self, step: StepRecord, record_json: str, err: Exception) -> None:
        steps = _schema.steps
        query = select(steps.c.record_json).where(
            steps.c.run_id == step.run_id, steps.c.step == step.step
        )
        with self._engine.connect() as conn:
            existing = conn.execute(query).scalar_one_or_none()
            if existing == record_json:
                return
            if existing is not None:
                raise StoreError(
                    f"Step {step.step} of run {step.run_id!r} is already recorded with different "
                    f"content (stored digest {_sha256(existing)[:12]}, "
                    f"new {step.digest()[:12]}); recorded steps never change. Continue the run "
                    f"from store.resume({step.run_id!r}).next_step, or record into a new run."
                ) from err
            self._raise_unknown_run(conn, step.run_id)
        raise StoreError(
            f"Could not record step {step.step} of run {step.run_id!r}: {err}"
        ) from err

    # ------------------------------------------------------------------ querying steps

    def steps(
        self,
        run_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        action: Action | str | None = None,
        rejected_rule: str | None = None,
    ) -> list[StepRecord]:
        """The steps of a run, in step order, optionally filtered.

        Args:
            run_id: The run.
            start: Keep steps stamped at or after this (timezone-aware) time.
            end: Keep steps stamped strictly before this time, so windows tile without overlap.
            action: Keep steps whose decision (or, without one, analysis) proposed this action.
            rejected_rule: Keep steps in which this risk rule rejected an order.

        Returns:
            The matching steps, equal to what was recorded.

        Raises:
            ConfigError: If a time is naive or the action is unknown.
            StoreError: If the run does not exist or the read fails.
        """
        self._check_open()
        steps, rejections = _schema.steps, _schema.rejections
        conditions: list[ColumnElement[bool]] = [steps.c.run_id == run_id]
        if start is not None:
            conditions.append(steps.c.timestamp >= aware("start", start))
        if end is not None:
            conditions.append(steps.c.timestamp < aware("end", end))
        if action is not None:
            conditions.append(steps.c.action == action_of(action).value)
        if rejected_rule is not None:
            conditions.append(
                exists().where(
                    rejections.c.run_id == steps.c.run_id,
                    rejections.c.step == steps.c.step,
                    rejections.c.rule == rejected_rule,
                )
            )
        query = select(steps.c.record_json).where(and_(*conditions)).order_by(steps.c.step)
        with self._reading(f"query steps of run {run_id!r}") as conn:
            self._require_run(conn, run_id)
            rows = conn.execute(query).scalars().all()
        return parse_records(StepRecord, rows, f"step of run {run_id!r}")

    def last_step(self, run_id: str) -> StepRecord | None:
        """The run's highest-numbered step, or ``None`` if it has none yet.

        Raises:
            StoreError: If the run does not exist or the read fails.
        """
        self._check_open()
        with self._reading(f"read the last step of run {run_id!r}") as conn:
            self._require_run(conn, run_id)
            return self._last_step(conn, run_id)

    def _last_step(self, conn: Connection, run_id: str) -> StepRecord | None:
        steps = _schema.steps
        query = (
            select(steps.c.record_json)
            .where(steps.c.run_id == run_id)
            .order_by(steps.c.step.desc())
            .limit(1)
        )
        found = conn.execute(query).scalar_one_or_none()
        return None if found is None else parse_record(StepRecord, found, f"step of run {run_id!r}")

    def strategy_state(self, run_id: str) -> StrategyState:
        """What the recorder knows about the strategy: step count, last action, cumulative PnL.

        ``last_action`` is the action of the highest-numbered step (``None`` if that step had
        neither decision nor analysis); ``cumulative_pnl`` is the sum of every step's ``pnl``.

        Raises:
            StoreError: If the run does not exist or the read fails.
        """
        self._check_open()
        with self._reading(f"read the state of run {run_id!r}") as conn:
            self._require_run(conn, run_id)
            return self._strategy_state(conn, run_id)

    def _strategy_state(self, conn: Connection, run_id: str) -> StrategyState:
        steps = _schema.steps
        query = (
            select(steps.c.action, steps.c.pnl)
            .where(steps.c.run_id == run_id)
            .order_by(steps.c.step)
        )
        rows = conn.execute(query).all()
        if not rows:
            return StrategyState()
        last_action = rows[-1].action
        return StrategyState(
            step_count=len(rows),
            last_action=None if last_action is None else Action(last_action),
            cumulative_pnl=math.fsum(row.pnl for row in rows),
        )

    def resume(self, run_id: str) -> ResumePoint:
        """Where to continue ``run_id``: the next step index and the state after the last step.

        Raises:
            StoreError: If the run does not exist or the read fails.

        Examples:
            >>> with ExplainStore("sqlite://") as store:
            ...     _ = store.create_run({}, run_id="r", data_fingerprint="-", model="rules")
            ...     store.resume("r").next_step
            0
        """
        self._check_open()
        with self._reading(f"read where run {run_id!r} stopped") as conn:
            self._require_run(conn, run_id)
            last = self._last_step(conn, run_id)
            state = self._strategy_state(conn, run_id)
        return ResumePoint(
            run_id=run_id,
            next_step=0 if last is None else last.step + 1,
            last_timestamp=None if last is None else last.timestamp,
            last_equity=None if last is None else last.equity,
            state=state,
        )

    # ------------------------------------------------------------------ child records

    def rejections(self, run_id: str, rule: str | None = None) -> list[RiskVerdict]:
        """The run's rejecting verdicts in step order, optionally only those of ``rule``.

        Raises:
            StoreError: If the run does not exist or the read fails.
        """
        rejections = _schema.rejections
        conditions = [] if rule is None else [rejections.c.rule == rule]
        return self._read_records(
            RiskVerdict, run_id, lambda conn: read_children(conn, rejections, run_id, conditions)
        )

    def verdicts(self, run_id: str) -> list[RiskVerdict]:
        """Every risk verdict of the run, approvals included, in step order."""
        return self._list("verdicts", RiskVerdict, run_id)

    def llm_calls(self, run_id: str) -> list[LLMCall]:
        """Every LLM call of the run, in step order."""
        return self._list("llm_calls", LLMCall, run_id)

    def orders(self, run_id: str) -> list[OrderAck]:
        """Every order acknowledgement of the run, in step order."""
        return self._list("acks", OrderAck, run_id)

    def fills(self, run_id: str) -> list[Fill]:
        """Every fill of the run, in step order."""
        return self._list("fills", Fill, run_id)

    def _list(self, name: str, kind: type[_R], run_id: str) -> list[_R]:
        return self._read_records(kind, run_id, lambda conn: read_lists(conn, name, run_id))

    def _read_records(
        self,
        kind: type[_R],
        run_id: str,
        read: Callable[[Connection], tuple[list[str], str | None]],
    ) -> list[_R]:
        """Parse the records ``read`` finds (it also says what is damaged, if anything)."""
        self._check_open()
        label = f"{kind.__name__} of run {run_id!r}"
        with self._reading(f"query {label}") as conn:
            self._require_run(conn, run_id)
            texts, damage = read(conn)
        if damage is not None:
            raise StoreError(
                f"{damage}; the store was edited by hand or damaged. "
                f"store.check_run({run_id!r}) lists the broken steps."
            )
        return parse_records(kind, texts, label)

    # ------------------------------------------------------------------ views and checks

    def to_frame(self, run_id: str) -> pd.DataFrame:
        """The run's steps as a pandas DataFrame indexed by step.

        Columns: ``timestamp`` (UTC), ``action``, ``source``, ``equity``, ``pnl``, ``failed`` and
        the per-step counts ``n_llm_calls``, ``n_verdicts``, ``n_rejections``, ``n_acks``,
        ``n_fills``.

        Raises:
            StoreError: If the run does not exist or the read fails.
        """
        import pandas as pd

        self._check_open()
        steps = _schema.steps
        query = (
            select(steps.c.step, *(steps.c[name] for name in _FRAME_COLUMNS))
            .where(steps.c.run_id == run_id)
            .order_by(steps.c.step)
        )
        with self._reading(f"read steps of run {run_id!r}") as conn:
            self._require_run(conn, run_id)
            rows = [tuple(row) for row in conn.execute(query)]
        frame = pd.DataFrame.from_records(rows, columns=["step", *_FRAME_COLUMNS])
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        return frame.set_index("step")

    def check_run(self, run_id: str) -> list[str]:
        """Verify that every stored step of ``run_id`` is whole; return the problems found.

        For each step: its JSON parses, matches its digest, its stored counts match its LLM calls,
        verdicts, acks and fills, and its rejections are exactly the rejection rows stored beside
        it. An empty list means the run is sound, e.g. after a crash.

        Raises:
            StoreError: If the run does not exist or the read fails.
        """
        with self._reading(f"check run {run_id!r}") as conn:
            self._require_run(conn, run_id)
            return find_problems(conn, run_id)

    # ------------------------------------------------------------------ helpers

    @contextmanager
    def _reading(self, action: str) -> Iterator[Connection]:
        """A connection in one read transaction (one consistent snapshot), errors mapped."""
        self._check_open()
        with boundary(self._url, action), self._engine.begin() as conn:
            yield conn

    def _require_run(self, conn: Connection, run_id: str) -> None:
        query = select(func.count()).where(_schema.runs.c.run_id == run_id)
        if not conn.execute(query).scalar_one():
            self._raise_unknown_run(conn, run_id)

    def _raise_unknown_run(self, conn: Connection, run_id: str) -> NoReturn:
        known = conn.execute(select(_schema.runs.c.run_id)).scalars().all()
        close = difflib.get_close_matches(run_id, known, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise StoreError(
            f"No run {run_id!r} in the explain store at {self.url!r}.{hint} Create it with "
            "store.create_run(...), or list the stored runs with store.runs()."
        )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _new_run_id() -> str:
    return f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def _code_version() -> str:
    return code_version()
