"""The text channel's data side: loading documents, clear errors, point-in-time serving."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab.data import DocumentFeed, load_documents, make_documents, make_synthetic
from axon_lab.errors import ConfigError, DataError
from axon_lab.records import Document

T0 = datetime(2024, 3, 1, tzinfo=UTC)

ROWS = [
    {"id": "a", "published_at": "2024-03-01T09:00:00Z", "text": "Fed holds.", "symbols": []},
    {
        "id": "b",
        "published_at": "2024-03-01T10:00:00+01:00",  # 09:00 UTC, same instant as "a"
        "title": "SYN beats",
        "text": "SYN beat estimates.",
        "symbols": ["SYN"],
        "source": "wire",
    },
    {"id": "c", "published_at": "2024-03-01T11:30:00Z", "text": "OTH halts.", "symbols": ["OTH"]},
]


def _jsonl(tmp_path: Path, rows: list[dict], name: str = "docs.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


# ------------------------------------------------------------------ loading
def test_the_three_formats_load_the_same_documents(tmp_path: Path) -> None:
    from_json = load_documents(_jsonl(tmp_path, ROWS))
    frame = pd.DataFrame(ROWS)
    csv = frame.assign(symbols=[";".join(s) for s in frame["symbols"]])
    csv.to_csv(tmp_path / "docs.csv", index=False)
    frame.to_parquet(tmp_path / "docs.parquet")
    from_csv = load_documents(tmp_path / "docs.csv")
    from_parquet = load_documents(tmp_path / "docs.parquet")
    assert from_json.documents == from_csv.documents == from_parquet.documents
    b = next(d for d in from_json.documents if d.doc_id == "b")
    assert b.published_at == datetime(2024, 3, 1, 9, tzinfo=UTC)
    assert (b.symbols, b.title, b.source) == (("SYN",), "SYN beats", "wire")
    assert from_json.symbols == ("OTH", "SYN")


def test_default_ids_name_the_file_and_row(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "id"} for r in ROWS]
    feed = load_documents(_jsonl(tmp_path, rows, "news.jsonl"))
    assert sorted(d.doc_id for d in feed.documents) == ["news:1", "news:2", "news:3"]


@pytest.mark.parametrize(
    ("rows", "kwargs", "match"),
    [
        ([{"when": "2024-03-01T09:00Z", "text": "x"}], {}, r"no time column 'published_at'"),
        (
            [{"publish_at": "2024-03-01T09:00Z", "text": "x"}],
            {},
            r"Did you mean 'publish_at'\?.*time_column=",
        ),
        ([{"published_at": "2024-03-01T09:00Z", "body": "x"}], {}, r"no text column 'text'"),
        (
            [{"published_at": "2024-03-01 09:00", "text": "x"}],
            {},
            r"'published_at' holds times without a time zone at line 1.*tz='UTC'",
        ),
        (
            [
                {"published_at": "2024-03-01T09:00Z", "text": "x"},
                {"published_at": "yesterday-ish", "text": "y"},
            ],
            {},
            r"not times at line 2 \('yesterday-ish'\)",
        ),
        ([{"published_at": 1709283600, "text": "x"}], {}, r"a number.*unit='s'"),
        (
            [{"published_at": "2024-03-01T09:00Z", "text": "  "}],
            {},
            r"column 'text' is empty at line 1",
        ),
        (
            [{"published_at": "2024-03-01T09:00Z", "text": "x", "symbols": ["BAD SYMBOL"]}],
            {},
            r"line 1",
        ),
        (
            [
                {"id": "x", "published_at": "2024-03-01T09:00Z", "text": "x"},
                {"id": "x", "published_at": "2024-03-01T10:00Z", "text": "y"},
            ],
            {},
            r"repeats ids at line 2 \(id 'x', first at line 1\)",
        ),
        (
            [{"published_at": "2024-03-01T09:00Z", "text": "x", "symbols": 5}],
            {},
            r"'symbols' at line 1 is a int",
        ),
    ],
)
def test_bad_rows_and_columns_are_named(
    tmp_path: Path, rows: list[dict], kwargs: dict, match: str
) -> None:
    with pytest.raises(DataError, match=match):
        load_documents(_jsonl(tmp_path, rows), **kwargs)


def test_naive_times_read_in_a_stated_zone(tmp_path: Path) -> None:
    rows = [{"published_at": "2024-03-01 09:00", "text": "x"}]
    feed = load_documents(_jsonl(tmp_path, rows), tz="Europe/Paris")
    assert feed.documents[0].published_at == datetime(2024, 3, 1, 8, tzinfo=UTC)


def test_file_problems_are_clear(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"No documents file"):
        load_documents(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"published_at": "2024-03-01T09:00Z", "text": "ok"}\n{oops\n')
    with pytest.raises(DataError, match=r"line 2: not valid JSON"):
        load_documents(bad)
    (tmp_path / "list.jsonl").write_text("[1, 2]\n")
    with pytest.raises(DataError, match=r"line 1: a JSON list, not an object"):
        load_documents(tmp_path / "list.jsonl")
    (tmp_path / "docs.txt").write_text("x")
    with pytest.raises(DataError, match=r"cannot tell the format.*file_format="):
        load_documents(tmp_path / "docs.txt")
    (tmp_path / "empty.csv").write_text("published_at,text\n")
    with pytest.raises(DataError, match=r"no documents"):
        load_documents(tmp_path / "empty.csv")


def test_csv_rows_are_numbered_as_an_editor_shows_them(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(
        "published_at,text\n2024-03-01T09:00Z,fine\n2024-03-01T10:00Z,\n"
    )
    with pytest.raises(DataError, match=r"empty at row 3"):  # line 1 is the header
        load_documents(tmp_path / "d.csv")


def test_feed_arguments_are_checked() -> None:
    doc = Document(doc_id="a", published_at=T0, text="x")
    with pytest.raises(ConfigError, match=r"delay=-5 .* >= 0"):
        DocumentFeed([doc], delay=-5)
    with pytest.raises(ConfigError, match=r"delay='soon' is not a duration"):
        DocumentFeed([doc], delay="soon")
    with pytest.raises(ConfigError, match=r"share the id 'a'"):
        DocumentFeed([doc, doc])
    with pytest.raises(ConfigError, match=r"takes Document records"):
        DocumentFeed(["text"])  # type: ignore[list-item]
    feed = DocumentFeed([doc])
    with pytest.raises(ConfigError, match=r"no time zone"):
        feed.as_of(datetime(2024, 3, 2))
    with pytest.raises(ConfigError, match=r"limit must be"):
        feed.as_of(T0, limit=-1)


# ------------------------------------------------------------------ point in time
def test_as_of_applies_the_delay_and_the_symbol() -> None:
    feed = load_documents(pd.DataFrame(ROWS), delay="30min")
    at = pd.Timestamp("2024-03-01T09:29:59Z")
    assert feed.as_of(at) == ()
    at = pd.Timestamp("2024-03-01T09:30:00Z")  # available exactly delay after publication
    assert [d.doc_id for d in feed.as_of(at)] == ["b", "a"]  # same time: later in the file first
    at = pd.Timestamp("2024-03-01T12:00:00Z")
    assert [d.doc_id for d in feed.as_of(at)] == ["c", "b", "a"]
    assert [d.doc_id for d in feed.as_of(at, "SYN")] == ["b", "a"]  # "a" is market-wide
    assert [d.doc_id for d in feed.as_of(at, "OTH", limit=1)] == ["c"]


_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)


@st.composite
def _documents(draw: st.DrawFn) -> list[Document]:
    n = draw(st.integers(0, 25))
    out = []
    for i in range(n):
        minutes = draw(st.integers(0, 10_000))
        symbols = draw(st.lists(st.sampled_from(["A", "B"]), max_size=2, unique=True))
        out.append(
            Document(
                doc_id=f"d{i}",
                published_at=T0 + timedelta(minutes=minutes),
                symbols=tuple(symbols),
                text=draw(_texts),
            )
        )
    return out


@settings(max_examples=150, deadline=None)
@given(
    docs=_documents(),
    at=st.integers(0, 11_000),
    delay=st.integers(0, 120),
    symbol=st.sampled_from([None, "A", "B"]),
    new_text=_texts,
    extra=st.lists(st.integers(0, 5_000), max_size=5),
)
def test_documents_published_after_the_cutoff_never_change_what_is_served(
    docs: list[Document],
    at: int,
    delay: int,
    symbol: str | None,
    new_text: str,
    extra: list[int],
) -> None:
    t = T0 + timedelta(minutes=at)
    cut = t - timedelta(minutes=delay)
    feed = DocumentFeed(docs, delay=timedelta(minutes=delay))
    served = feed.as_of(t, symbol)
    # the oracle: a plain filter and sort, written from the rule, not from the feed's arrays
    keep = [
        (d.published_at, i, d)
        for i, d in enumerate(docs)
        if d.published_at <= cut and (symbol is None or not d.symbols or symbol in d.symbols)
    ]
    assert served == tuple(d for _, _, d in sorted(keep, key=lambda x: x[:2], reverse=True))
    # change every later document's text and add more after the cut-off
    changed = [d.replace(text=new_text + d.text) if d.published_at > cut else d for d in docs]
    changed += [
        Document(doc_id=f"new{j}", published_at=cut + timedelta(minutes=m + 1), text=new_text)
        for j, m in enumerate(extra)
    ]
    assert DocumentFeed(changed, delay=timedelta(minutes=delay)).as_of(t, symbol) == served


# ------------------------------------------------------------------ the generated sample
def test_the_sample_is_deterministic_and_reads_only_the_past() -> None:
    frame = make_synthetic(300, timeframe="1h", seed=4, symbol="SYN")
    a, b = make_documents(frame, n=30, seed=2), make_documents(frame, n=30, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(make_documents(frame, n=30, seed=3))
    feed = load_documents(a)
    assert len(feed) == 30
    assert set(feed.symbols) == {"SYN"}
    # each document's text depends only on bars complete when it was published: moving every
    # later bar changes no earlier document
    cut = pd.Timestamp(feed.documents[15].published_at)
    later = frame.index + (frame.index[1] - frame.index[0]) > cut
    moved = frame.copy()
    moved.loc[later, ["open", "high", "low", "close"]] *= 1.5
    again = make_documents(moved, n=30, seed=2)
    early = pd.to_datetime(a["published_at"]) <= cut
    pd.testing.assert_frame_equal(a[early], again[early])
    with pytest.raises(ConfigError, match=r"n must be an int >= 1"):
        make_documents(frame, n=0)
    with pytest.raises(ConfigError, match=r"needs more than lookback"):
        make_documents(frame.iloc[:10])
