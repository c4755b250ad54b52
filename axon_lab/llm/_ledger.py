"""Cost accounting: a per-model :class:`PriceTable`, :class:`CostLedger` and :class:`MeteredClient`.

Cost of a call = ``tokens_in * input price + tokens_out * output price``, prices in currency units
per million tokens. Local models cost zero. Cache hits cost zero.

Budget cap: before each call, :class:`MeteredClient` estimates its worst-case cost and refuses the
call with :class:`~axon_lab.errors.BudgetExceededError` if ``spent + held + estimate`` would pass
the cap (``held`` = estimates of calls still in flight).
The estimate is prompt tokens (``ceil(characters / 4)`` of the messages and tools as JSON, a
deliberately generous rule of thumb for English text) plus ``max_tokens`` from the call's params
(else the ledger's ``default_max_tokens``), priced at the model's rates. A run therefore stops one
call early rather than one call late.

Put the meter inside the cache (``CachedClient(MeteredClient(client, ledger))``) so replayed calls
are neither charged nor checked against the budget.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from axon_lab.errors import BudgetExceededError, ConfigError
from axon_lab.llm._client import BaseLLMClient, LLMClient, asend_request, send_request
from axon_lab.llm._request import LLMRequest, canonical_json
from axon_lab.llm._response import LLMResponse
from axon_lab.records import LLMCall

__all__ = ["CostLedger", "MeteredClient", "Price", "PriceTable", "estimate_prompt_tokens"]

_CHARS_PER_TOKEN = 4


@dataclass(frozen=True, slots=True)
class Price:
    """Prices per million tokens, for input (prompt) and output (completion) tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def __post_init__(self) -> None:
        for value in (self.input_per_mtok, self.output_per_mtok):
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"Prices must be finite and >= 0, got {value!r}.")

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        """The cost of a call with these token counts."""
        return (tokens_in * self.input_per_mtok + tokens_out * self.output_per_mtok) / 1e6


FREE = Price(0.0, 0.0)


class PriceTable:
    """An editable model -> :class:`Price` table.

    A model is looked up exactly, then by the longest registered prefix (so ``"gpt-x"`` prices
    ``"gpt-x-2031-01-01"``). Unknown models cost zero with a warning, once per model: prices change
    too often to ship, so the user enters the ones they pay.

    Args:
        prices: Initial entries; ``(input, output)`` tuples or :class:`Price`.
        free: Models that cost nothing (local models); SmolLM2 and the scripted client by default.

    Examples:
        >>> table = PriceTable({"my-model": (1.0, 2.0)})
        >>> table.cost("my-model", tokens_in=1_000_000, tokens_out=500_000)
        2.0
        >>> table.set("other", input_per_mtok=0.5, output_per_mtok=0.5)
        >>> table.cost("smollm2-135m-instruct", tokens_in=10**6, tokens_out=10**6)
        0.0
    """

    def __init__(
        self,
        prices: Mapping[str, Price | tuple[float, float]] | None = None,
        *,
        free: tuple[str, ...] = ("smollm2", "scripted", "fake-model", "local"),
    ) -> None:
        self._prices: dict[str, Price] = {}
        self._warned: set[str] = set()
        for prefix in free:
            self._prices[prefix] = FREE
        for model, price in (prices or {}).items():
            self._prices[model] = price if isinstance(price, Price) else Price(*price)

    def set(self, model: str, *, input_per_mtok: float, output_per_mtok: float) -> None:
        """Add or change the price of ``model`` (or a model-name prefix)."""
        self._prices[model] = Price(input_per_mtok, output_per_mtok)

    def __iter__(self) -> Iterator[str]:
        return iter(self._prices)

    def price(self, model: str) -> Price:
        """The price of ``model`` (zero, with a warning, when unknown)."""
        name = model.lower()
        if model in self._prices:
            return self._prices[model]
        matches = [p for p in self._prices if name.startswith(p.lower())]
        if matches:
            return self._prices[max(matches, key=len)]
        if model not in self._warned:
            self._warned.add(model)
            warnings.warn(
                f"No price for model {model!r}; counting it as free. Set one with "
                f"ledger.prices.set({model!r}, input_per_mtok=..., output_per_mtok=...).",
                stacklevel=3,
            )
        return FREE

    def cost(self, model: str, *, tokens_in: int, tokens_out: int) -> float:
        """The cost of a call to ``model``."""
        return self.price(model).cost(tokens_in, tokens_out)


def estimate_prompt_tokens(request: LLMRequest) -> int:
    """An upper-leaning estimate of a request's prompt tokens: ``ceil(chars / 4)``.

    Examples:
        >>> estimate_prompt_tokens(LLMRequest.build([{"role": "user", "content": "x" * 400}]))
        109
    """
    text = canonical_json([list(request.messages), list(request.tools or ())])
    return math.ceil(len(text) / _CHARS_PER_TOKEN)


