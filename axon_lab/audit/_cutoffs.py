"""Training-cutoff registry: which models may have seen which period, and how a window relates.

An LLM may have memorised what happened before its training cutoff; a backtest window before
the cutoff measures memory as much as skill. The registry is a small data file
(``axon_lab/audit/cutoffs.json``) of models with their vendor-stated cutoffs, each with its
source. Stated cutoffs are claims: verify them, and pass your own entries with
``load_cutoffs(overrides=...)``.

A cutoff stated as a month (``"2023-10"``) is read as the **last day** of that month: the model
may know anything up to then.

Examples:
    >>> from datetime import date
    >>> registry = load_cutoffs(overrides={"my-model": "2024-06-15"})
    >>> registry.cutoff("gpt-4o"), registry.cutoff("my-model")
    (datetime.date(2023, 10, 31), datetime.date(2024, 6, 15))
    >>> classify_window(date(2023, 1, 1), date(2023, 6, 1), registry.cutoff("gpt-4o"))
    'before'
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from axon_lab.errors import ConfigError

__all__ = [
    "CutoffRegistry",
    "ModelCutoff",
    "WindowClass",
    "classify_window",
    "load_cutoffs",
    "parse_cutoff",
]

WindowClass = Literal["before", "spanning", "after", "unknown"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_cutoff(value: str | date | None, *, what: str = "cutoff") -> date | None:
    """A stated cutoff as the last day the model may know: ``YYYY-MM`` is that month's end.

    Raises:
        ConfigError: If the value is neither ``YYYY-MM``, ``YYYY-MM-DD``, a date nor None.

    Examples:
        >>> parse_cutoff("2024-02"), parse_cutoff("2023-10-01")
        (datetime.date(2024, 2, 29), datetime.date(2023, 10, 1))
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        month = _MONTH.match(value)
        try:
            if month:
                year, mon = int(month[1]), int(month[2])
                return date(year, mon, calendar.monthrange(year, mon)[1])
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(
        f"{what} {value!r} is not a date; write 'YYYY-MM' (read as the month's last day), "
        "'YYYY-MM-DD' or None (not stated)"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCutoff:
    """One registry entry.

    Attributes:
        model: The model's name.
        aliases: Other names it is served under.
        cutoff: The last day it may know (None: not stated).
        stated: The cutoff as written in the registry.
        source: Where the cutoff is stated (or ``"user"`` for an override).
    """

    model: str
    aliases: tuple[str, ...] = ()
    cutoff: date | None
    stated: str | None
    source: str


def _key(name: str) -> str:
    return name.strip().lower()


@dataclass(frozen=True, slots=True)
class CutoffRegistry:
    """Known models and their cutoffs; look-ups by name or alias (case-insensitive).

    A name served with a provider prefix (``openai/gpt-4o``) is found by its last part; no
    other guessing is done (``gpt-4o-mini`` is not ``gpt-4o``).
    """

    entries: tuple[ModelCutoff, ...]
    notice: str = ""

    def find(self, model: str) -> ModelCutoff | None:
        """The entry of ``model``, or None when it is not listed."""
        names = {_key(model), _key(model.rsplit("/", 1)[-1])}
        # later entries (the user's overrides) win
        for entry in reversed(self.entries):
            if names & {_key(entry.model), *(_key(a) for a in entry.aliases)}:
                return entry
        return None

    def cutoff(self, model: str) -> date | None:
        """The last day ``model`` may know; None when unlisted or not stated."""
        entry = self.find(model)
        return None if entry is None else entry.cutoff

    def __len__(self) -> int:
        return len(self.entries)


def _entry(raw: Any, where: str) -> ModelCutoff:
    if not isinstance(raw, dict) or not isinstance(raw.get("model"), str):
        raise ConfigError(f"{where}: an entry must be an object with a 'model' name, got {raw!r}")
    stated = raw.get("cutoff")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(
            f"{where}: the entry for {raw['model']!r} names no source; every cutoff needs one"
        )
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ConfigError(f"{where}: aliases of {raw['model']!r} must be a list of names")
    return ModelCutoff(
        model=raw["model"],
        aliases=tuple(aliases),
        cutoff=parse_cutoff(stated, what=f"{where}: the cutoff of {raw['model']!r}"),
        stated=None if stated is None else str(stated),
        source=source,
    )


def _read(text: str, where: str) -> tuple[list[ModelCutoff], str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where} is not JSON ({exc}); fix the file") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise ConfigError(f"{where} must hold an object with a 'models' list")
    return [_entry(m, where) for m in data["models"]], str(data.get("notice", ""))


def load_cutoffs(
    path: str | Path | None = None,
    *,
    overrides: Mapping[str, str | date | None] | None = None,
) -> CutoffRegistry:
    """The registry: the bundled file, then entries from ``path``, then ``overrides``.

    Args:
        path: A JSON file of the bundled file's shape whose entries add to (and win over) the
            bundled ones.
        overrides: ``{model: cutoff}`` entries that win over both (source ``"user"``).

    Raises:
        ConfigError: If a file or an override is malformed.
    """
    bundled = resources.files("axon_lab.audit").joinpath("cutoffs.json").read_text("utf-8")
    entries, notice = _read(bundled, "the bundled cutoffs.json")
    if path is not None:
        file = Path(path).expanduser()
        if not file.is_file():
            raise ConfigError(f"cutoff file {str(file)!r} does not exist; pass an existing JSON")
        entries += _read(file.read_text("utf-8"), f"cutoff file {str(file)!r}")[0]
    for model, value in (overrides or {}).items():
        if not isinstance(model, str) or not model.strip():
            raise ConfigError(f"override model names must be non-empty strings, got {model!r}")
        entries.append(
            ModelCutoff(
                model=model,
                cutoff=parse_cutoff(value, what=f"the override cutoff of {model!r}"),
                stated=None if value is None else str(value),
                source="user",
            )
        )
    return CutoffRegistry(tuple(entries), notice)


def _day(value: date | datetime | str, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).date()
        except ValueError:
            pass
    raise ConfigError(f"{name} must be a date or an ISO date string, got {value!r}")


def classify_window(
    start: date | datetime | str, end: date | datetime | str, cutoff: date | None
) -> WindowClass:
    """Where a window lies relative to a training cutoff.

    ``"before"``: the whole window is on or before the cutoff (the model may have memorised
    it); ``"after"``: it starts after the cutoff (out of the model's sample);
    ``"spanning"``: it straddles the cutoff; ``"unknown"`` when the cutoff is None.

    Raises:
        ConfigError: If a bound is not a date or ``end`` precedes ``start``.

    Examples:
        >>> from datetime import date
        >>> c = date(2023, 10, 31)
        >>> [classify_window(s, e, c) for s, e in [("2023-01-01", "2023-10-31"),
        ...     ("2023-10-01", "2023-12-01"), ("2023-11-01", "2024-01-01")]]
        ['before', 'spanning', 'after']
    """
    first, last = _day(start, "start"), _day(end, "end")
    if last < first:
        raise ConfigError(f"the window ends ({last}) before it starts ({first}); swap them")
    if cutoff is None:
        return "unknown"
    if not isinstance(cutoff, date):
        raise ConfigError(f"cutoff must be a date or None, got {cutoff!r}; see parse_cutoff")
    if last <= cutoff:
        return "before"
    if first > cutoff:
        return "after"
    return "spanning"
