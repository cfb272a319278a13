"""Run the benchmark: every size in a fresh process, baselines, ratios, results and chart.

:func:`run_bench` is called by ``pulsecheck bench``. Each measurement is a child process
(:mod:`benchmarks.stages`), so a size never inherits the memory or caches of another.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

#: Sizes of a full run, and of ``--quick``.
FULL_SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000, 100_000)
#: Stages of the pipeline measured against ``pandas.read_csv`` (render is reported apart).
CORE_STAGES = ("read", "validate", "classify", "tabulate")
STAGES = (*CORE_STAGES, "render")


@dataclass(frozen=True)
class BenchOptions:
    """What to measure and where to write it."""

    root: Path
    sizes: tuple[int, ...]
    out: Path
    data_dir: Path
    render_max: int = 10_000
    #: Largest size at which the replicate-weight case is measured (R's replicate tables
    #: take minutes beyond it).
    replicate_max: int = 100_000
    with_r: bool = True
    write_report: bool = True


@dataclass
class SizeResult:
    """Everything measured at one size."""

    n: int
    pipeline: dict[str, Any]
    read_csv: dict[str, Any]
    design: dict[str, Any] | None = None
    r: list[dict[str, Any]] | None = None
    r_note: str = ""
    agreement: float | None = None
    replicate: dict[str, Any] | None = None
    r_replicate: list[dict[str, Any]] | None = None
    replicate_agreement: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def stage_seconds(self, stage: str) -> float | None:
        entry = self.pipeline["stages"].get(stage)
        return None if entry is None else entry["seconds"]

    @property
    def core_seconds(self) -> float:
        return sum(self.pipeline["stages"][s]["seconds"] for s in CORE_STAGES)

    @property
    def core_peak(self) -> int:
        return max(self.pipeline["stages"][s]["peak_bytes"] for s in CORE_STAGES)

    @property
    def read_csv_seconds(self) -> float:
        return self.read_csv["stages"]["read_csv"]["seconds"]

    @property
    def frame_bytes(self) -> int:
        return self.read_csv["frame_bytes"]

    @property
    def ratio_vs_read_csv(self) -> float:
        return self.core_seconds / self.read_csv_seconds

    @property
    def memory_ratio(self) -> float:
        return self.core_peak / self.frame_bytes

    @property
    def design_seconds(self) -> float | None:
        return _tables_seconds(self.design)

    @property
    def r_seconds(self) -> float | None:
        """R's design plus tables (reading the CSV apart, as for pulsecheck)."""
        return _r_seconds(self.r)

    @property
    def ratio_vs_r(self) -> float | None:
        return _ratio(self.r_seconds, self.design_seconds)

    @property
    def replicate_seconds(self) -> float | None:
        """The same tables on JKn replicate weights, the conversion included."""
        return _tables_seconds(self.replicate)

    @property
    def r_replicate_seconds(self) -> float | None:
        return _r_seconds(self.r_replicate)

    @property
    def ratio_vs_r_replicate(self) -> float | None:
        return _ratio(self.r_replicate_seconds, self.replicate_seconds)


def _tables_seconds(result: dict[str, Any] | None) -> float | None:
    """The design-table stage's time of one child run (None when it did not run)."""
    return None if result is None else result["stages"]["design_tables"]["seconds"]


def _r_seconds(steps: list[dict[str, Any]] | None) -> float | None:
    """R's time for the design and the tables: every step but reading the CSV."""
    if not steps:
        return None
    return sum(float(r["seconds"]) for r in steps if r["step"] != "read")


def _ratio(r_seconds: float | None, seconds: float | None) -> float | None:
    """R's time over pulsecheck's (None when either is missing or pulsecheck's is zero)."""
    if r_seconds is None or not seconds:
        return None
    return r_seconds / seconds


