"""The LLM layer: one client seam, record/replay cache, cost ledger, output validation, input guard.

The only public API is what this module exposes. Importing it does not import ``openai`` (that
happens when an :class:`OpenAICompatClient` is built) nor SQLAlchemy (when a SQL cache store is).

Examples:
    >>> from axon_lab.llm import CachedClient, MemoryCacheStore, ScriptedClient, SystemPrompt
    >>> client = CachedClient(ScriptedClient(["{}"]), mode="record", store=MemoryCacheStore())
    >>> client.complete(SystemPrompt().messages("BTC-USD, last 24 bars: ...")).text
    '{}'
"""

from __future__ import annotations

from axon_lab.errors import LLMOutputError, LLMResponseError, LLMToolCallError
from axon_lab.llm._analysis import (
    DEFAULT_MIN_CONFIDENCE,
    AnalysisContract,
    abstain,
    complete_analysis,
    failed_llm_call,
    parse_analysis,
)
from axon_lab.llm._archive import PROMPTS, PromptArchive, request_json, request_parts
from axon_lab.llm._cache import CachedClient, CacheMode
from axon_lab.llm._cache_store import (
    CACHE_KEY_LAYOUT,
    DEFAULT_CACHE_URL,
    CacheStore,
    MemoryCacheStore,
    SQLCacheStore,
)
from axon_lab.llm._client import BaseLLMClient, LLMClient, asend_request, send_request
from axon_lab.llm._connections import pooled_connections
from axon_lab.llm._guard import GuardFinding, GuardResult, InputGuard, guard_text
from axon_lab.llm._json_extract import extract_json_object
from axon_lab.llm._ledger import (
    CostLedger,
    MeteredClient,
    Price,
    PriceTable,
    estimate_prompt_tokens,
)
from axon_lab.llm._openai_compat import ENV_API_KEY, ENV_BASE_URL, ENV_MODEL, OpenAICompatClient
from axon_lab.llm._prompt import SystemPrompt, describe_tools
from axon_lab.llm._request import LLMRequest, PreparedTools, canonical_json, request_key
from axon_lab.llm._response import LLMResponse, Usage
from axon_lab.llm._retry import RetryPolicy, is_retryable_status
from axon_lab.llm._scripted import ScriptedClient, make_response
from axon_lab.llm._structured import StructuredMode, json_schema_format
from axon_lab.llm._tool_calls import check_tool_call

__all__ = [
    # the seam
    "LLMClient",
    "BaseLLMClient",
    "LLMRequest",
    "PreparedTools",
    "LLMResponse",
    "Usage",
    "request_key",
    "canonical_json",
    # what the model saw, kept by content
    "PROMPTS",
    "PromptArchive",
    "request_parts",
    "request_json",
    "send_request",
    "asend_request",
    "pooled_connections",
    # clients
    "OpenAICompatClient",
    "ENV_BASE_URL",
    "ENV_API_KEY",
    "ENV_MODEL",
    "RetryPolicy",
    "is_retryable_status",
    "StructuredMode",
    "json_schema_format",
    "ScriptedClient",
    "make_response",
    # cache
    "CachedClient",
    "CacheMode",
    "CacheStore",
    "MemoryCacheStore",
    "SQLCacheStore",
    "DEFAULT_CACHE_URL",
    "CACHE_KEY_LAYOUT",
    # cost
    "CostLedger",
    "MeteredClient",
    "Price",
    "PriceTable",
    "estimate_prompt_tokens",
    # output
    "AnalysisContract",
    "DEFAULT_MIN_CONFIDENCE",
    "parse_analysis",
    "complete_analysis",
    "abstain",
    "failed_llm_call",
    "extract_json_object",
    "check_tool_call",
    # prompts and input
    "SystemPrompt",
    "describe_tools",
    "InputGuard",
    "GuardResult",
    "GuardFinding",
    "guard_text",
    # errors
    "LLMResponseError",
    "LLMOutputError",
    "LLMToolCallError",
]