class CostLedger:
    """Per-call and per-run cost, with an optional budget cap.

    Args:
        prices: The price table (default: an empty table with free local models).
        budget: The most a run may spend, or None for no cap.
        default_max_tokens: Completion tokens assumed when a call sets no ``max_tokens``.

    Examples:
        >>> ledger = CostLedger(PriceTable({"m": (1.0, 1.0)}), budget=1.0)
        >>> from axon_lab.llm import make_response
        >>> call = ledger.record(make_response("x", model="m", prompt_tokens=600_000))
        >>> round(call.cost, 6), round(ledger.remaining, 6)
        (0.6, 0.4)
    """

    def __init__(
        self,
        prices: PriceTable | None = None,
        *,
        budget: float | None = None,
        default_max_tokens: int = 1024,
    ) -> None:
        if budget is not None and not (math.isfinite(budget) and budget >= 0):
            raise ConfigError(f"budget must be a finite number >= 0 or None, got {budget!r}.")
        self.prices = prices if prices is not None else PriceTable()
        self.budget = budget
        self.default_max_tokens = default_max_tokens
        self._calls: list[LLMCall] = []
        self._reserved = 0.0
        self._lock = threading.Lock()

    @property
    def calls(self) -> tuple[LLMCall, ...]:
        """Every recorded call, oldest first."""
        with self._lock:
            return tuple(self._calls)

    @property
    def total_cost(self) -> float:
        """What the run has spent so far."""
        with self._lock:
            return math.fsum(c.cost for c in self._calls)

    @property
    def tokens_in(self) -> int:
        """Prompt tokens of all live calls."""
        with self._lock:
            return sum(c.tokens_in for c in self._calls if not c.cache_hit)

    @property
    def tokens_out(self) -> int:
        """Completion tokens of all live calls."""
        with self._lock:
            return sum(c.tokens_out for c in self._calls if not c.cache_hit)

    @property
    def remaining(self) -> float:
        """Budget left (infinite without a cap)."""
        return math.inf if self.budget is None else self.budget - self.total_cost

    def by_model(self) -> dict[str, float]:
        """Spend per model."""
        out: dict[str, float] = {}
        for call in self.calls:
            out[call.model] = out.get(call.model, 0.0) + call.cost
        return out

    def estimate(self, model: str, request: LLMRequest) -> float:
        """The worst-case cost of sending ``request`` to ``model`` (see the module docs)."""
        max_tokens = request.params.get("max_tokens") or request.params.get(
            "max_completion_tokens", self.default_max_tokens
        )
        return self.prices.cost(
            model, tokens_in=estimate_prompt_tokens(request), tokens_out=int(max_tokens)
        )

    def reserve(self, model: str, request: LLMRequest) -> float:
        """Check the budget for ``request`` and hold its estimate until :meth:`release`.

        Holding the estimate keeps concurrent calls from all passing the check at once.

        Returns:
            The amount held (0.0 without a cap).

        Raises:
            BudgetExceededError: If ``spent + held + estimate > budget``.
        """
        if self.budget is None:
            return 0.0
        estimate = self.estimate(model, request)
        with self._lock:
            spent = math.fsum(c.cost for c in self._calls)
            if spent + self._reserved + estimate > self.budget:
                raise BudgetExceededError(
                    f"The next call to {model!r} could cost up to {estimate:.6f}; the run has "
                    f"spent {spent:.6f} (and holds {self._reserved:.6f} for calls in flight) of "
                    f"its budget {self.budget:.6f}. Raise budget=..., lower max_tokens, or "
                    "replay from the cache."
                )
            self._reserved += estimate
        return estimate

    def release(self, amount: float) -> None:
        """Release an amount held by :meth:`reserve`."""
        with self._lock:
            self._reserved = max(self._reserved - amount, 0.0)

    def record(self, response: LLMResponse) -> LLMCall:
        """Price ``response`` (zero for a cache hit), store and return its :class:`LLMCall`."""
        cost = 0.0
        if not response.cache_hit:
            cost = self.prices.cost(
                response.model,
                tokens_in=response.usage.prompt_tokens,
                tokens_out=response.usage.completion_tokens,
            )
        call = response.to_llm_call(cost=cost)
        with self._lock:
            self._calls.append(call)
        return call


class MeteredClient(BaseLLMClient):
    """Wrap a client so every call is checked against the budget and recorded in a ledger.

    Examples:
        >>> from axon_lab.llm import ScriptedClient, make_response
        >>> ledger = CostLedger(PriceTable({"m": (1000.0, 1000.0)}), budget=0.01)
        >>> inner = ScriptedClient([make_response("x", model="m")], model="m")
        >>> client = MeteredClient(inner, ledger)
        >>> msgs = [{"role": "user", "content": "hi"}]
        >>> client.complete(msgs, max_tokens=100_000)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        axon_lab.errors.BudgetExceededError: The next call to 'm' could cost up to 100.010000; ...
    """

    def __init__(self, inner: LLMClient, ledger: CostLedger) -> None:
        super().__init__(inner.model, max_concurrency=getattr(inner, "max_concurrency", 8))
        self.inner = inner
        self.ledger = ledger

    @property
    def endpoint(self) -> str:
        """The wrapped client's endpoint."""
        return str(getattr(self.inner, "endpoint", ""))

    def _send(self, request: LLMRequest) -> LLMResponse:
        held = self.ledger.reserve(self.model, request)
        try:
            response = send_request(self.inner, request)
        finally:
            self.ledger.release(held)
        return response.replace(cost=self.ledger.record(response).cost)

    async def _asend(self, request: LLMRequest) -> LLMResponse:
        held = self.ledger.reserve(self.model, request)
        try:
            response = await asend_request(self.inner, request)
        finally:
            self.ledger.release(held)
        return response.replace(cost=self.ledger.record(response).cost)