def _child(args: list[str], root: Path) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its JSON line."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "benchmarks.stages", *args], cwd=root,
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"benchmark step failed ({' '.join(args[:2])}):\n{tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def find_rscript() -> str | None:
    """The ``Rscript`` to use, or None when R or its survey package is missing."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    probe = subprocess.run([rscript, "-e", "quit(status = !requireNamespace('survey', "
                            "quietly = TRUE))"], capture_output=True, check=False)
    return rscript if probe.returncode == 0 else None


def _run_r(rscript: str, root: Path, folder: Path, replicates: str | None = None
           ) -> list[dict[str, Any]]:
    import csv

    plan = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    lines = [f"chisq\t{a}\t{b}\n" for a, b in plan["chisq"]] + \
        [f"ciprop\t{item}\t\n" for item in plan["ciprop"]]
    (folder / "plan.tsv").write_text("".join(lines), encoding="utf-8")
    out = folder / ("r_results.csv" if replicates is None else "r_replicate_results.csv")
    done = subprocess.run([rscript, str(root / "benchmarks" / "r_baseline.R"),
                           str(folder / "design.csv"), str(folder / "plan.tsv"), str(out),
                           *([replicates] if replicates else [])],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError("the R baseline failed:\n" + done.stderr[-2000:])
    with open(out, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _agreement(design: dict[str, Any], r_rows: list[dict[str, Any]]) -> float:
    """Largest relative difference between pulsecheck's and R's headline numbers.

    An item of 0% or 100% is left out: R's model gives a share of about 1e-12 and an
    interval of zero width there, pulsecheck 0 and the Korn–Graubard interval (a deliberate
    difference, README "Differences from R").
    """
    ours = [t["statistic"] for t in design["summary"]["chisq"]]
    theirs = [float(r["statistic"]) for r in r_rows if r["step"] == "chisq"]
    items = [r for r in r_rows if r["step"] == "ciprop"]
    for mine, row in zip(design["summary"]["ciprop"], items, strict=True):
        if mine["estimate"] in (0.0, 1.0):
            continue
        ours += [mine[k] for k in ("estimate", "ci_low", "ci_high")]
        theirs += [float(row[k]) for k in ("estimate", "ci_low", "ci_high")]
    return max(abs(a - b) / max(abs(b), 1e-300) for a, b in zip(ours, theirs, strict=True))


def measure_size(options: BenchOptions, n: int, rscript: str | None,
                 say: Callable[[str], None]) -> SizeResult:
    """Generate the wave of ``n`` rows (if needed) and take every measurement at that size."""
    from benchmarks.scaled import prepare_wave

    root = options.root
    say(f"{n:>9,} rows: preparing the scaled wave")
    wave = prepare_wave(root, n, options.data_dir)
    export = next(wave.glob("scaled_*.csv"))
    work = options.data_dir / f"design-{n}"
    say(f"{n:>9,} rows: pipeline stages")
    args = ["pipeline", str(wave), "--design-out", str(work)]
    if n > options.render_max:
        args.append("--no-render")
    pipeline = _child(args, root)
    say(f"{n:>9,} rows: pandas.read_csv baseline")
    read_csv = _child(["read_csv", str(export)], root)
    result = SizeResult(n=n, pipeline=pipeline, read_csv=read_csv)
    say(f"{n:>9,} rows: design-based tables")
    result.design = _child(["design", str(work / "design.csv"), "--plan",
                            str(work / "plan.json")], root)
    if rscript is None:
        result.r_note = "R baseline skipped: Rscript with the survey package not found"
    else:
        say(f"{n:>9,} rows: R survey baseline")
        result.r = _run_r(rscript, root, work)
        result.agreement = _agreement(result.design, result.r)
    if n <= options.replicate_max:
        from benchmarks.design_tables import REPLICATE_TYPE

        say(f"{n:>9,} rows: design-based tables on {REPLICATE_TYPE} replicate weights")
        result.replicate = _child(["design", str(work / "design.csv"), "--plan",
                                   str(work / "plan.json"), "--replicates"], root)
        if rscript is not None:
            say(f"{n:>9,} rows: R survey baseline on replicate weights")
            result.r_replicate = _run_r(rscript, root, work, REPLICATE_TYPE)
            result.replicate_agreement = _agreement(result.replicate, result.r_replicate)
    result.extra["file_bytes"] = export.stat().st_size
    return result


def scaling_exponent(sizes: list[int], seconds: list[float]) -> float:
    """Least-squares slope of log(time) on log(size): 1 is linear."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(t) for t in seconds]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / \
        sum((x - mx) ** 2 for x in xs)


