"""The explain store's tables (SQLAlchemy Core), identical on SQLite and PostgreSQL.

A step's full JSON (``axon_steps.record_json``) is the one source of truth, and what queries
hand back, so a record read from the store equals the one written. It holds the step's LLM calls,
verdicts, acks and fills too, and they are read back from it: SQLite walks the lists in the
database (``json_each``), PostgreSQL's steps are parsed in Python (its JSON operators refuse text
holding an escaped NUL, which a record may contain). :data:`LISTS` says where each list sits and
which ``steps`` column counts it.

Rows exist only for what a query filters on. ``steps`` carries the run, step, time, action and
the per-list counts (``n_*``), all indexed or cheap to scan per run. Rejections are looked up
by rule, so each rejecting verdict also has a row in ``axon_rejections`` (``run_id``, ``step``,
``idx`` is the verdict's position in the step's list, :data:`CHILD_PATHS`) with its line and rule
copied to be indexed; its record is read back from the step's JSON, never from a second copy.

Why so few rows: a step is committed before the next one starts, so the B-tree pages a commit
touches are the loop's cost. A row per LLM call, verdict, ack and fill (layout 2) wrote ten rows
into four tables and their indexes for an accepted order, for lists nothing filters on; the
step row alone is a third of that commit's time.

The rejection rows are written in the step's transaction, so after any crash the counts, the
rows and the JSON agree; :meth:`ExplainStore.check_run <axon_lab.explain.ExplainStore.check_run>`
verifies it.

:data:`LAYOUT` names this layout; the store refuses a database written with another one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

__all__ = [
    "CHILD_PATHS",
    "CHILD_TABLES",
    "LAYOUT",
    "LISTS",
    "KeyText",
    "UTCDateTime",
    "key_text",
    "meta",
    "metadata",
    "rejections",
    "runs",
    "steps",
]


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so naive UTC is stored there and
    UTC is attached again on the way out. Either way the values sort and compare in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC (naive UTC for SQLite)."""
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return the stored datetime as an aware UTC datetime."""
        if value is None:
            return None
        stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=UTC)
        return stamp.astimezone(UTC)


def key_text(value: str) -> str:
    """``value`` as a :class:`KeyText` column stores it: NUL characters replaced by U+FFFD."""
    if "\x00" not in value:  # the common case: nothing to replace
        return value
    return value.replace("\x00", "\ufffd")


class KeyText(TypeDecorator[str]):
    r"""Text in an indexed column: NUL characters become U+FFFD.

    PostgreSQL text cannot hold NUL. The record JSON escapes it (as ``\u0000``) and stays exact;
    only the filter copy is changed, and the same change applies to the values queries compare
    against, so filtering still finds the row.
    """

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """Replace NUL characters."""
        return None if value is None else key_text(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        """Return the stored text unchanged."""
        return None if value is None else str(value)


LAYOUT = 4
"""The explain store layout version (1: each child row kept its own JSON copy; 2: a row per LLM
call, verdict, ack and fill, its JSON in the step's; 3: rows for rejections only; 4: what each
step's stages saw, kept by content in ``axon_blobs``)."""

metadata = MetaData()

meta = Table(
    "axon_meta",
    metadata,
    Column("key", KeyText(32), primary_key=True),
    Column("value", Text, nullable=False),
)
"""Facts about the store itself; ``layout`` holds :data:`LAYOUT`."""

runs = Table(
    "axon_runs",
    metadata,
    Column("run_id", KeyText, primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("data_fingerprint", KeyText, nullable=False),
    Column("model", KeyText, nullable=False),
    Column("model_cutoff", Date, nullable=True),
    Column("code_version", KeyText, nullable=False),
    Column("info_json", Text, nullable=False),
)

steps = Table(
    "axon_steps",
    metadata,
    Column("run_id", KeyText, ForeignKey("axon_runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("step", Integer, primary_key=True, autoincrement=False),
    Column("timestamp", UTCDateTime, nullable=False),
    Column("action", KeyText(8), nullable=True),
    Column("source", KeyText(16), nullable=True),
    Column("equity", Float, nullable=False),
    Column("pnl", Float, nullable=False),
    Column("failed", Boolean, nullable=False),
    Column("n_llm_calls", Integer, nullable=False),
    Column("n_verdicts", Integer, nullable=False),
    Column("n_rejections", Integer, nullable=False),
    Column("n_acks", Integer, nullable=False),
    Column("n_fills", Integer, nullable=False),
    Column("digest", KeyText(64), nullable=False),
    Column("record_json", Text, nullable=False),
    Index("ix_axon_steps_time", "run_id", "timestamp"),
    Index("ix_axon_steps_action", "run_id", "action"),
)


def _child(name: str, *columns: Column[Any], indexes: tuple[Index, ...] = ()) -> Table:
    # On SQLite the primary key is the table (WITHOUT ROWID): one B-tree per child table, not a
    # rowid table plus its key index. The rows are small (no JSON), as such tables should be.
    return Table(
        name,
        metadata,
        Column("run_id", KeyText, primary_key=True),
        Column("step", Integer, primary_key=True, autoincrement=False),
        Column("idx", Integer, primary_key=True, autoincrement=False),
        *columns,
        ForeignKeyConstraint(
            ["run_id", "step"], ["axon_steps.run_id", "axon_steps.step"], ondelete="CASCADE"
        ),
        *indexes,
        sqlite_with_rowid=False,
    )


rejections = _child(
    "axon_rejections",
    Column("line", KeyText(16), nullable=False),
    Column("rule", KeyText, nullable=False),
    Column("client_order_id", KeyText, nullable=True),
    Column("timestamp", UTCDateTime, nullable=False),
    indexes=(Index("ix_axon_rejections_rule", "run_id", "rule"),),
)
"""One row per rejecting verdict: what ``rejections(rule=)`` and ``steps(rejected_rule=)`` find;
``idx`` is the verdict's position in its step's ``verdicts``."""

blobs = Table(
    "axon_blobs",
    metadata,
    Column("run_id", KeyText, ForeignKey("axon_runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("digest", KeyText(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)
"""What the stages saw, by content, once per run: each LLM request part (head, tools, message)
and each observation, as zlib-compressed UTF-8 under its SHA-256 (``size``: bytes before
compression). Steps refer to them by digest (``LLMCall.request_parts``,
``StepRecord.observation_digest``)."""

CHILD_TABLES: dict[str, Table] = {"n_rejections": rejections}
"""Each child table, keyed by the ``steps`` column that counts its rows."""

CHILD_PATHS: dict[str, tuple[str, ...]] = {rejections.name: ("verdicts",)}
"""Where each child table's records sit in the step's JSON: the keys down to the list that
``idx`` indexes."""

LISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "llm_calls": ("n_llm_calls", ("analysis", "llm_calls")),
    "verdicts": ("n_verdicts", ("verdicts",)),
    "acks": ("n_acks", ("acks",)),
    "fills": ("n_fills", ("fills",)),
}
"""Each list of child records in a step's JSON: the ``steps`` column that counts its elements
and the keys down to it."""
