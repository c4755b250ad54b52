"""What every view shares: the lazy ipywidgets import, the view base class, HTML formatting.

ipywidgets is imported at the point of use through :func:`ipywidgets`, so ``import
axon_lab.widgets`` stays light. A view is a plain Python object holding its root widget in
``view.widget``; displaying the view displays that widget (and first calls :meth:`BaseView.resync`,
so a frontend that connects late, such as Voilà or a reloaded page, gets current state).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from axon_lab._imports import require
from axon_lab._json import loads_bounded
from axon_lab._text import escape_html
from axon_lab.errors import AxonError
from axon_lab.records import StepRecord

if TYPE_CHECKING:
    from axon_lab.explain import ExplainStore

__all__ = [
    "BaseView",
    "esc",
    "fmt_json",
    "fmt_num",
    "fmt_time",
    "html_table",
    "ipywidgets",
]

_PURPOSE = "axon_lab.widgets"


def ipywidgets() -> Any:
    """Import and return ``ipywidgets`` (a core dependency, imported lazily)."""
    return require("ipywidgets", "core", purpose=_PURPOSE)


def esc(value: object) -> str:
    """HTML-escape ``str(value)``, control characters shown as marks (``None`` becomes a dash).

    Examples:
        >>> esc("<b>"), esc(None)
        ('&lt;b&gt;', '-')
    """
    return "-" if value is None else escape_html(str(value))


def fmt_num(value: float | int | str | None, digits: int = 2) -> str:
    """Format a number with thousands separators and ``digits`` decimals; other values as text.

    Examples:
        >>> fmt_num(1234.5), fmt_num(3), fmt_num(None), fmt_num("open")
        ('1,234.50', '3', '-', 'open')
    """
    if value is None:
        return "-"
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return str(value)
    return f"{value:,.{digits}f}"


def fmt_time(value: datetime) -> str:
    """Format a UTC timestamp as ``YYYY-MM-DD HH:MM`` (seconds only when non-zero).

    Examples:
        >>> from datetime import UTC
        >>> fmt_time(datetime(2024, 1, 2, 3, 4, tzinfo=UTC))
        '2024-01-02 03:04'
    """
    return value.strftime("%Y-%m-%d %H:%M" + (":%S" if value.second else ""))


def fmt_json(text: str | None, *, limit: int = 2_000) -> str:
    r"""Pretty-print a JSON string (other text as is), cut to ``limit`` characters, escaped.

    Examples:
        >>> fmt_json('{"a":1}')
        '{\n  &quot;a&quot;: 1\n}'
        >>> fmt_json("x" * 10, limit=4)
        'xxxx… (6 more characters)'
    """
    if text is None:
        return "-"
    try:
        shown = json.dumps(loads_bounded(text), indent=2, ensure_ascii=False)
    except (ValueError, TypeError, AxonError):
        shown = text
    if len(shown) > limit:
        shown = f"{shown[:limit]}… ({len(shown) - limit} more characters)"
    return escape_html(shown)


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, css: str = "") -> str:
    """An HTML table; ``header`` is escaped here, cells must already be escaped HTML.

    Examples:
        >>> html_table(["a"], [["1"]]).count("<td>")
        1
    """
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    klass = f"axon-table {css}".strip()
    return f'<table class="{klass}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


TABLE_STYLE = (
    "<style>.axon-table{border-collapse:collapse;font-size:12px}"
    ".axon-table th,.axon-table td{border:1px solid #ddd;padding:2px 6px;text-align:left;"
    "vertical-align:top}.axon-table th{background:#f4f4f4}"
    ".axon-pre{white-space:pre-wrap;font-size:11px;margin:2px 0;max-height:16em;overflow:auto;"
    "background:#fafafa;border:1px solid #eee;padding:2px 4px}</style>"
)
"""CSS the views' HTML relies on (each view's HTML carries it, so it works in Voilà too)."""


class BaseView:
    """Base of the views: ``widget`` is the root ipywidget; records arrive through :meth:`add`.

    Subclasses build ``self.widget`` and implement :meth:`add` and :meth:`clear`; a view that
    keeps state the frontend may have missed overrides :meth:`resync`.

    Attributes:
        widget: The root ipywidget (display the view, or put ``view.widget`` in a layout).
    """

    widget: Any

    def add(self, records: Sequence[StepRecord]) -> None:
        """Show newly recorded steps (in step order)."""
        raise NotImplementedError

    def clear(self) -> None:
        """Forget every step shown so far."""
        raise NotImplementedError

    def load(self, store: ExplainStore, run_id: str) -> None:
        """Show a recorded run: clear, then add every step of ``run_id`` from ``store``.

        Raises:
            StoreError: If the run does not exist or the store cannot be read.
        """
        steps = store.steps(run_id)
        self.clear()
        if steps:
            self.add(steps)

    def resync(self) -> None:
        """Push the full current state to the widget models (called before each display)."""

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self.resync()
        return self.widget._repr_mimebundle_(**kwargs)
