"""Lazy imports of optional dependencies.

Heavy or optional packages (torch, plotly, ipywidgets, openai, ccxt, ...) are imported at the point
of use through :func:`require`, so ``import axon_lab`` stays light and a missing package surfaces as
a :class:`~axon_lab.errors.MissingDependencyError` naming the extra that provides it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from axon_lab.errors import MissingDependencyError

__all__ = ["require"]


def require(module: str, extra: str, *, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise an error that names the extra to install.

    Args:
        module: Dotted module name, e.g. ``"openai"``.
        extra: The axon-lab extra that installs it, e.g. ``"llm"``; ``"core"`` for a plain
            dependency of axon-lab (then the install itself is broken).
        purpose: What the caller needs it for, used in the error message.

    Returns:
        The imported module.

    Raises:
        MissingDependencyError: If the module cannot be imported.

    Examples:
        >>> require("json", "core").dumps([1])
        '[1]'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        need = f" for {purpose}" if purpose else ""
        fix = (
            "It is a core dependency of axon-lab, so the install is incomplete; repair it with: "
            "pip install --force-reinstall axon-lab"
            if extra == "core"
            else f"Install it with: pip install 'axon-lab[{extra}]'"
        )
        raise MissingDependencyError(
            f"{module!r} is required{need} but is not installed ({exc}). {fix}"
        ) from exc
