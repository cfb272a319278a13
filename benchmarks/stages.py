"""Time and memory of each pipeline stage on one scaled wave, and of the baselines.

Every measurement runs in a fresh interpreter (``python -m benchmarks.stages``), so imports,
caches and the memory high-water mark of one size never leak into the next. The child prints
one JSON object; :mod:`benchmarks.runner` collects them.

Stages (the same calls, in the same order, as :func:`pipeline.run.analyse.run_wave`):

read       ``read_export``: bytes → the canonical string frame
validate   ``validate_responses``: decoding, typing and every validation rule
classify   the wave's flow steps, phase classification and the issues table
tabulate   derived variables, criteria placement and every report table with its tests
render     every output file of a run (CSV, XLSX, HTML, PDF, executed notebook)

Peak memory is the resident set size high-water mark (``VmHWM``) above the level reached
once the libraries are imported; Linux lets a process reset the mark, so each stage reports
its own peak.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

#: Where Linux lets a process reset its resident-set high-water mark.
_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


def _status_kib(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def _peak_bytes() -> int:
    """The resident-set high-water mark (since the last reset where supported)."""
    kib = _status_kib("VmHWM")
    if kib is None:
        import resource
        # ru_maxrss is in KiB on Linux (bytes on macOS; only used when /proc is absent).
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * 1024


def _rss_bytes() -> int:
    kib = _status_kib("VmRSS")
    return (kib or 0) * 1024


class _Meter:
    """Runs stages one after another, recording wall time and peak memory of each."""

    def __init__(self) -> None:
        gc.collect()
        self.base = _rss_bytes()
        self.resettable = _reset_peak()
        self.stages: dict[str, dict[str, float]] = {}

    def run(self, name: str, call: Callable[[], Any]) -> Any:
        gc.collect()
        if self.resettable:
            _reset_peak()
        start = time.perf_counter()
        value = call()
        seconds = time.perf_counter() - start
        self.stages[name] = {"seconds": seconds,
                             "peak_bytes": max(0, _peak_bytes() - self.base)}
        return value


def measure_pipeline(wave_dir: Path, render: bool, design_out: Path | None = None
                     ) -> dict[str, Any]:
    """Run every stage of a wave once; return the per-stage timings and sizes.

    With ``design_out``, also write (untimed) the design-comparison file and its plan there.
    """
    import pandas as pd

    from pipeline.ingest.wave_folder import load_wave
    from pipeline.run.analyse import (
        _partnerships_table,
        classify_rows,
        publish,
        read_report_spec,
        tabulate_wave,
        validation_config,
        write_outputs,
    )
    from pipeline.stages.results import WaveResult
    from pipeline.stages.validate import validate_responses

    meter = _Meter()
    # Reading a wave as every command reads it: checksums, instrument, profile, exports.
    loaded = meter.run("read", lambda: load_wave(wave_dir))
    wave, instrument, exports = loaded.wave, loaded.instrument, loaded.exports
    spec = read_report_spec(wave.instrument_path, instrument)
    config = validation_config(loaded.platform, wave.steps)
    frame = pd.concat([e.frame for e in exports], ignore_index=True)
    validation = meter.run("validate", lambda: validate_responses(frame, instrument, config))

    def classify() -> tuple:
        return classify_rows(exports, validation, wave, instrument, config.submitted_at_format)

    flow, analysed, classification, all_issues = meter.run("classify", classify)

    def tabulate() -> tuple:
        report = tabulate_wave(analysed, classification.phase, instrument, spec)
        extra = {"phase_self": classification.phase.astype(str)}
        if report.criteria is not None:
            extra["phase_criteria"] = report.criteria.phase.astype(str)
            extra["criteria_points"] = report.criteria.points
        phase = report.criteria.phase if report.basis == "criteria" else classification.phase
        partnerships = _partnerships_table(analysed, phase, instrument, False, extra)
        return report, partnerships

    report, partnerships = meter.run("tabulate", tabulate)
    result = WaveResult(instrument=instrument, typed=validation.frame, issues=all_issues,
                        flow=flow, partnerships=partnerships, report=report)
    if design_out is not None:
        from benchmarks.design_tables import design_file, plan_from_spec
        design_out.mkdir(parents=True, exist_ok=True)
        plan = plan_from_spec(spec, list(partnerships.columns))
        (design_out / "plan.json").write_text(json.dumps(plan, indent=1), encoding="utf-8")
        design_file(partnerships, plan, list(instrument.phase_order)).to_csv(
            design_out / "design.csv", index=False)
    if render:
        scratch = Path(tempfile.mkdtemp(prefix="pulsecheck-bench-"))
        try:
            meter.run("render", lambda: publish(scratch / "run", lambda folder: write_outputs(
                folder, wave, result, loaded.input_sums, keep_personal=False)))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return {
        "stages": meter.stages,
        "rows": int(sum(e.n_rows for e in exports)),
        "analysed": len(analysed),
        "issues": len(all_issues),
        "tables": len(report.tables.tables),
        "columns": int(validation.frame.shape[1]),
        "peak_resettable": meter.resettable,
    }


def measure_read_csv(path: Path, header_rows: int) -> dict[str, Any]:
    """``pandas.read_csv`` of the same file with default settings (the baseline)."""
    import pandas as pd

    meter = _Meter()
    frame = meter.run("read_csv", lambda: pd.read_csv(
        path, skiprows=range(1, header_rows), encoding="utf-8-sig", low_memory=False))
    return {"stages": meter.stages, "frame_bytes": int(frame.memory_usage(deep=True).sum()),
            "frame_shape": list(frame.shape)}


def measure_design(path: Path, plan_file: Path, replicates: bool = False) -> dict[str, Any]:
    """The design-based tables and tests of :mod:`benchmarks.design_tables` on one file
    (with ``replicates``: on JKn replicate weights converted from its design)."""
    from benchmarks.design_tables import read_design_file, run_design_tables

    plan = json.loads(Path(plan_file).read_text(encoding="utf-8"))
    # Libraries load on first use; R's survey package is also loaded before its clock starts.
    numeric = tuple(plan["ciprop"])
    warm = read_design_file(path, numeric)
    run_design_tables(warm.iloc[::max(1, len(warm) // 2000)], plan, replicates)
    del warm
    meter = _Meter()
    frame = meter.run("design_read", lambda: read_design_file(path, numeric))
    summary = meter.run("design_tables", lambda: run_design_tables(frame, plan, replicates))
    return {"stages": meter.stages, "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["pipeline", "read_csv", "design"])
    parser.add_argument("path", type=Path)
    parser.add_argument("--no-render", action="store_true")
    parser.add_argument("--header-rows", type=int, default=3)
    parser.add_argument("--plan", type=Path)
    parser.add_argument("--design-out", type=Path)
    parser.add_argument("--replicates", action="store_true")
    args = parser.parse_args(argv)
    if args.what == "pipeline":
        out = measure_pipeline(args.path, render=not args.no_render,
                               design_out=args.design_out)
    elif args.what == "read_csv":
        out = measure_read_csv(args.path, args.header_rows)
    else:
        out = measure_design(args.path, args.plan, args.replicates)
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
