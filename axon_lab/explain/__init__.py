"""Explain store: durable records of every run, step, LLM call, risk verdict, order and fill.

The only public API is what this module exposes. SQLAlchemy is imported here; a PostgreSQL driver
(psycopg 3, the ``postgres`` extra) only when a ``postgresql://`` URL is opened.

Examples:
    >>> from axon_lab.explain import ExplainStore
    >>> with ExplainStore("sqlite://") as store:
    ...     store.runs()
    []
"""

from __future__ import annotations

from axon_lab.explain._compare import (
    COMPARISON_COLUMNS,
    ComparisonInfo,
    RunDiff,
    compare_runs,
    diff_runs,
    get_comparison_info,
    plot_comparison,
)
from axon_lab.explain._export import TABLES, export_parquet, export_tables
from axon_lab.explain._info import ResumePoint, RunInfo, code_version
from axon_lab.explain._inputs import cost_by_role, inputs_html, inputs_markdown
from axon_lab.explain._orders import prompts_html
from axon_lab.explain._prompts import (
    PromptRecord,
    llm_request,
    observation,
    prompts_for_order,
    read_blobs,
    request_json,
    step_prompts,
)
from axon_lab.explain._report import (
    ExplainBridge,
    OrderRow,
    ReportSection,
    RunReport,
    build_report,
)
from axon_lab.explain._run_id import MAX_RUN_ID_CHARS, check_run_id, run_folder
from axon_lab.explain._stats import (
    MIN_YEARS_TO_ANNUALISE,
    STATS_KEYS,
    equity_stats,
    periods_per_year,
)
from axon_lab.explain._store import DEFAULT_URL, ExplainStore

__all__ = [
    # the store
    "DEFAULT_URL",
    "ExplainStore",
    # what it returns about runs
    "ResumePoint",
    "RunInfo",
    "code_version",
    # run ids (they become folder names)
    "check_run_id",
    "run_folder",
    "MAX_RUN_ID_CHARS",
    # reports
    "build_report",
    "ExplainBridge",
    "RunReport",
    "OrderRow",
    "ReportSection",
    "equity_stats",
    "periods_per_year",
    "STATS_KEYS",
    "MIN_YEARS_TO_ANNUALISE",
    # runs side by side
    "compare_runs",
    "diff_runs",
    "RunDiff",
    "COMPARISON_COLUMNS",
    "get_comparison_info",
    "plot_comparison",
    "ComparisonInfo",
    # what the model saw
    "prompts_for_order",
    "PromptRecord",
    "request_json",
    "llm_request",
    "observation",
    "read_blobs",
    "step_prompts",
    "prompts_html",
    "inputs_html",
    "inputs_markdown",
    "cost_by_role",
    # export for analysis elsewhere
    "export_tables",
    "export_parquet",
    "TABLES",
]
