"""``pulsecheck bench``: time and memory of every stage on scaled synthetic waves.

The benchmark code lives in the project's ``benchmarks/`` folder and is imported only when
this command runs, so normal commands never load it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline.errors import PulsecheckError


def _project_root() -> Path:
    from pipeline.resources import project_root
    return project_root()


@click.command("bench")
@click.option("--quick", is_flag=True, default=False,
              help="Stop at 100 000 responses (about a minute).")
@click.option("--sizes", default=None,
              help="Comma-separated numbers of responses, e.g. 1000,10000.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for results.json and the chart [default: reports/out/bench, or "
                   "benchmarks/results with --record].")
@click.option("--no-r", is_flag=True, default=False, help="Skip the R survey baseline.")
@click.option("--render-max", type=int, default=10_000, show_default=True,
              help="Largest size at which the render stage is measured.")
@click.option("--replicate-max", type=int, default=100_000, show_default=True,
              help="Largest size at which the design tables are also timed on replicate "
                   "weights (against R's as.svrepdesign).")
@click.option("--record", is_flag=True, default=False,
              help="Replace the committed results (benchmarks/results/ and "
                   "benchmarks/RESULTS.md) with this run's.")
@click.option("--startup", is_flag=True, default=False,
              help="Measure only how fast `pulsecheck --help` and `--version` answer "
                   "(best of several fresh processes, beside `python -c pass`).")
def bench(quick: bool, sizes: str | None, out: Path | None, no_r: bool, render_max: int,
          replicate_max: int, record: bool, startup: bool) -> None:
    """Benchmark every stage at 1 k to 1 M responses against pandas.read_csv and R.

    Results go to reports/out/bench/ (not kept in git); the committed figures change only
    with --record.

    \b
    Examples:
      pulsecheck bench --quick
      pulsecheck bench --sizes 1000,10000 --no-r --out /tmp/bench
      pulsecheck bench --record
      pulsecheck bench --startup --record
    """
    root = _project_root()
    if record and out is not None:
        raise PulsecheckError("CLI_003", option="--out", value=str(out),
                              expected="no --out with --record (recorded results live in "
                                       "benchmarks/results)")
    if not (root / "benchmarks" / "runner.py").exists():
        raise PulsecheckError("BENCH_001", path=str(root / "benchmarks"))
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    if startup:
        _bench_startup(root, out, record)
        return
    from benchmarks.report import text_table
    from benchmarks.runner import FULL_SIZES, QUICK_SIZES, BenchOptions, run_bench

    if sizes:
        try:
            chosen = tuple(sorted({int(s.replace("_", "")) for s in sizes.split(",") if s}))
        except ValueError:
            raise PulsecheckError("CLI_003", option="--sizes", value=sizes,
                                  expected="comma-separated whole numbers") from None
        if not chosen or min(chosen) < 1:
            raise PulsecheckError("CLI_003", option="--sizes", value=sizes,
                                  expected="whole numbers above zero")
    else:
        chosen = QUICK_SIZES if quick else FULL_SIZES
    recorded = root / "benchmarks" / "results"
    options = BenchOptions(root=root, sizes=chosen,
                           out=recorded if record else out or root / "reports" / "out" / "bench",
                           data_dir=root / "benchmarks" / "data", render_max=render_max,
                           replicate_max=replicate_max,
                           with_r=not no_r, write_report=record)
    try:
        payload = run_bench(options, say=lambda message: click.echo(message, err=True))
    except RuntimeError as error:
        raise PulsecheckError("BENCH_002", reason=str(error)) from error
    click.echo(text_table(payload))
    for size in payload["sizes"]:
        if size["r_note"]:
            click.echo(size["r_note"])
            break


def _bench_startup(root: Path, out: Path | None, record: bool) -> None:
    """``bench --startup``: the start-up times, recorded only with --record."""
    import json

    from benchmarks.startup import measure_startup, record_startup, startup_markdown

    result = measure_startup()
    if record:
        for path in record_startup(result, root):
            click.echo(f"Wrote {path}", err=True)
    else:
        folder = out or root / "reports" / "out" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "startup.json").write_text(json.dumps(result, indent=1) + "\n",
                                             encoding="utf-8")
    click.echo(startup_markdown(result))
