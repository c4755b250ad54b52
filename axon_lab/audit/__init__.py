"""Audits of an agent's honesty: look-ahead, training-cutoff contamination, memorisation, stability.

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
from axon_lab.audit._stability import StabilityReport, StepStability, check_stability

__all__ = [
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
]
