"""Many symbols in one agent: the portfolio loop, its backend, sizing and the ranking analyst.

The only public API of this package is what is exported here. Data (:class:`~axon_lab.data.
Universe`, :class:`~axon_lab.data.UniverseView`), records (:class:`~axon_lab.records.
PortfolioObservation`, :class:`~axon_lab.records.PortfolioDecision`) and portfolio risk
(:func:`~axon_lab.risk.check_portfolio`) live in their own packages.

Examples:
    >>> from axon_lab.data import make_synthetic_universe
    >>> loop = make_portfolio_agent(make_synthetic_universe(5, 60, seed=1), run_id="p")
    >>> rec = loop.run().last_record
    >>> rec.portfolio.gross <= 1.0
    True
    >>> loop.close()
"""

from axon_lab.portfolio._agent import make_portfolio_agent, universe_fingerprint
from axon_lab.portfolio._backend import PortfolioSimBackend
from axon_lab.portfolio._llm import LLMPortfolioAnalyst
from axon_lab.portfolio._loop import PortfolioLoop
from axon_lab.portfolio._ranking import RankingAnalyst
from axon_lab.portfolio._report import (
    PortfolioReport,
    build_portfolio_report,
    portfolio_observation,
    symbol_table,
)
from axon_lab.portfolio._sizing import target_vector, weights_to_orders

__all__ = [
    "PortfolioLoop",
    "make_portfolio_agent",
    "PortfolioSimBackend",
    "RankingAnalyst",
    "LLMPortfolioAnalyst",
    "weights_to_orders",
    "target_vector",
    "universe_fingerprint",
    "PortfolioReport",
    "build_portfolio_report",
    "portfolio_observation",
    "symbol_table",
]
