"""The OADER loop: Observe, Analyze, Decide, Execute, Record.

The only public API is what this module exports. Importing it stays light: the explain store
(SQLAlchemy) is imported when a store is opened, tqdm when a progress bar is shown.

Examples:
    >>> from axon_lab.data import make_synthetic
    >>> from axon_lab.oader import make_agent
    >>> loop = make_agent(make_synthetic(120, timeframe="1h", seed=2, symbol="SYN"),
    ...                   store="sqlite://", progress=False)
    >>> loop.run(60).step_index
    60
    >>> loop.close()
"""

from axon_lab.oader.agent import (
    data_fingerprint,
    default_gates,
    default_limits,
    load_data,
    make_agent,
)
from axon_lab.oader.callbacks import (
    BaseLoopCallback,
    CallbackList,
    FunctionCallback,
    make_callback,
)
from axon_lab.oader.config import AgentConfig, GateSpec, rebuild_agent
from axon_lab.oader.decide import DecisionEngine, DecisionMode
from axon_lab.oader.documents import DocumentsStage, estimate_tokens, fit_documents
from axon_lab.oader.execute import FillCursor, ToolExecutor
from axon_lab.oader.hints import HintPolicy, RLHintStage
from axon_lab.oader.live import (
    BarCloseClock,
    LiveRunner,
    LiveRunSummary,
    StopReport,
    make_live_runner,
)
from axon_lab.oader.loop import OADERLoop, OnError
from axon_lab.oader.observe import ContextBuilder, PortfolioSource
from axon_lab.oader.orchestrator import ROLE_KINDS, MultiModelOrchestrator, Role, RoleKind
from axon_lab.oader.prompts import render_observation
from axon_lab.oader.react import DEFAULT_READ_TOOLS, ReActAnalyzer
from axon_lab.oader.record import ExplainRecorder
from axon_lab.oader.rules_analyst import RulesAnalyst
from axon_lab.oader.stages import (
    STAGES,
    AnalyzeStage,
    DecideStage,
    ExecuteStage,
    Execution,
    ObserveStage,
    RecordStage,
    ResumableRecord,
    StageError,
    StageName,
    bars_needed,
)

__all__ = [
    # the loop
    "OADERLoop",
    "bars_needed",
    "make_agent",
    # the loop on the wall clock: paper and live trading on a live feed
    "BarCloseClock",
    "LiveRunner",
    "LiveRunSummary",
    "StopReport",
    "make_live_runner",
    # everything that shaped a run, and the way back
    "AgentConfig",
    "GateSpec",
    "rebuild_agent",
    "OnError",
    "StageError",
    # stage protocols and values
    "STAGES",
    "StageName",
    "ObserveStage",
    "AnalyzeStage",
    "DecideStage",
    "ExecuteStage",
    "RecordStage",
    "ResumableRecord",
    "Execution",
    # built-in stages
    "ContextBuilder",
    "RulesAnalyst",
    "ReActAnalyzer",
    "DEFAULT_READ_TOOLS",
    "DecisionEngine",
    "DecisionMode",
    "ToolExecutor",
    "FillCursor",
    "ExplainRecorder",
    # extra inputs and several models (seed 001's multi-model collaboration)
    "RLHintStage",
    "HintPolicy",
    "DocumentsStage",
    "fit_documents",
    "estimate_tokens",
    "MultiModelOrchestrator",
    "Role",
    "RoleKind",
    "ROLE_KINDS",
    # callbacks
    "BaseLoopCallback",
    "CallbackList",
    "FunctionCallback",
    "make_callback",
    # helpers
    "data_fingerprint",
    "default_gates",
    "default_limits",
    "load_data",
    "render_observation",
    "PortfolioSource",
]
