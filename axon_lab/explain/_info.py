"""Records the explain store hands back about runs: :class:`RunInfo` and :class:`ResumePoint`."""

from __future__ import annotations

import functools
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import Field

from axon_lab.records import Finite, NonNegativeInt, Record, StrategyState, UTCDatetime

__all__ = ["ResumePoint", "RunInfo", "code_version"]


class RunInfo(Record):
    """What a run was: its configuration and everything needed to reproduce or question it.

    Attributes:
        run_id: The run's unique id.
        created_at: When the run was created (UTC).
        config: The run configuration, as JSON-compatible values (tuples come back as lists).
        data_fingerprint: A digest identifying the market data the run saw.
        model: The model (or rules analyst) that made the decisions.
        model_cutoff: The model's training cutoff, if known; a backtest window after it cannot
            have been memorised.
        code_version: ``axon_lab.__version__``, plus ``git describe`` output when available.
    """

    run_id: str = Field(min_length=1)
    created_at: UTCDatetime
    config: dict[str, Any] = Field(default_factory=dict)
    data_fingerprint: str
    model: str
    model_cutoff: date | None = None
    code_version: str


class ResumePoint(Record):
    """Where a run stopped, and what a loop needs to carry on from there.

    Attributes:
        run_id: The run.
        next_step: The step index to record next (0 for a run with no steps).
        last_timestamp: The timestamp of the last recorded step, or ``None``.
        last_equity: The equity after the last recorded step, or ``None``.
        state: Step count, last action and cumulative PnL, as the Observe stage consumes them.
    """

    run_id: str = Field(min_length=1)
    next_step: NonNegativeInt
    last_timestamp: UTCDatetime | None = None
    last_equity: Finite | None = None
    state: StrategyState


@functools.cache
def code_version() -> str:
    """The code version stamped on new runs: the package version and, if available, git's.

    Never fails: without git, or outside a work tree, it is just ``axon_lab.__version__``.

    Examples:
        >>> import axon_lab
        >>> code_version().startswith(axon_lab.__version__)
        True
    """
    from axon_lab import __version__

    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return __version__
    described = done.stdout.strip()
    if done.returncode != 0 or not described:
        return __version__
    return f"{__version__}+git.{described}"
