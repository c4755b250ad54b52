"""A user's objective factory, named by import path in the registry test."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from axon_lab.hpo import LoopObjective


def build(data: pd.DataFrame, options: Mapping[str, Any]) -> LoopObjective:
    fees = float(options.get("fees", 0.0))
    return LoopObjective(data, lambda params: {"fee_rate": fees, **params})
