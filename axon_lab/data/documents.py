"""Time-stamped text (news, filings, posts) served point-in-time: :class:`DocumentFeed`.

The text channel's sibling of :class:`~axon_lab.data.MarketView`. A document is *available* at
decision time ``t`` when ``published_at + delay <= t``: ``delay`` is the stated publication delay
(the time a feed takes to reach the agent; 0 means a document stamped at ``t`` can be read at
``t``). :meth:`DocumentFeed.as_of` returns only available documents, newest first, so a document
published after ``t - delay`` can never reach a decision at ``t`` — the same rule as bars, held by
the same kind of perturbation test.

:func:`load_documents` reads a file the user brings — JSON Lines, CSV or Parquet — with a
publication time column, a text column and optional title, symbols, id and source columns. Every
row is checked; a bad row or column is named in a :class:`~axon_lab.errors.DataError` with the
fix. Times must carry a zone (``2024-03-01T14:30:00Z``) unless ``tz=`` says how to read naive ones.

Examples:
    >>> import pandas as pd
    >>> rows = pd.DataFrame({
    ...     "published_at": ["2024-01-01T09:00Z", "2024-01-01T10:00Z", "2024-01-01T11:00Z"],
    ...     "text": ["Fed holds rates.", "SYN beats estimates.", "SYN cuts guidance."],
    ...     "symbols": ["", "SYN", "SYN"]})
    >>> feed = load_documents(rows, delay="30min")
    >>> [d.text for d in feed.as_of(pd.Timestamp("2024-01-01T11:15Z"))]
    ['SYN beats estimates.', 'Fed holds rates.']
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from axon_lab.data.frame import check_symbol
from axon_lab.errors import ConfigError, DataError, RecordError
from axon_lab.records import Document

__all__ = ["DocumentFeed", "load_documents"]

_SHOW = 5  # bad rows named in a message
_SPLIT = re.compile(r"[;,|\s]+")
_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}


def _delay(value: timedelta | str | pd.Timedelta | None) -> pd.Timedelta:
    try:
        out = pd.Timedelta(0 if value is None else value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"delay={value!r} is not a duration ({exc}); pass e.g. delay='15min' or "
            "timedelta(minutes=15)"
        ) from None
    if pd.isna(out) or out < pd.Timedelta(0):
        raise ConfigError(f"delay={value!r} must be a duration >= 0, e.g. delay='15min'")
    return out


class DocumentFeed:
    """Documents served point-in-time: only those available at the decision time.

    Args:
        documents: The documents (any order; kept sorted by publication time, then by input
            order).
        delay: The publication delay: a document is available ``delay`` after ``published_at``.
        name: A label for the feed (recorded in the run config).

    Raises:
        ConfigError: For a negative or unreadable delay, or two documents with one id.
    """

    def __init__(
        self,
        documents: Iterable[Document],
        *,
        delay: timedelta | str | pd.Timedelta | None = None,
        name: str = "documents",
    ) -> None:
        docs = list(documents)
        for doc in docs:
            if not isinstance(doc, Document):
                raise ConfigError(
                    f"DocumentFeed takes Document records, got {type(doc).__name__}; load a file "
                    "with load_documents(path)"
                )
        seen: dict[str, int] = {}
        for i, doc in enumerate(docs):
            if doc.doc_id in seen:
                raise ConfigError(
                    f"documents {seen[doc.doc_id]} and {i} share the id {doc.doc_id!r}; ids must "
                    "be unique"
                )
            seen[doc.doc_id] = i
        order = sorted(range(len(docs)), key=lambda i: (docs[i].published_at, i))
        self._docs: tuple[Document, ...] = tuple(docs[i] for i in order)
        self.delay = _delay(delay)
        self.name = name
        published = pd.DatetimeIndex([d.published_at for d in self._docs], tz="UTC")
        self._available = np.asarray(published.as_unit("ns").asi8) + self.delay.value

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def documents(self) -> tuple[Document, ...]:
        """Every document, oldest first (the whole file: not point-in-time)."""
        return self._docs

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols any document names, sorted."""
        return tuple(sorted({s for d in self._docs for s in d.symbols}))

    def as_of(
        self, t: pd.Timestamp | datetime | str, symbol: str | None = None, limit: int | None = None
    ) -> tuple[Document, ...]:
        """Documents available at ``t`` (``published_at + delay <= t``), newest first.

        Args:
            t: The decision time (timezone-aware).
            symbol: Keep documents about ``symbol`` and those about no symbol in particular
                (market-wide); None keeps all.
            limit: Keep the ``limit`` most recent (None: all).

        Raises:
            ConfigError: For a naive time or a bad limit.
        """
        stamp = pd.Timestamp(t)
        if stamp.tzinfo is None:
            raise ConfigError(
                f"time {t!r} has no time zone, so the cut-off is ambiguous; pass an aware time"
            )
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ConfigError(f"limit must be an int >= 0 or None, got {limit!r}")
        n = int(self._available.searchsorted(stamp.value, side="right"))
        out: list[Document] = []
        for doc in reversed(self._docs[:n]):
            if symbol is None or not doc.symbols or symbol in doc.symbols:
                out.append(doc)
                if limit is not None and len(out) >= limit:
                    break
        return tuple(out)

    def __repr__(self) -> str:
        return f"DocumentFeed({self.name!r}, {len(self)} documents, delay={self.delay})"


