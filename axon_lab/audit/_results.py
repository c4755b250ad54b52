"""Where a run's audit results live (``runs/<run id>/audit.json``) and how a report shows them.

The file is plain JSON written by :func:`save_audit` (``axon-lab audit`` writes it next to the
run's report); :func:`audit_lines` turns it, or its absence, into the lines of the report's
"Audits" section: one per audit, each its result or a "not run" line with the command that runs
it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from axon_lab.errors import ConfigError

__all__ = ["AUDIT_FILE", "AUDIT_PARTS", "audit_lines", "load_audit", "save_audit"]

AUDIT_FILE = "audit.json"
AUDIT_PARTS = {
    "cutoff": "training cutoff",
    "lookahead": "look-ahead check",
    "memorisation": "anonymised re-run",
    "stability": "decision stability",
    "sensitivity": "counterfactual sensitivity",
}
"""The audits a report lists, by key in the results, with their names."""


def save_audit(results: Mapping[str, Any], folder: str | Path) -> Path:
    """Write ``results`` as ``folder/audit.json``; return its path."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    path = out / AUDIT_FILE
    path.write_text(json.dumps(dict(results), indent=2, default=str) + "\n", encoding="utf-8")
    return path


def load_audit(path: str | Path) -> dict[str, Any] | None:
    """The results in ``path`` (a folder holding ``audit.json``, or the file); None if absent.

    Raises:
        ConfigError: If the file exists but is not an audit result.
    """
    file = Path(path)
    if file.is_dir() or not file.suffix:
        file = file / AUDIT_FILE
    if not file.is_file():
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"{str(file)!r} is not readable audit JSON ({exc}); delete it and run "
            "`axon-lab audit RUN_ID` again"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{str(file)!r} does not hold an audit result object; run the audit again"
        )
    return data


def audit_lines(results: Mapping[str, Any] | None, run_id: str) -> list[str]:
    """The report's audit lines (plain text; the report escapes them)."""
    command = f"axon-lab audit {run_id}"
    if results is None:
        return [
            f"Audits not run (look-ahead check, anonymised re-run, decision stability): run "
            f"`{command}`."
        ]
    lines = []
    if results.get("run_id") not in (None, run_id):
        lines.append(f"WARNING: these audit results are of run {results.get('run_id')!r}.")
    not_run = results.get("not_run") or {}
    for key, name in AUDIT_PARTS.items():
        part = results.get(key)
        if isinstance(part, Mapping) and part.get("summary"):
            lines.append(f"{name}: {part['summary']}")
        else:
            why = not_run.get(key, "not run") if isinstance(not_run, Mapping) else "not run"
            lines.append(f"{name}: not run ({why}); run `{command}`")
    if results.get("created"):
        lines.append(f"(audited {results['created']}, seed {results.get('seed')})")
    return lines
