"""How long the command line takes to answer ``--help`` and ``--version``.

Each command runs as a fresh process, several times; the best (smallest) wall-clock time is
kept, beside a baseline measured in the same run: the interpreter starting and doing nothing
(``python -c pass``). The target is under half a second for both commands.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

#: The target for ``pulsecheck --help`` and ``--version``, in seconds.
TARGET_SECONDS = 0.5
#: How many times each command runs (the best is kept).
REPEATS = 7
#: Markers of the section in ``RESULTS.md`` (replaced on every recording).
START, END = "<!-- startup:start -->", "<!-- startup:end -->"
#: Where ``--record`` keeps the figures.
RESULT_FILE = Path("benchmarks") / "results" / "startup.json"


def command_line() -> list[str]:
    """The ``pulsecheck`` command beside this interpreter, else ``python -m pipeline``."""
    script = Path(sys.executable).with_name("pulsecheck")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]


def best_seconds(args: list[str], repeats: int = REPEATS) -> float:
    """The smallest wall-clock time of ``repeats`` runs of ``args`` (each must succeed)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def measure_startup(repeats: int = REPEATS) -> dict[str, Any]:
    """Best wall-clock seconds of the baseline, ``--help`` and ``--version``."""
    pulsecheck = command_line()
    measured = {
        "python -c pass": best_seconds([sys.executable, "-c", "pass"], repeats),
        "pulsecheck --help": best_seconds([*pulsecheck, "--help"], repeats),
        "pulsecheck --version": best_seconds([*pulsecheck, "--version"], repeats),
    }
    return {"repeats": repeats, "target_seconds": TARGET_SECONDS,
            "command": " ".join(Path(part).name for part in pulsecheck),
            "seconds": {name: round(value, 3) for name, value in measured.items()}}


def startup_markdown(result: dict[str, Any]) -> str:
    """The ``RESULTS.md`` section, between its markers."""
    seconds = result["seconds"]
    baseline = seconds["python -c pass"]

    def verdict(name: str, value: float) -> str:
        if name == "python -c pass":
            return "baseline"
        return "yes" if value < result["target_seconds"] else "NO"

    rows = [f"| `{name}` | {value:.3f} | {value - baseline:+.3f} | {verdict(name, value)} |"
            for name, value in seconds.items()]
    return "\n".join([
        START,
        "## Start-up",
        "",
        f"Best wall-clock seconds of {result['repeats']} fresh processes each "
        f"(`{result['command']}`), beside the interpreter doing nothing, measured in the same "
        f"run; the target is under {result['target_seconds']} s. Regenerate with "
        "`pulsecheck bench --startup --record`.",
        "",
        "| command | seconds | over baseline | under target |",
        "|---|---|---|---|",
        *rows,
        END,
    ])


def replace_section(text: str, section: str) -> str:
    """``text`` with its start-up section replaced by ``section`` (appended when absent)."""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        return head + section + rest.split(END, 1)[1]
    return text.rstrip("\n") + "\n\n" + section + "\n"


def record_startup(result: dict[str, Any], root: Path) -> list[Path]:
    """Write ``benchmarks/results/startup.json`` and the section of ``RESULTS.md``."""
    target = root / RESULT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    results_md = root / "benchmarks" / "RESULTS.md"
    text = results_md.read_text(encoding="utf-8") if results_md.exists() else \
        "# Benchmark results\n"
    results_md.write_text(replace_section(text, startup_markdown(result)), encoding="utf-8")
    return [target, results_md]
