"""Self-contained HTML from plotly figures, for notebooks' exports and the explain report.

plotly.js (several MB) is inlined exactly once: the first figure of a document carries it, the
others reference the global ``Plotly`` object it defines. Div ids are deterministic, so the same
figures give the same document byte for byte.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from axon_lab.errors import ConfigError

__all__ = ["figures_to_html", "section_html"]


def section_html(fig: Any, include_js: bool, *, div_id: str | None = None) -> str:
    """Render one figure as an HTML fragment (a ``<div>`` and its script) to embed in a page.

    Args:
        fig: A plotly ``Figure`` (anything with plotly's ``to_html``).
        include_js: True to inline plotly.js in this fragment (do it for the first figure of a
            page only); False when an earlier fragment of the page already did.
        div_id: Id of the figure's ``<div>``; None lets plotly pick a random one.

    Returns:
        The fragment, without ``<html>`` or ``<body>``.

    Raises:
        ConfigError: If ``fig`` is not a plotly figure or ``include_js`` is not a bool.
    """
    if not callable(getattr(fig, "to_html", None)):
        raise ConfigError(
            f"Expected a plotly Figure, got {type(fig).__name__}; build one with an "
            "axon_lab.viz.plot_* function."
        )
    if not isinstance(include_js, bool):
        raise ConfigError(
            f"include_js must be True or False (inline plotly.js or not), got {include_js!r}."
        )
    return str(fig.to_html(full_html=False, include_plotlyjs=include_js, div_id=div_id))


def figures_to_html(figs: Sequence[Any], title: str) -> str:
    """Build one self-contained HTML document embedding ``figs`` in order.

    Args:
        figs: Plotly figures, e.g. from the ``plot_*`` functions.
        title: The document's title and heading (HTML-escaped).

    Returns:
        The document; it needs no network access to display (plotly.js is inlined once).

    Raises:
        ConfigError: If ``figs`` is empty or holds something other than a plotly figure.
    """
    if isinstance(figs, str | bytes) or not isinstance(figs, Sequence) or not figs:
        raise ConfigError(
            f"figs must be a non-empty sequence of plotly figures, got {figs!r:.80}; pass e.g. "
            "[plot_equity(steps, frame)]."
        )
    sections = [
        f'<section class="axon-figure">\n'
        f"{section_html(fig, i == 0, div_id=f'axon-figure-{i}')}\n</section>"
        for i, fig in enumerate(figs)
    ]
    heading = html.escape(title)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{heading}</title>\n</head>\n<body>\n<h1>{heading}</h1>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