# ---------------------------------------------------------------------------------------- loading
def _read(path: Path, fmt: str | None) -> tuple[pd.DataFrame, str]:
    kind = (
        fmt
        or _FORMATS.get(path.suffix.lower())
        or ("parquet" if path.suffix.lower() in (".parquet", ".pq") else None)
    )
    if kind is None:
        raise DataError(
            f"{str(path)!r}: cannot tell the format from the suffix {path.suffix!r}; name the file "
            "*.jsonl, *.csv or *.parquet, or pass file_format='jsonl' | 'csv' | 'parquet'"
        )
    try:
        if kind == "jsonl":
            rows = []
            for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError as exc:
                    raise DataError(
                        f"{str(path)!r} line {line_no}: not valid JSON ({exc}); each line must "
                        "be one JSON object"
                    ) from None
                if not isinstance(value, dict):
                    raise DataError(
                        f"{str(path)!r} line {line_no}: a JSON {type(value).__name__}, not an "
                        "object; each line must be one JSON object such as "
                        '{"published_at": "2024-01-02T09:30:00Z", "text": "..."}'
                    )
                rows.append({**value, "__row": f"line {line_no}"})
            return pd.DataFrame(rows), kind
        if kind == "csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            frame["__row"] = [f"row {i + 2}" for i in range(len(frame))]  # line 1: the header
            return frame, kind
        if kind == "parquet":
            frame = pd.read_parquet(path)
            frame["__row"] = [f"row {i}" for i in range(len(frame))]
            return frame, kind
    except DataError:
        raise
    except Exception as exc:  # pandas and pyarrow raise many unrelated types for bad files
        raise DataError(
            f"{str(path)!r}: cannot read as {kind} ({type(exc).__name__}: {exc}); check the file"
        ) from None
    raise ConfigError(f"file_format must be 'jsonl', 'csv' or 'parquet', got {fmt!r}")


def _bad(where: str, column: str, rows: Sequence[str], problem: str, fix: str) -> DataError:
    shown = ", ".join(rows[:_SHOW]) + (
        f" and {len(rows) - _SHOW} more" if len(rows) > _SHOW else ""
    )
    return DataError(f"{where}: column {column!r} {problem} at {shown}. Fix: {fix}")


def _times(
    values: pd.Series, labels: list[str], column: str, where: str, tz: str | None
) -> list[pd.Timestamp]:
    out: list[pd.Timestamp] = []
    unreadable, naive = [], []
    for value, label in zip(values.tolist(), labels, strict=True):
        if isinstance(value, int | float | np.number) and not isinstance(value, bool):
            unreadable.append(f"{label} ({value!r}: a number)")
            continue
        try:
            stamp = pd.Timestamp(value)
            readable = not pd.isna(stamp)
        except (ValueError, TypeError, OverflowError):
            readable = False
        if value is None or not readable or (isinstance(value, str) and not value.strip()):
            unreadable.append(f"{label} ({value!r})")
            continue
        if stamp.tzinfo is None:
            if tz is None:
                naive.append(f"{label} ({value!r})")
                continue
            stamp = stamp.tz_localize(tz)
        out.append(stamp.tz_convert("UTC"))
    if unreadable:
        raise _bad(
            where, column, unreadable, "holds values that are not times",
            "write ISO 8601 times with a zone, e.g. 2024-03-01T14:30:00Z (epoch numbers: convert "
            "them with pd.to_datetime(x, unit='s', utc=True) first)",
        )  # fmt: skip
    if naive:
        raise _bad(
            where, column, naive, "holds times without a time zone",
            "add the zone to the times (…Z or …+01:00) or pass tz='UTC' (or the zone they are in)",
        )  # fmt: skip
    return out


