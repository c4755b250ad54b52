"""The numba decorators of the backtest kernels: the compile options live here, in one place.

Compile time matters as much as run time: a fresh process with an empty numba cache compiles
every kernel a call touches. The options below keep that small (see rule 5 in ``_kernels``):

- every function is cached on disk (``cache=True``) and uses numpy's error model (no
  ``ZeroDivisionError`` checks);
- no C-callback wrapper is built (``no_cfunc_wrapper``): it only serves passing a compiled
  function as a first-class value into another compiled function, which nothing here does;
- helpers keep their Python entry point although only compiled code calls them: dropping it
  (``no_cpython_wrapper``) saved about 0.2 s of a cold first call, but calling such a helper
  from Python, by mistake or from a debugger, crashes the interpreter instead of raising;
- small hot-path helpers are marked ``forceinline``: LLVM inlines them at every call site.
  (numba's own ``inline="always"`` inlines numba IR instead and re-types the callee at every
  call site: it made the first ``run`` in a fresh process seconds slower.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from numba import njit

if TYPE_CHECKING:
    from numba.core.dispatcher import Dispatcher

__all__ = ["helper", "inline_helper", "kernel", "parallel_kernel"]

_F = TypeVar("_F", bound=Callable[..., object])

# numba's type stubs list only the common options; the wrapper switches are CPU-target options too
_njit: Any = njit


def kernel(fn: _F) -> Dispatcher[_F]:
    """Decorate a kernel: a compiled function that Python code (or another kernel) calls."""
    return cast("Dispatcher[_F]", _njit(fn, cache=True, error_model="numpy", no_cfunc_wrapper=True))


def parallel_kernel(fn: _F) -> Dispatcher[_F]:
    """Decorate a kernel with ``prange`` loops, run on numba's thread pool."""
    return cast(
        "Dispatcher[_F]",
        _njit(fn, cache=True, error_model="numpy", parallel=True, no_cfunc_wrapper=True),
    )


def helper(fn: _F) -> Dispatcher[_F]:
    """Decorate a rare or large helper that only compiled code calls: compiled once, called."""
    return cast(
        "Dispatcher[_F]",
        _njit(fn, cache=True, error_model="numpy", no_cfunc_wrapper=True),
    )


def inline_helper(fn: _F) -> Dispatcher[_F]:
    """Decorate a small hot-path helper that only compiled code calls: LLVM inlines it."""
    return cast(
        "Dispatcher[_F]",
        _njit(
            fn,
            cache=True,
            error_model="numpy",
            no_cfunc_wrapper=True,
            forceinline=True,
        ),
    )
