"""Laying a record out without pydantic's validation, for hot-path builders that checked it all.

``Model.model_construct`` skips validation but still walks the schema per call; a builder that
runs once per order or fill in the loop lays out ``__dict__`` itself (:func:`raw`). It must test,
in plain Python, every constraint the schema would test, and it must check its layout against
the schema once (:func:`has_layout`), so that a schema change turns its fast path off instead of
building wrong records. The builders live next to their callers (``axon_lab.backends._trusted``,
``axon_lab.risk``); :mod:`axon_lab.records.testing` states what they must satisfy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["AVAILABLE", "after_validators", "has_layout", "raw"]

M = TypeVar("M", bound=BaseModel)

# BaseModel's own slots (every model instance has them): set directly, as model_construct does.
# They are pydantic internals: if a pydantic release moves them, the fast path turns itself off
# (every builder then takes its validating constructor) instead of breaking the import.
_new = object.__new__
try:
    _slots = BaseModel.__dict__
    _set_dict = _slots["__dict__"].__set__
    _set_fields_set = _slots["__pydantic_fields_set__"].__set__
    _set_extra = _slots["__pydantic_extra__"].__set__
    _set_private = _slots["__pydantic_private__"].__set__
    AVAILABLE = True
except (KeyError, AttributeError):  # pragma: no cover - only on a pydantic we have not tested
    AVAILABLE = False


def raw(cls: type[M], data: dict[str, Any], fields_set: set[str]) -> M:
    """An instance of ``cls`` with ``__dict__`` ``data`` (every field, in schema order)."""
    obj = _new(cls)
    _set_dict(obj, data)
    _set_fields_set(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


def has_layout(cls: type[BaseModel], names: tuple[str, ...], defaults: dict[str, Any]) -> bool:
    """Whether ``cls`` has exactly the fields ``names`` (in order) and these ``defaults``.

    Also False for a model that needs pydantic's own construction (a post-init hook, private
    attributes, a root model, an aliased field), and whenever the pydantic internals
    :func:`raw` needs were not found (:data:`AVAILABLE`).
    """
    if not AVAILABLE:
        return False
    if cls.__pydantic_post_init__ or cls.__private_attributes__ or cls.__pydantic_root_model__:
        return False
    fields = cls.model_fields
    if tuple(fields) != names or any(info.alias not in (None, n) for n, info in fields.items()):
        return False
    return all(
        not fields[name].is_required()
        and fields[name].default_factory is None
        and fields[name].default == value
        and type(fields[name].default) is type(value)
        for name, value in defaults.items()
    )


def after_validators(cls: type[BaseModel]) -> tuple[Callable[[Any], Any], ...] | None:
    """The ``mode="after"`` model validators pydantic re-runs on a nested ``cls`` instance.

    An instance nested in another record is not re-validated, but these run on it again; None
    if ``cls`` has validators of another kind, which cannot be replayed that way.
    """
    decorators = cls.__pydantic_decorators__
    infos = list(decorators.model_validators.values())
    if not all(d.info.mode == "after" for d in infos) or (
        decorators.field_validators or decorators.validators or decorators.root_validators
    ):
        return None
    return tuple(d.func for d in infos)
