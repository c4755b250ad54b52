"""What the model saw, read back: the exact request behind an LLM call, an order or a step.

Steps refer to what their stages saw by SHA-256: each LLM call lists its request's parts
(``LLMCall.request_parts``: head, tools, messages) and each step names its observation
(``observation_digest``). The store keeps each text once per run, zlib-compressed, in
``axon_blobs`` (:func:`blob_rows` makes the rows). The readers here join them back:

* :func:`request_json` — the request exactly as it was hashed (its SHA-256 is the call's
  ``request_hash`` for a client without an endpoint), and :func:`llm_request` the same parsed;
* :func:`observation` — the :class:`~axon_lab.records.Observation` a step's stages read;
* :func:`prompts_for_order` — for an order's client id, each LLM call of the step that placed
  it with its request and its raw response: "why did the model buy here?" in one call.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from axon_lab.errors import ConfigError, StoreError
from axon_lab.llm import request_json as join_request
from axon_lab.records import LLMCall, Observation, StepRecord

from . import _schema
from ._args import parse_record

if TYPE_CHECKING:
    from ._store import ExplainStore

__all__ = [
    "PromptRecord",
    "blob_rows",
    "llm_request",
    "observation",
    "prompts_for_order",
    "read_blobs",
    "request_json",
    "step_prompts",
]


# Level 1: within 5 % of level 6's size on these JSON texts, a quarter less time. A 4 KiB window
# and a small hash table (wbits 12, memLevel 4): a blob is a few KiB, and zlib's default state
# (a 32 KiB window, 256 KiB of tables) costs more to set up and clear than compressing one
# (measured on a 2 KiB observation: 20 us against 100 us, the same output size). Any zlib reader
# decompresses it: the stream's header names its window.
_LEVEL, _WBITS, _MEM_LEVEL = 1, 12, 4


def compress_blob(raw: bytes) -> bytes:
    """``raw`` as the zlib stream the store keeps (``zlib.decompress`` reads it back)."""
    packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WBITS, _MEM_LEVEL)
    return packer.compress(raw) + packer.flush()


def blob_rows(run_id: str, blobs: Mapping[str, str]) -> list[tuple[str, str, int, bytes]]:
    """``(run_id, digest, size, zlib data)`` rows of ``digest -> text`` blobs."""
    rows = []
    for digest, text in blobs.items():
        raw = text.encode()
        rows.append((run_id, digest, len(raw), compress_blob(raw)))
    return rows


def read_blobs(store: ExplainStore, run_id: str, digests: Iterable[str]) -> dict[str, str]:
    """The stored texts of ``digests`` in run ``run_id`` (those stored), by digest.

    Raises:
        StoreError: If the read fails or a blob is damaged.
    """
    wanted = sorted(set(digests))
    if not wanted:
        return {}
    table = _schema.blobs
    query = select(table.c.digest, table.c.data).where(
        table.c.run_id == run_id, table.c.digest.in_(wanted)
    )
    with store._reading(f"read what run {run_id!r} saw") as conn:
        rows = list(conn.execute(query))
    out: dict[str, str] = {}
    for digest, data in rows:
        try:
            out[digest] = zlib.decompress(bytes(data)).decode()
        except (zlib.error, UnicodeDecodeError) as exc:
            raise StoreError(
                f"the stored text {digest} of run {run_id!r} is damaged ({exc}); run "
                "store.check_run on it"
            ) from None
    return out


def _parts(store: ExplainStore, run_id: str, call: LLMCall) -> list[str]:
    if not call.request_parts:
        raise StoreError(
            f"the LLM call {call.request_hash} of run {run_id!r} names no request parts: it was "
            "recorded before axon_lab kept requests (store layout 4)"
        )
    found = read_blobs(store, run_id, call.request_parts)
    missing = [d for d in call.request_parts if d not in found]
    if missing:
        raise StoreError(
            f"the request of LLM call {call.request_hash} in run {run_id!r} lacks "
            f"{len(missing)} stored part(s) ({missing[0][:12]}...): the step was recorded "
            "without them (a recorder other than ExplainRecorder?)"
        )
    return [found[d] for d in call.request_parts]


def request_json(store: ExplainStore, run_id: str, call: LLMCall) -> str:
    """The request of ``call`` as canonical JSON, exactly as it was hashed.

    Raises:
        StoreError: If the call names no parts or a part is not stored.
    """
    return join_request(_parts(store, run_id, call))


def llm_request(store: ExplainStore, run_id: str, call: LLMCall) -> dict[str, Any]:
    """The request of ``call``: messages, model, params, response_format and tools."""
    value: dict[str, Any] = json.loads(request_json(store, run_id, call))
    return value


def observation(store: ExplainStore, run_id: str, step: int) -> Observation:
    """The observation step ``step`` of run ``run_id`` read.

    Raises:
        StoreError: If the step does not exist or its observation was not kept.
        ConfigError: If it is a portfolio step (read it with portfolio_observation).
    """
    table = _schema.steps
    query = select(table.c.record_json).where(table.c.run_id == run_id, table.c.step == step)
    with store._reading(f"read step {step} of run {run_id!r}") as conn:
        text = conn.execute(query).scalar_one_or_none()
    if text is None:
        raise StoreError(f"run {run_id!r} has no step {step}; list its steps with store.steps")
    step_record = parse_record(StepRecord, text, "step")
    if step_record.portfolio is not None:
        raise ConfigError(
            f"step {step} of run {run_id!r} is a portfolio step; read its observation with "
            "axon_lab.portfolio.portfolio_observation(store, run_id, step)"
        )
    digest = step_record.observation_digest
    kept = read_blobs(store, run_id, [digest]).get(digest)
    if kept is None:
        raise StoreError(
            f"the observation of step {step} of run {run_id!r} was not kept (digest "
            f"{digest[:12] or 'none'}): the step failed before Observe, or was recorded before "
            "axon_lab kept observations (store layout 4)"
        )
    return parse_record(Observation, kept, "observation")


def step_prompts(store: ExplainStore, step: StepRecord) -> tuple[PromptRecord, ...]:
    """Each LLM call of ``step`` with the request it sent.

    Calls whose parts were not kept (recorded before layout 4) are left out.
    """
    calls = step.analysis.llm_calls if step.analysis is not None else ()
    texts = read_blobs(store, step.run_id, {d for c in calls for d in c.request_parts})
    return tuple(
        PromptRecord(
            step=step.step,
            call=c,
            request=join_request([texts[d] for d in c.request_parts]),
            response=c.raw_response,
        )
        for c in calls
        if c.request_parts and all(d in texts for d in c.request_parts)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptRecord:
    """One LLM call behind an order: where it was made, what was sent, what came back.

    Attributes:
        step: The step that placed the order.
        call: The recorded call.
        request: The request exactly as sent (canonical JSON).
        response: The model's raw response text (as recorded, clipped if huge).
    """

    step: int
    call: LLMCall
    request: str
    response: str


def prompts_for_order(
    store: ExplainStore, run_id: str, client_order_id: str
) -> tuple[PromptRecord, ...]:
    """Every LLM call of the step that placed order ``client_order_id``, with its request.

    Raises:
        StoreError: If no step of the run placed that order, or a request part is missing.
    """
    for step in store.steps(run_id):
        ids: Sequence[str | None] = [a.client_order_id for a in step.acks] + [
            v.client_order_id for v in step.verdicts
        ]
        if client_order_id in ids:
            calls = step.analysis.llm_calls if step.analysis is not None else ()
            return tuple(
                PromptRecord(
                    step=step.step,
                    call=c,
                    request=request_json(store, run_id, c),
                    response=c.raw_response,
                )
                for c in calls
            )
    raise StoreError(
        f"no step of run {run_id!r} placed an order {client_order_id!r}; list the run's orders "
        "with store.orders(run_id)"
    )