def machine_details(rscript: str | None) -> dict[str, str]:
    """CPU, cores, memory and versions, for the results."""
    details = {"cpu": platform.processor() or platform.machine(),
               "cores": str(os.cpu_count()), "memory": "unknown",
               "os": f"{platform.system()} {platform.release()}",
               "python": platform.python_version()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                details["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                details["memory"] = f"{int(line.split()[1]) / 1024 ** 2:.1f} GiB"
                break
    except OSError:
        pass
    for name in ("pandas", "numpy", "scipy", "pulsecheck"):
        try:
            details[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            details[name] = "not installed"
    if hasattr(os, "getloadavg"):
        details["load average"] = " / ".join(f"{v:.1f}" for v in os.getloadavg()) + \
            " (1, 5, 15 min, at the start)"
    details["R"] = "not installed"
    if rscript:
        done = subprocess.run([rscript, "-e", "cat(R.version.string, ' / survey ', "
                               "as.character(packageVersion('survey')), sep = '')"],
                              capture_output=True, text=True, check=False)
        details["R"] = done.stdout.strip() or "unknown"
    return details


def summarise(results: list[SizeResult]) -> dict[str, Any]:
    """The headline ratios of a run."""
    largest = results[-1]
    summary: dict[str, Any] = {
        "largest_size": largest.n,
        "ratio_vs_read_csv": largest.ratio_vs_read_csv,
        "memory_ratio": largest.memory_ratio,
        "ratio_vs_r": largest.ratio_vs_r,
        "r_agreement": largest.agreement,
    }
    replicated = [r for r in results if r.ratio_vs_r_replicate is not None]
    if replicated:
        summary["replicate_size"] = replicated[-1].n
        summary["ratio_vs_r_replicate"] = replicated[-1].ratio_vs_r_replicate
        summary["r_replicate_agreement"] = max(r.replicate_agreement for r in replicated)
    big = [r for r in results if r.n >= 100_000]
    if len(big) >= 2:
        summary["scaling_from"] = big[0].n
        summary["scaling_exponent"] = scaling_exponent([r.n for r in big],
                                                       [r.core_seconds for r in big])
    elif len(results) >= 2:
        summary["scaling_from"] = results[-2].n
        summary["scaling_exponent"] = scaling_exponent([r.n for r in results[-2:]],
                                                       [r.core_seconds for r in results[-2:]])
    return summary


def run_bench(options: BenchOptions, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure every size, then write ``results.json``, the chart and ``RESULTS.md``."""
    from benchmarks.report import write_results

    rscript = find_rscript() if options.with_r else None
    if options.with_r and rscript is None:
        say("R baseline skipped: Rscript with the survey package not found")
    from benchmarks.startup import measure_startup

    results = [measure_size(options, n, rscript, say) for n in sorted(options.sizes)]
    say("start-up: pulsecheck --help and --version")
    payload = {
        "machine": machine_details(rscript),
        "sizes": [_as_dict(r) for r in results],
        "summary": summarise(results),
        "startup": measure_startup(),
    }
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "results.json").write_text(json.dumps(payload, indent=1) + "\n",
                                              encoding="utf-8")
    if options.write_report:
        write_results(payload, options.out, options.root / "benchmarks" / "RESULTS.md")
    return payload


def _as_dict(result: SizeResult) -> dict[str, Any]:
    return {
        "n": result.n, "pipeline": result.pipeline, "read_csv": result.read_csv,
        "design": result.design, "r": result.r, "r_note": result.r_note,
        "agreement": result.agreement, "file_bytes": result.extra.get("file_bytes"),
        "core_seconds": result.core_seconds, "ratio_vs_read_csv": result.ratio_vs_read_csv,
        "memory_ratio": result.memory_ratio, "design_seconds": result.design_seconds,
        "r_seconds": result.r_seconds, "ratio_vs_r": result.ratio_vs_r,
        "replicate": result.replicate, "r_replicate": result.r_replicate,
        "replicate_agreement": result.replicate_agreement,
        "replicate_seconds": result.replicate_seconds,
        "r_replicate_seconds": result.r_replicate_seconds,
        "ratio_vs_r_replicate": result.ratio_vs_r_replicate,
    }
