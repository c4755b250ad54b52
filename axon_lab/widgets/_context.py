"""The parts of a step's observation that optional Observe parts added: forecasts and memory.

Shown in the step-detail widget under the step's sections: the forecast features with their
bands (``fc_*``, from :class:`~axon_lab.forecast.Forecasts`) and the similar past contexts a
:class:`~axon_lab.memory.Memory` retrieved, with their outcomes. Every value is escaped (a
context's summary may come from a memory file).
"""

from __future__ import annotations

from axon_lab.records import Observation

from ._common import esc, fmt_time, html_table

__all__ = ["observation_extras_html"]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3%}"


def observation_extras_html(observation: Observation) -> str:
    """HTML of the observation's forecasts and similar contexts ("" when it has neither).

    Examples:
        >>> from datetime import UTC, datetime
        >>> from axon_lab.records import PortfolioSnapshot
        >>> t = datetime(2024, 1, 2, tzinfo=UTC)
        >>> obs = Observation(timestamp=t, symbols=("X",), timeframe="1h", bars={"X": ()},
        ...                   features={"X": {"fc_vol": 0.01, "fc_horizon": 4.0}},
        ...                   portfolio=PortfolioSnapshot.build(timestamp=t, cash=1.0))
        >>> "Forecasts" in observation_extras_html(obs)
        True
    """
    out = []
    rows = []
    for symbol, feats in observation.features.items():
        fc = {k: v for k, v in feats.items() if k.startswith("fc_")}
        if fc:
            rows.append(
                [esc(symbol)] + [esc("-" if v is None else f"{v:.6g}") for v in fc.values()]
            )
            header = ["symbol", *fc]
    if rows:
        out.append("<h5>Forecasts (fitted on earlier bars only)</h5>")
        out.append(html_table(header, rows))
    if observation.similar_contexts:
        out.append(
            f"<h5>Similar past contexts: {len(observation.similar_contexts)} (outcomes known "
            "before this step)</h5>"
        )
        header = ["time", "symbol", "similarity", "context", "horizon", "forward return",
                  "action then", "its result"]  # fmt: skip
        out.append(
            html_table(
                header,
                [
                    [
                        esc(fmt_time(c.timestamp)),
                        esc(c.symbol),
                        f"{c.similarity:.3f}",
                        esc(c.summary),
                        esc(c.horizon),
                        _pct(c.forward_return),
                        esc(c.action.value if c.action is not None else None),
                        _pct(c.result),
                    ]
                    for c in observation.similar_contexts
                ],
            )
        )
    return "".join(out)
