"""Extra observation inputs: the RL policy's hint and time-stamped documents (news, filings).

Both are optional parts of an :class:`~axon_lab.records.Observation`: an Observe stage adds them
(:class:`~axon_lab.rl.RLHintStage`, :class:`~axon_lab.oader.DocumentsStage`), the prompt shows
them, and the explain store keeps them with the observation of every step.
"""

from __future__ import annotations

from pydantic import Field

from axon_lab.records._base import Finite, Probability, Record, Symbol, UTCDatetime
from axon_lab.records._enums import Action


class RLHint(Record):
    """What a trained RL policy recommends at an observation (seed 001's RL-augmented LLM).

    Attributes:
        policy: The policy's name.
        action: The policy's most probable (or greedy) action.
        confidence: The probability of ``action`` under the policy; None for a policy without a
            stochastic distribution (DQN: see ``q_values``).
        probabilities: The probability of each action (empty for DQN).
        value: The policy's value estimate of the state (PPO/A2C critic; DQN: the largest
            q-value), in the reward's units; None when the policy gives none.
        q_values: DQN's action values (empty for other algorithms).
        bar_time: Open time of the last bar the policy read (complete at the observation time).
    """

    policy: str = Field(min_length=1)
    action: Action
    confidence: Probability | None = None
    probabilities: dict[Action, Probability] = Field(default_factory=dict)
    value: Finite | None = None
    q_values: dict[Action, Finite] = Field(default_factory=dict)
    bar_time: UTCDatetime


class Document(Record):
    """One time-stamped text (a news item, a filing, a post) as an observation carries it.

    Attributes:
        doc_id: The document's id (from the file, or its row number there).
        published_at: When it was published (UTC).
        symbols: The symbols it concerns (empty: the whole market).
        title: Its title (may be empty).
        text: Its body as shown to the model (cut to the token budget when ``truncated``).
        source: Where it came from (a feed name, a file), may be empty.
        truncated: Whether ``text`` was cut to fit the prompt's token budget.
    """

    doc_id: str = Field(min_length=1, max_length=200)
    published_at: UTCDatetime
    symbols: tuple[Symbol, ...] = ()
    title: str = Field(default="", max_length=2_000)
    text: str
    source: str = Field(default="", max_length=200)
    truncated: bool = False
