"""Two-phase confirmation in a run: who answers a ``pending_confirmation``, and how it is recorded.

Under :class:`~axon_lab.risk.TwoPhaseMode` an order above the threshold comes back with a
confirm token instead of trading. Someone has to answer it. A :class:`ConfirmationPolicy` does,
for every pending order the Execute stage meets:

* :class:`AutoConfirmBelow` — confirms up to a stated notional, denies above it;
* :class:`AskCallable` — asks a function (a person's prompt, a second model, a rule); an
  exception or an unknown answer is a denial (fail-closed);
* :class:`WaitForPerson` — leaves the order in a :class:`ConfirmationQueue` for a person, who
  confirms or denies it from the loop stepper's buttons (or ``queue.confirm(token)``); the next
  step carries the answer out, while the token is still valid.

Every answer is recorded as a verdict on the safety-mode line (``confirmation_given`` or
``confirmation_denied``, naming who answered), next to the chain's own ``confirmed`` verdict.
A backtest never confirms silently: ``make_agent(mode="two_phase")`` on a simulated clock
refuses to start without a stated policy.

Examples:
    >>> from datetime import datetime, timezone
    >>> from axon_lab.records import OrderRequest
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> order = OrderRequest(client_order_id="c", symbol="X", side="buy", quantity=3.0)
    >>> pending = PendingConfirmation(token="tok", order=order, notional=300.0,
    ...                               issued_at=t, arguments="{}")
    >>> queue = ConfirmationQueue(AutoConfirmBelow(250.0))
    >>> queue.offer(pending)
    ('deny', 'AutoConfirmBelow(250): notional 300 is above 250')
    >>> queue = ConfirmationQueue(WaitForPerson())
    >>> queue.offer(pending)
    ('wait', 'WaitForPerson()')
    >>> [p.token for p in queue.waiting]
    ['tok']
    >>> queue.confirm("tok", by="analyst on duty")
    >>> [(p.token, answer, by) for p, answer, by in queue.take_decided()]
    [('tok', 'confirm', 'analyst on duty')]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from axon_lab.errors import ConfigError
from axon_lab.records import OrderRequest

__all__ = [
    "AskCallable",
    "AutoConfirmBelow",
    "ConfirmAnswer",
    "ConfirmationPolicy",
    "ConfirmationQueue",
    "PendingConfirmation",
    "WaitForPerson",
]

ConfirmAnswer = Literal["confirm", "deny", "wait"]
_ANSWERS: frozenset[str] = frozenset({"confirm", "deny", "wait"})


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingConfirmation:
    """An order waiting for confirmation.

    Attributes:
        token: The confirm token the safety mode issued.
        order: The order as submitted.
        notional: Its notional as the safety mode valued it.
        issued_at: When the token was issued (loop clock).
        arguments: The ``place_order`` tool arguments to resend with the token.
    """

    token: str
    order: OrderRequest
    notional: float
    issued_at: datetime
    arguments: str


@runtime_checkable
class ConfirmationPolicy(Protocol):
    """Answers a pending order: ``(answer, reason)``."""

    def __call__(self, pending: PendingConfirmation) -> tuple[ConfirmAnswer, str]:
        """Confirm, deny or wait, with who or what decided and why."""
        ...


class AutoConfirmBelow:
    """Confirms orders up to ``notional``; denies larger ones.

    Args:
        notional: The largest notional confirmed without a person.
    """

    def __init__(self, notional: float) -> None:
        if not (isinstance(notional, int | float) and math.isfinite(notional) and notional >= 0):
            raise ConfigError(f"AutoConfirmBelow needs a finite notional >= 0, got {notional!r}")
        self.notional = float(notional)

    def __call__(self, pending: PendingConfirmation) -> tuple[ConfirmAnswer, str]:
        """Confirm at or below the notional, deny above it."""
        if pending.notional <= self.notional:
            return (
                "confirm",
                f"{self!r}: notional {pending.notional:g} is at most {self.notional:g}",
            )
        return "deny", f"{self!r}: notional {pending.notional:g} is above {self.notional:g}"

    def __repr__(self) -> str:
        return f"AutoConfirmBelow({self.notional:g})"


class AskCallable:
    """Asks ``ask(pending)``; True or ``"confirm"`` confirms, anything else denies or waits.

    ``ask`` may return a bool, ``"confirm"``, ``"deny"`` or ``"wait"``. If it raises or returns
    anything else the order is denied, with the reason recorded (fail-closed).

    Args:
        ask: The function that answers.
        name: How the answer is attributed in the record (default: the function's name).
    """

    def __init__(self, ask: Callable[[PendingConfirmation], object], *, name: str | None = None):
        if not callable(ask):
            raise ConfigError(f"AskCallable needs a callable, got {ask!r}")
        self.ask = ask
        self.name = name or getattr(ask, "__name__", type(ask).__name__)

    def __call__(self, pending: PendingConfirmation) -> tuple[ConfirmAnswer, str]:
        """Ask, and map the answer; fail closed on anything unexpected."""
        try:
            answer = self.ask(pending)
        except Exception as exc:
            return "deny", f"{self!r} raised {type(exc).__name__}: {exc}; denied (fail-closed)"
        if answer is True:
            return "confirm", repr(self)
        if answer is False:
            return "deny", repr(self)
        if isinstance(answer, str) and answer in _ANSWERS:
            return answer, repr(self)  # type: ignore[return-value]  # (checked just above)
        return "deny", f"{self!r} answered {answer!r:.80}, not confirm/deny/wait; denied"

    def __repr__(self) -> str:
        return f"AskCallable({self.name})"


class WaitForPerson:
    """Every pending order waits in the queue for a person's Confirm or Deny."""

    def __call__(self, pending: PendingConfirmation) -> tuple[ConfirmAnswer, str]:
        """Wait."""
        return "wait", repr(self)

    def __repr__(self) -> str:
        return "WaitForPerson()"


class ConfirmationQueue:
    """Pending orders, the policy that answers them, and a person's answers given in between.

    Args:
        policy: Answers each pending order as it arrives.
    """

    def __init__(self, policy: ConfirmationPolicy) -> None:
        if not callable(policy):
            raise ConfigError(
                f"a confirmation policy must be callable (AutoConfirmBelow, AskCallable, "
                f"WaitForPerson), got {policy!r}"
            )
        self.policy = policy
        self._waiting: dict[str, PendingConfirmation] = {}
        self._decided: list[tuple[PendingConfirmation, ConfirmAnswer, str]] = []

    @property
    def waiting(self) -> tuple[PendingConfirmation, ...]:
        """Orders waiting for a person, oldest first."""
        return tuple(self._waiting.values())

    def offer(self, pending: PendingConfirmation) -> tuple[ConfirmAnswer, str]:
        """Ask the policy about a new pending order; ``"wait"`` keeps it in the queue."""
        answer, reason = self.policy(pending)
        if answer == "wait":
            self._waiting[pending.token] = pending
        return answer, reason

    def confirm(self, token: str, *, by: str = "person") -> None:
        """Confirm a waiting order (carried out at the next step).

        Raises:
            ConfigError: If no order waits under ``token``.
        """
        self._decide(token, "confirm", by)

    def deny(self, token: str, *, by: str = "person") -> None:
        """Deny a waiting order (recorded at the next step).

        Raises:
            ConfigError: If no order waits under ``token``.
        """
        self._decide(token, "deny", by)

    def _decide(self, token: str, answer: ConfirmAnswer, by: str) -> None:
        pending = self._waiting.pop(token, None)
        if pending is None:
            raise ConfigError(
                f"no order waits for confirmation under token {token!r}; waiting: "
                f"{sorted(self._waiting)}"
            )
        self._decided.append((pending, answer, by))

    def take_decided(self) -> list[tuple[PendingConfirmation, ConfirmAnswer, str]]:
        """The answers given since the last call, oldest first (and forget them)."""
        out, self._decided = self._decided, []
        return out

    def __repr__(self) -> str:
        return f"ConfirmationQueue(policy={self.policy!r}, waiting={len(self._waiting)})"
