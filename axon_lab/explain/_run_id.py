"""The one rule for run ids, which become folder names (``runs/<run id>/report.html``).

A run id is 1 to 128 ASCII letters, digits, ``.``, ``_`` or ``-``, starting with a letter or a
digit: no path separator, no ``..``, no absolute path, no drive letter, no control character, so
``root / run_id`` always names a folder directly inside ``root`` on every operating system. The
explain store refuses other ids when a run is created, and :func:`run_folder` checks again when
an id read back from a store (possibly written by older code) is about to become a path.
"""

from __future__ import annotations

import re
from pathlib import Path

from axon_lab.errors import ConfigError

__all__ = ["MAX_RUN_ID_CHARS", "check_run_id", "run_folder"]

MAX_RUN_ID_CHARS = 128
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_FIX = (
    "a run id becomes a folder name, so use 1-128 letters, digits, '.', '_' or '-', starting "
    "with a letter or digit (e.g. 'btc-sma-2024')"
)


def _problem(run_id: object) -> str | None:
    if not isinstance(run_id, str):
        return f"is a {type(run_id).__name__}, not a string"
    if not run_id:
        return "is empty"
    if "\x00" in run_id:
        return "contains a NUL character"
    if any(sep in run_id for sep in ("/", "\\")) or run_id.startswith(".."):
        return "is a path, not a name"
    if len(run_id) > MAX_RUN_ID_CHARS:
        return f"has {len(run_id)} characters"
    if _RUN_ID.fullmatch(run_id) is None:
        return "contains characters other than letters, digits, '.', '_' and '-'"
    return None


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if it is a valid run id, else raise.

    Raises:
        ConfigError: Naming the bad id, what is wrong with it and the rule.

    Examples:
        >>> check_run_id("btc-sma-2024")
        'btc-sma-2024'
        >>> check_run_id("../../x")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        axon_lab.errors.ConfigError: run_id '../../x' is a path, not a name; a run id becomes ...
    """
    problem = _problem(run_id)
    if problem is not None:
        raise ConfigError(f"run_id {run_id!r} {problem}; {_FIX}.")
    return run_id


def run_folder(root: str | Path, run_id: str) -> Path:
    """The folder of ``run_id`` directly inside ``root`` (not created).

    Raises:
        ConfigError: If ``run_id`` is not a valid run id (see :func:`check_run_id`).

    Examples:
        >>> run_folder("runs", "demo").as_posix()
        'runs/demo'
    """
    folder = Path(root) / check_run_id(run_id)
    # belt and braces: the rule above already keeps the id a single plain name
    if folder.parent != Path(root) or folder.name != run_id:
        raise ConfigError(f"run_id {run_id!r} does not name a folder inside {str(root)!r}; {_FIX}.")
    return folder
