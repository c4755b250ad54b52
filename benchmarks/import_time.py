"""How long `import axon_lab` takes in a fresh interpreter, beside the peers it is built on.

Each import runs in its own subprocess (so nothing is cached in-process) several times; the median
is reported. Target: ``import axon_lab`` < 1 s on a 2-core machine.

``import axon_lab`` imports each public name's subpackage on first use, so the import itself is
cheap; what a session pays before its first loop runs is ``first use``: the import plus
``axon_lab.make_agent`` and ``axon_lab.load_sample`` (the loop, the store, the data layer: pandas,
pydantic, SQLAlchemy, numba's dispatchers), reported beside it so the lazy import hides nothing.
pandas is the floor of that (axon_lab's data layer is built on it); optuna is a peer research
library.

    python benchmarks/import_time.py [--repeat 7]

Last line: ``import_s=X first_use_s=F ratio_vs_pandas=Y ratio_vs_optuna=Z`` (the ratios are of
the first-use time).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def time_import(code: str, repeat: int) -> float:
    """Median wall time of ``python -c code`` minus a bare interpreter start."""

    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    bare = statistics.median(once("pass") for _ in range(repeat))
    return statistics.median(once(code) for _ in range(repeat)) - bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    codes = {
        "axon_lab": "import axon_lab",
        "axon_lab first use": "import axon_lab; axon_lab.make_agent; axon_lab.load_sample",
        "pandas": "import pandas",
        "optuna": "import optuna",
    }
    results = {name: time_import(code, args.repeat) for name, code in codes.items()}
    for name, seconds in results.items():
        print(f"{name:20s} median {seconds * 1000:8.1f} ms   ({codes[name]})")
    first = results["axon_lab first use"]
    print(
        f"import_s={results['axon_lab']:.3f} first_use_s={first:.3f} "
        f"ratio_vs_pandas={first / results['pandas']:.2f} "
        f"ratio_vs_optuna={first / results['optuna']:.2f}"
    )


if __name__ == "__main__":
    main()
