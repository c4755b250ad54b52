"""Audits of an agent's honesty: look-ahead, training-cutoff contamination, memorisation, stability.

* :func:`check_lookahead`: does any Analyze or Decide stage's output change when the future does?
* :func:`load_cutoffs`, :func:`classify_window`: which models may have seen which period;
* :func:`anonymised_rerun`: does the run survive a neutral ticker, rescaled prices and shifted
  dates (memorisation)?
* :func:`check_stability`: does the model agree with itself when a step is re-sampled?
* :func:`check_sensitivity`: does a decision survive moving recent bars within their range?
* :func:`run_audit`: all of them on a recorded run (``axon-lab audit RUN_ID``), saved as
  ``runs/<run id>/audit.json`` and shown in the run's explain report.

The only public API is what this module exports.
"""

from __future__ import annotations

from axon_lab.audit._anonymise import (
    Anonymised,
    PromptLeak,
    anonymise_frame,
    prompt_leaks,
    real_markers,
)
from axon_lab.audit._cutoffs import (
    CutoffRegistry,
    ModelCutoff,
    WindowClass,
    classify_window,
    load_cutoffs,
    parse_cutoff,
)
from axon_lab.audit._lookahead import (
    LookAheadDifference,
    LookAheadReport,
    StageContext,
    check_lookahead,
    compare_outputs,
)
from axon_lab.audit._memorisation import MemorisationReport, anonymised_rerun
from axon_lab.audit._results import AUDIT_FILE, AUDIT_PARTS, audit_lines, load_audit, save_audit
from axon_lab.audit._run import run_audit
from axon_lab.audit._sensitivity import SensitivityReport, TimeSensitivity, check_sensitivity
from axon_lab.audit._stability import StabilityReport, StepStability, check_stability

__all__ = [
    # every audit of a recorded run, and where the results live
    "run_audit",
    "save_audit",
    "load_audit",
    "audit_lines",
    "AUDIT_FILE",
    "AUDIT_PARTS",
    # look-ahead check of any Analyze or Decide stage
    "check_lookahead",
    "compare_outputs",
    "StageContext",
    "LookAheadReport",
    "LookAheadDifference",
    # training cutoffs
    "load_cutoffs",
    "CutoffRegistry",
    "ModelCutoff",
    "classify_window",
    "WindowClass",
    "parse_cutoff",
    # memorisation: the anonymised re-run
    "anonymised_rerun",
    "MemorisationReport",
    "anonymise_frame",
    "Anonymised",
    "real_markers",
    "prompt_leaks",
    "PromptLeak",
    # decision stability
    "check_stability",
    "StabilityReport",
    "StepStability",
    # counterfactual sensitivity
    "check_sensitivity",
    "SensitivityReport",
    "TimeSensitivity",
]
