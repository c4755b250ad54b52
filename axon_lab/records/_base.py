"""The record base class and the validated field types every record uses."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from axon_lab.errors import RecordError


def _to_utc(value: datetime) -> datetime:
    if type(value) is datetime and value.tzinfo is UTC:  # the usual case: nothing to convert
        return value
    to_py = getattr(value, "to_pydatetime", None)  # pandas.Timestamp -> datetime
    if to_py is not None:
        value = to_py()
    return value.astimezone(UTC)


UTCDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware datetime, normalised to UTC."""

Finite = Annotated[float, Field(allow_inf_nan=False)]
PositiveFinite = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFinite = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Symbol = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]
NonNegativeInt = Annotated[int, Field(ge=0)]


def _describe(model: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "<record>"
        if err["type"] == "missing":
            parts.append(f"{model}.{loc} is required but missing.")
            continue
        value = err.get("input")
        msg = err["msg"].rstrip(".").removeprefix("Value error, ")
        if not err["loc"]:
            parts.append(f"Invalid {model}: {msg}.")
        elif err["type"] == "extra_forbidden":
            parts.append(f"{model} has no field {loc!r} (got {value!r}); remove it.")
        else:
            parts.append(f"Invalid {model}.{loc} = {value!r}: {msg}.")
    return " ".join(parts)


class Record(BaseModel):
    """Base of every record: frozen, strict about unknown fields, JSON round-trippable."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise RecordError(_describe(type(self).__name__, exc)) from None

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """Parse a record from the JSON produced by :meth:`to_json`.

        Raises:
            RecordError: If the JSON is malformed or a value is invalid.
        """
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise RecordError(_describe(cls.__name__, exc)) from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build a record from a mapping (e.g. ``json.loads`` output).

        Raises:
            RecordError: If a value is invalid.
        """
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise RecordError(_describe(cls.__name__, exc)) from None

    def to_json(self) -> str:
        """Serialise to compact JSON."""
        return self.model_dump_json()

    def to_dict(self) -> dict[str, Any]:
        """Serialise to JSON-compatible Python objects."""
        return self.model_dump(mode="json")

    def replace(self, **changes: Any) -> Self:
        """Return a validated copy with ``changes`` applied.

        Raises:
            RecordError: If a changed value is invalid.
        """
        return type(self)(**{**self.model_dump(), **changes})

    def digest(self) -> str:
        """A stable SHA-256 hex digest of the record's JSON form."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()
