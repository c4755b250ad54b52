"""LLMPortfolioAnalyst: an LLM allocates a universe from a compact table, within a token budget.

**Table mode** (``mode="table"``). The model sees one prompt holding a compact CSV table of the
tradable universe -- ``symbol,trend,mom,vol,weight`` (3 significant digits; ``-`` where a value is
undefined) -- and answers one JSON object ``{"weights": {"SYM": w, ...}, "reason": "..."}``.

The budget is stated and kept: the whole request (system prompt, table, instructions), estimated
the way the cost ledger does (:func:`~axon_lab.llm.estimate_prompt_tokens`: ``ceil(chars / 4)`` of
its canonical JSON), stays within ``token_budget``. When the full table would not fit, rows are
kept in the order of the rules ranking (``|trend|``, largest first) until the next row would not
fit, and the prompt says how many of how many symbols it shows. A symbol the model was not shown
cannot be weighted.

**Per-symbol mode** (``mode="per_symbol"``, or ``"auto"`` when fewer than ``min_table_rows``
rows fit the budget). For large universes: the rules ranking shortlists ``shortlist`` symbols;
the model is asked about each one in its own small request (each within the budget) for a score
in ``[-1, 1]``; the ``top_k`` best positive scores share the weight budget equally.

Answers are checked (fail closed): every weight must be finite, non-negative, for a symbol the
model was shown and that is tradable, and the weights must sum to at most ``invested``. A
model error or an answer that breaks a rule makes the step **abstain** visibly (``source=abstain``,
no orders, the error and the raw answer kept in the decision's ``llm_calls``). Symbols and every
other text the model sees come from validated data (symbols pass the symbol rule at load).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from axon_lab.errors import (
    BudgetExceededError,
    CacheMissError,
    ConfigError,
    LLMError,
    LLMOutputError,
)
from axon_lab.llm import LLMClient, LLMRequest, estimate_prompt_tokens, extract_json_object
from axon_lab.records import (
    DecisionSource,
    LLMCall,
    PortfolioDecision,
    PortfolioObservation,
)

__all__ = ["LLMPortfolioAnalyst"]

Mode = Literal["table", "per_symbol", "auto"]
_COLUMNS = ("trend", "mom", "vol")
_SYSTEM = (
    "You are a portfolio allocator. You get a table of a universe of tradable symbols with "
    "causal features (trend: fast minus slow moving average in ATR units; mom: return over the "
    "momentum window; vol: volatility of daily returns) and each symbol's current weight. "
    "Answer with one JSON object and nothing else."
)
_TABLE_ASK = (
    'Reply {{"weights": {{"SYMBOL": weight, ...}}, "reason": "..."}}: long-only weights of '
    "equity for at most {top_k} symbols from the table, summing to at most {invested:g}; "
    "symbols left out go to 0."
)
_ONE_ASK = (
    'Reply {{"score": s, "reason": "..."}} with s in [-1, 1]: how attractive holding this symbol '
    "is now (1: strongly, -1: not at all)."
)


def _fmt(v: float | bool | None) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{float(v):.3g}"


class LLMPortfolioAnalyst:
    """Allocate a universe with an LLM (see the module docstring for the modes and the budget).

    Args:
        client: Any :class:`~axon_lab.llm.LLMClient` (``ScriptedClient`` in tests).
        mode: ``"table"``, ``"per_symbol"`` or ``"auto"``.
        token_budget: The most prompt tokens one request may hold (estimated as the ledger does).
        top_k: The most symbols to hold.
        invested: The most weight to invest in all.
        shortlist: Symbols asked about in per-symbol mode.
        min_table_rows: In ``"auto"``, use per-symbol mode when fewer rows fit the budget.
        params: Extra request parameters (e.g. ``temperature=0``).

    Raises:
        ConfigError: On a bad setting.
    """

    def __init__(
        self,
        client: LLMClient,
        *,
        mode: Mode = "auto",
        token_budget: int = 3_000,
        top_k: int = 10,
        invested: float = 0.95,
        shortlist: int = 20,
        min_table_rows: int = 20,
        **params: Any,
    ) -> None:
        if mode not in ("table", "per_symbol", "auto"):
            raise ConfigError(f"mode must be 'table', 'per_symbol' or 'auto', got {mode!r}.")
        checks = (("token_budget", token_budget), ("top_k", top_k), ("shortlist", shortlist),
                  ("min_table_rows", min_table_rows))  # fmt: skip
        for name, value in checks:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an int >= 1, got {value!r}.")
        if not (isinstance(invested, int | float) and 0.0 < invested <= 1.0):
            raise ConfigError(f"invested must be in (0, 1], got {invested!r}.")
        self.client = client
        self.mode: Mode = mode
        self.token_budget = token_budget
        self.top_k = top_k
        self.invested = float(invested)
        self.shortlist = shortlist
        self.min_table_rows = min_table_rows
        self.params = params
        self.last_prompt_tokens: list[int] = []

    # ------------------------------------------------------------------ prompts
    def _ranked(self, obs: PortfolioObservation) -> list[int]:
        """Tradable columns, by ``|trend|`` largest first (undefined last), then column order."""
        trend = np.array(obs.features.get("trend", (None,) * len(obs.symbols)), dtype=np.float64)
        live = [j for j, ok in enumerate(obs.tradable) if ok]
        key = np.where(np.isfinite(trend), -np.abs(trend), np.inf)
        return sorted(live, key=lambda j: (key[j], j))

    def _row(self, obs: PortfolioObservation, j: int) -> str:
        values = [_fmt(obs.features[c][j]) if c in obs.features else "-" for c in _COLUMNS]
        return ",".join([obs.symbols[j], *values, _fmt(obs.weights[j])])

    def _messages(self, user: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}]

    def _tokens(self, messages: Sequence[dict[str, str]]) -> int:
        return estimate_prompt_tokens(LLMRequest.build(messages, **self.params))

    def table_prompt(self, obs: PortfolioObservation) -> tuple[list[dict[str, str]], list[int]]:
        """The table-mode messages and the columns they show, within the token budget.

        Raises:
            ConfigError: If not even the prompt without rows fits the budget.
        """
        ranked = self._ranked(obs)
        ask = _TABLE_ASK.format(top_k=self.top_k, invested=self.invested)
        header = "symbol," + ",".join(_COLUMNS) + ",weight"

        def user(rows: list[int]) -> str:
            note = f"Universe at {obs.timestamp.isoformat()}: {len(rows)} of {len(ranked)} " \
                   "tradable symbols shown (ranked by |trend|)."  # fmt: skip
            body = "\n".join(self._row(obs, j) for j in rows)
            return f"{note}\n{header}\n{body}\n{ask}"

        if self._tokens(self._messages(user([]))) > self.token_budget:
            raise ConfigError(
                f"token_budget={self.token_budget} cannot hold even the prompt without rows "
                f"({self._tokens(self._messages(user([])))} tokens); raise it."
            )
        # grow the table while it fits (a doubling search, then one row at a time)
        lo, hi = 0, len(ranked)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._tokens(self._messages(user(ranked[:mid]))) <= self.token_budget:
                lo = mid
            else:
                hi = mid - 1
        shown = ranked[:lo]
        return self._messages(user(shown)), shown

    def symbol_prompt(self, obs: PortfolioObservation, j: int) -> list[dict[str, str]]:
        """The per-symbol-mode messages about column ``j``."""
        header = "symbol," + ",".join(_COLUMNS) + ",weight"
        user = (
            f"One symbol of a universe at {obs.timestamp.isoformat()}:\n{header}\n"
            f"{self._row(obs, j)}\n{_ONE_ASK}"
        )
        return self._messages(user)

    # ------------------------------------------------------------------ answers
    def _ask(self, messages: list[dict[str, str]]) -> tuple[dict[str, Any], LLMCall]:
        self.last_prompt_tokens.append(self._tokens(messages))
        response = self.client.complete(messages, **self.params)
        try:
            answer = extract_json_object(response.text)
        except LLMOutputError as exc:
            raise _Abstain(str(exc), response.to_llm_call(error=str(exc))) from None
        return answer, response.to_llm_call()

    def _check_weights(
        self, answer: dict[str, Any], obs: PortfolioObservation, shown: Sequence[int], call: LLMCall
    ) -> dict[str, float]:
        def fail(msg: str) -> _Abstain:
            return _Abstain(msg, call.replace(error=msg))

        raw = answer.get("weights")
        if not isinstance(raw, dict):
            raise fail(f"the answer has no 'weights' object (got {type(raw).__name__})")
        allowed = {obs.symbols[j] for j in shown}
        out: dict[str, float] = {}
        for sym, w in raw.items():
            if sym not in allowed:
                raise fail(f"weight for {str(sym)[:40]!r}, which was not in the table shown")
            if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) \
                    or w < 0:  # fmt: skip
                raise fail(f"weight of {sym!r} is {w!r}; weights are finite numbers >= 0")
            if w > 0:
                out[sym] = float(w)
        if len(out) > self.top_k:
            raise fail(f"{len(out)} symbols weighted; at most top_k={self.top_k}")
        total = math.fsum(out.values())
        if total > self.invested + 1e-9:
            raise fail(f"weights sum to {total:.6g}, over invested={self.invested:g}")
        return out

    def _table(self, obs: PortfolioObservation) -> PortfolioDecision:
        messages, shown = self.table_prompt(obs)
        answer, call = self._ask(messages)
        weights = self._check_weights(answer, obs, shown, call)
        reason = str(answer.get("reason", ""))[:2_000]
        return PortfolioDecision(
            timestamp=obs.timestamp, target_weights=weights, reason=reason,
            source=DecisionSource.LLM, llm_calls=(call,),
        )  # fmt: skip

    def _per_symbol(self, obs: PortfolioObservation) -> PortfolioDecision:
        picks = self._ranked(obs)[: self.shortlist]
        scores: dict[str, float] = {}
        calls: list[LLMCall] = []
        for j in picks:
            messages = self.symbol_prompt(obs, j)
            if self._tokens(messages) > self.token_budget:
                raise ConfigError(
                    f"token_budget={self.token_budget} cannot hold one symbol's prompt "
                    f"({self._tokens(messages)} tokens); raise it."
                )
            answer, call = self._ask(messages)
            calls.append(call)
            s = answer.get("score")
            if isinstance(s, bool) or not isinstance(s, int | float) or not -1.0 <= s <= 1.0:
                msg = f"score for {obs.symbols[j]!r} is {s!r}; scores are numbers in [-1, 1]"
                raise _Abstain(msg, call.replace(error=msg), tuple(calls[:-1]))
            scores[obs.symbols[j]] = float(s)
        best = sorted((v, -i, k) for i, (k, v) in enumerate(scores.items()) if v > 0)
        held = [k for _, _, k in reversed(best)][: self.top_k]
        w = self.invested / len(held) if held else 0.0
        return PortfolioDecision(
            timestamp=obs.timestamp, target_weights=dict.fromkeys(held, w), scores=scores,
            reason=f"asked about {len(picks)} shortlisted symbols one by one; holding the "
            f"{len(held)} best positive scores", source=DecisionSource.LLM, llm_calls=tuple(calls),
        )  # fmt: skip

    def mode_for(self, obs: PortfolioObservation) -> Literal["table", "per_symbol"]:
        """The mode this observation is analysed in."""
        if self.mode != "auto":
            return self.mode
        _, shown = self.table_prompt(obs)
        n_live = sum(obs.tradable)
        return "table" if len(shown) >= min(self.min_table_rows, n_live) else "per_symbol"

    def __call__(self, obs: PortfolioObservation) -> PortfolioDecision:
        """Allocate ``obs``'s universe; abstain visibly when the model fails or breaks a rule."""
        self.last_prompt_tokens = []
        try:
            if self.mode_for(obs) == "table":
                return self._table(obs)
            return self._per_symbol(obs)
        except _Abstain as stop:
            return PortfolioDecision(
                timestamp=obs.timestamp, reason=f"abstained: {stop.message}",
                source=DecisionSource.ABSTAIN, confidence=0.0,
                llm_calls=(*stop.earlier, stop.call),
            )  # fmt: skip
        except (BudgetExceededError, CacheMissError):
            raise  # would fail the same way at every step: the loop stops (recorded)
        except LLMError as exc:  # the client failed (timeout, refused): abstain, visibly
            msg = f"{type(exc).__name__}: {exc}"
            return PortfolioDecision(
                timestamp=obs.timestamp, reason=f"abstained: {msg[:500]}",
                source=DecisionSource.ABSTAIN, confidence=0.0,
            )  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"LLMPortfolioAnalyst(model={getattr(self.client, 'model', '?')!r}, "
            f"mode={self.mode!r}, token_budget={self.token_budget})"
        )


class _Abstain(Exception):  # noqa: N818 (control flow inside the analyst, never escapes it)
    def __init__(self, message: str, call: LLMCall, earlier: tuple[LLMCall, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.call = call
        self.earlier = earlier