def _symbols(value: Any, label: str, where: str, column: str) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ()
    if isinstance(value, str):
        items = [s for s in _SPLIT.split(value.strip()) if s]
    elif isinstance(value, list | tuple | np.ndarray):
        items = [str(s).strip() for s in value if str(s).strip()]
    else:
        raise DataError(
            f"{where}: column {column!r} at {label} is a {type(value).__name__} ({value!r}); give "
            "a list of symbols or a string such as 'BTC-USD;ETH-USD'"
        )
    try:
        return tuple(
            dict.fromkeys(check_symbol(s, hint=f"fix {column!r} at {label}") for s in items)
        )
    except DataError as exc:
        raise DataError(f"{where}: {exc}") from None


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def load_documents(
    source: str | Path | pd.DataFrame,
    *,
    time_column: str = "published_at",
    text_column: str = "text",
    title_column: str | None = "title",
    symbols_column: str | None = "symbols",
    id_column: str | None = "id",
    source_column: str | None = "source",
    tz: str | None = None,
    delay: timedelta | str | pd.Timedelta | None = None,
    file_format: str | None = None,
    name: str | None = None,
) -> DocumentFeed:
    """Read time-stamped documents from a JSONL, CSV or Parquet file (or a frame) into a feed.

    Args:
        source: The file, or a DataFrame with the same columns.
        time_column: The publication time column (required).
        text_column: The document body column (required; empty bodies are refused).
        title_column: Optional title column (used when present).
        symbols_column: Optional column of the symbols a document concerns: a list (JSON,
            Parquet) or a string separated by ``;`` ``,`` ``|`` or spaces (CSV). Empty: the
            whole market.
        id_column: Optional unique id column (default ids: ``<file stem>:<row>``).
        source_column: Optional column naming where a document came from.
        tz: The zone of naive times (None: naive times are an error).
        delay: The publication delay (see :class:`DocumentFeed`).
        file_format: ``"jsonl"``, ``"csv"`` or ``"parquet"`` when the suffix does not say.
        name: The feed's label (default: the file name).

    Raises:
        DataError: Naming the file, the column and the bad rows, with the fix.
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        frame["__row"] = [f"row {i}" for i in range(len(frame))]
        where, stem = "the documents frame", "doc"
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise DataError(f"No documents file at {str(path)!r}; check the path.")
        frame, _ = _read(path, file_format)
        where, stem = repr(str(path)), path.stem
    if len(frame) == 0:
        raise DataError(f"{where}: no documents (the file has no rows)")
    columns = [str(c) for c in frame.columns if c != "__row"]
    for role, column in (("time", time_column), ("text", text_column)):
        if column not in frame.columns:
            import difflib

            near = difflib.get_close_matches(column, columns, n=2)
            hint = f" Did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
            raise DataError(
                f"{where}: no {role} column {column!r}; the columns are {columns}.{hint} Fix: "
                f"rename it or pass {role}_column='...'"
            )
    labels = [str(x) for x in frame["__row"].tolist()]
    times = _times(frame[time_column], labels, time_column, where, tz)
    texts = [_text(v) for v in frame[text_column].tolist()]
    empty = [label for label, t in zip(labels, texts, strict=True) if not t.strip()]
    if empty:
        raise _bad(where, text_column, empty, "is empty", "drop those rows or fill their text")

    def optional(column: str | None) -> list[Any]:
        if column is None or column not in frame.columns:
            return [None] * len(frame)
        return list(frame[column].tolist())

    titles, symbols, ids, sources = (
        optional(title_column), optional(symbols_column), optional(id_column),
        optional(source_column),
    )  # fmt: skip
    docs = []
    for i, label in enumerate(labels):
        doc_id = _text(ids[i]).strip() or f"{stem}:{label.split()[-1]}"
        try:
            docs.append(
                Document(
                    doc_id=doc_id,
                    published_at=times[i].to_pydatetime(),
                    symbols=_symbols(symbols[i], label, where, str(symbols_column)),
                    title=_text(titles[i]).strip(),
                    text=texts[i].strip(),
                    source=_text(sources[i]).strip(),
                )
            )
        except RecordError as exc:  # names the field and the value
            raise DataError(f"{where}: {label}: {exc}") from None
    by_id: dict[str, str] = {}
    dupes = []
    for doc, label in zip(docs, labels, strict=True):
        if doc.doc_id in by_id:
            dupes.append(f"{label} (id {doc.doc_id!r}, first at {by_id[doc.doc_id]})")
        by_id.setdefault(doc.doc_id, label)
    if dupes:
        raise _bad(where, str(id_column), dupes, "repeats ids", "give every document its own id")
    return DocumentFeed(docs, delay=delay, name=name or (stem if stem != "doc" else "documents"))
