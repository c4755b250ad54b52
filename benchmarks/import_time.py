"""How long `import axon_lab` takes in a fresh interpreter, beside the peers it is built on.

Each import runs in its own subprocess (so nothing is cached in-process) several times; the median
is reported. pandas is the floor (axon_lab imports it); optuna is a peer research library.
Target: axon_lab < 1 s on a 2-core machine.

    python benchmarks/import_time.py [--repeat 7]

Last line: ``import_s=X ratio_vs_pandas=Y ratio_vs_optuna=Z``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def time_import(module: str, repeat: int) -> float:
    """Median wall time of ``python -c 'import module'`` minus a bare interpreter start."""

    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    bare = statistics.median(once("pass") for _ in range(repeat))
    return statistics.median(once(f"import {module}") for _ in range(repeat)) - bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    results = {m: time_import(m, args.repeat) for m in ("axon_lab", "pandas", "optuna")}
    for module, seconds in results.items():
        print(f"{module:10s} median import {seconds * 1000:8.1f} ms")
    ax = results["axon_lab"]
    print(
        f"import_s={ax:.3f} ratio_vs_pandas={ax / results['pandas']:.2f} "
        f"ratio_vs_optuna={ax / results['optuna']:.2f}"
    )


if __name__ == "__main__":
    main()
