r"""Text from outside (a model, a data file, a server) made safe to keep and to show.

Two rules, each in one place:

* :func:`clip` caps what is stored or sent back: a 1 MB answer must not become a 3 MB repair
  request, a 10 MB step record or a 2 MB widget. The cut is marked, with the count of what was
  dropped, so a reader never mistakes a clipped text for the whole.
* :func:`printable` neutralises control characters where text is displayed (reports, widgets,
  figures, the terminal): NUL, BEL, escape sequences and the bidirectional controls that reorder
  what a reader sees are shown as visible ``\x07`` / ``<U+202E>`` marks. The stored record keeps
  the text as received; only its display changes. Tab and newline stay.
"""

from __future__ import annotations

import html
import re

__all__ = [
    "MAX_ERROR_CHARS",
    "MAX_ECHO_CHARS",
    "MAX_RAW_CHARS",
    "clip",
    "escape_html",
    "printable",
]

MAX_RAW_CHARS = 32_000
"""Most characters of a raw answer or response body kept in a record."""

MAX_ECHO_CHARS = 4_000
"""Most characters of a model's own answer echoed back to it (repair requests, later turns)."""

MAX_ERROR_CHARS = 2_000
"""Most characters of an error message kept in a record."""

_MARK = "… [truncated: {n:,} more characters]"

# C0 and C1 controls except tab and newline; bidi embeddings, overrides and isolates; the
# zero-width and invisible formatting characters that hide or reorder text
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters (marker included) if it is longer.

    Examples:
        >>> clip("abc", 10)
        'abc'
        >>> clip("x" * 100, 40)
        'xxxxxx… [truncated: 94 more characters]'
        >>> len(clip("x" * 100, 40)) <= 40
        True
    """
    if len(text) <= limit:
        return text
    keep = max(limit - len(_MARK.format(n=len(text))), 0)
    return text[:keep] + _MARK.format(n=len(text) - keep)


def _mark(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"<U+{code:04X}>"


def printable(text: str) -> str:
    r"""``text`` with control and direction-changing characters shown as visible marks.

    Examples:
        >>> printable("ok\x00\x07 \u202eevil")
        'ok\\x00\\x07 <U+202E>evil'
        >>> printable("line 1\n\tline 2")
        'line 1\n\tline 2'
    """
    return _UNPRINTABLE.sub(_mark, text)


def escape_html(text: str) -> str:
    r"""``printable(text)``, HTML-escaped (quotes included): the one way outside text reaches HTML.

    Examples:
        >>> escape_html('<b onclick="x">\x1b[31m')
        '&lt;b onclick=&quot;x&quot;&gt;\\x1b[31m'
    """
    return html.escape(printable(text))
