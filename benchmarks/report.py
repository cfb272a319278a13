"""Write the benchmark results: the text table, ``RESULTS.md`` and the scaling chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.runner import CORE_STAGES, STAGES

CHART = "scaling.svg"


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value / 1024 ** 2:.0f}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def stage_rows(payload: dict[str, Any]) -> list[list[str]]:
    """One row per size: seconds per stage, baselines and ratios."""
    rows = []
    for size in payload["sizes"]:
        stages = size["pipeline"]["stages"]
        rows.append([
            f"{size['n']:,}",
            *[_s(stages[s]["seconds"]) if s in stages else "—" for s in STAGES],
            _s(size["core_seconds"]),
            _s(size["read_csv"]["stages"]["read_csv"]["seconds"]),
            _ratio(size["ratio_vs_read_csv"]),
            _mb(max(stages[s]["peak_bytes"] for s in CORE_STAGES)),
            _mb(size["read_csv"]["frame_bytes"]),
            _ratio(size["memory_ratio"]),
            _s(size["design_seconds"]), _s(size["r_seconds"]), _ratio(size["ratio_vs_r"]),
        ])
    return rows


HEADER = ["rows", *[f"{s} s" for s in STAGES], "read→tabulate s", "read_csv s",
          "ratio_vs_read_csv", "peak MB", "frame MB", "memory ratio", "design tables s",
          "R survey s", "ratio_vs_r"]


def text_table(payload: dict[str, Any]) -> str:
    """The results as an aligned text table and the headline ratios (for the terminal)."""
    rows = [HEADER, *stage_rows(payload)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines) + "\n" + headline(payload)


def headline(payload: dict[str, Any]) -> str:
    summary = payload["summary"]
    parts = [f"ratio_vs_read_csv={_ratio(summary['ratio_vs_read_csv'])}",
             f"memory_ratio={_ratio(summary['memory_ratio'])}",
             f"ratio_vs_r={_ratio(summary['ratio_vs_r'])}"]
    if "scaling_exponent" in summary:
        parts.append(f"scaling_exponent={summary['scaling_exponent']:.2f}")
    text = f"at {summary['largest_size']:,} rows: " + " ".join(parts)
    if summary.get("ratio_vs_r_replicate") is not None:
        text += (f"; at {summary['replicate_size']:,} rows with replicate weights: "
                 f"ratio_vs_r_replicate={_ratio(summary['ratio_vs_r_replicate'])}")
    return text


def write_chart(payload: dict[str, Any], path: Path) -> None:
    """Seconds per stage against rows, log–log, with the read_csv and R baselines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "pulsecheck-bench"
    sizes = [s["n"] for s in payload["sizes"]]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for stage in CORE_STAGES:
        ax.plot(sizes, [s["pipeline"]["stages"][stage]["seconds"] for s in payload["sizes"]],
                marker="o", label=stage)
    ax.plot(sizes, [s["core_seconds"] for s in payload["sizes"]], marker="s", color="black",
            linewidth=2, label="read → tabulate")
    ax.plot(sizes, [s["read_csv"]["stages"]["read_csv"]["seconds"] for s in payload["sizes"]],
            linestyle="--", color="grey", label="pandas.read_csv")
    design = [(s["n"], s["design_seconds"]) for s in payload["sizes"] if s["design_seconds"]]
    ax.plot([d[0] for d in design], [d[1] for d in design], marker="^", linestyle=":",
            label="design tables (pulsecheck)")
    r = [(s["n"], s["r_seconds"]) for s in payload["sizes"] if s["r_seconds"]]
    if r:
        ax.plot([d[0] for d in r], [d[1] for d in r], marker="v", linestyle=":",
                color="firebrick", label="design tables (R survey)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("responses")
    ax.set_ylabel("seconds")
    ax.set_title("pulsecheck: time per stage by number of responses")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)


def results_markdown(payload: dict[str, Any], chart: str) -> str:
    """``RESULTS.md``: machine, method, the table per size, ratios, and the chart."""
    machine = payload["machine"]
    summary = payload["summary"]
    lines = [
        "# Benchmark results",
        "",
        "Regenerate with `make bench` (or `pulsecheck bench`; `--quick` stops at 100 000 "
        "rows). Every size runs in a fresh process; times are wall-clock seconds of one run, "
        "peak memory is the resident-set high-water mark above the imported libraries.",
        "",
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in machine.items()],
        "",
        "## Headline",
        "",
        f"`{headline(payload)}`",
        "",
        "- `ratio_vs_read_csv`: read → validate → classify → tabulate (all report tables) "
        "over `pandas.read_csv` of the same file.",
        "- `memory_ratio`: peak memory of those stages over the in-memory size of the frame "
        "`pandas.read_csv` returns.",
        "- `ratio_vs_r`: R `survey` (design, `svychisq` and `svyciprop`) over pulsecheck "
        "(the same tables with cell intervals and Rao–Scott F tests), both on the same file "
        "and design; reading the file is not counted on either side.",
        "- `scaling_exponent`: slope of log(read → tabulate seconds) on log(rows) from "
        f"{summary.get('scaling_from', 0):,} rows up (1 is linear).",
    ]
    if summary.get("r_agreement") is not None:
        lines.append(f"- pulsecheck and R agree to a relative difference of at most "
                     f"{summary['r_agreement']:.1e} on every statistic and interval compared.")
    lines += ["", "## Per size", "",
              "| " + " | ".join(HEADER) + " |",
              "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in stage_rows(payload)]
    notes = sorted({s["r_note"] for s in payload["sizes"] if s["r_note"]})
    lines += ["", "Render (every output file: CSV, XLSX, HTML, PDF, executed notebook) is "
              "measured only up to the largest size shown in its column.", *notes, "",
              f"![time per stage]({chart})", ""]
    if any(size.get("replicate_seconds") for size in payload["sizes"]):
        lines += [replicate_markdown(payload), ""]
    if payload.get("startup"):
        from benchmarks.startup import startup_markdown

        lines += [startup_markdown(payload["startup"]), ""]
    return "\n".join(lines)


REPLICATE_START, REPLICATE_END = "<!-- replicate:start -->", "<!-- replicate:end -->"
REPLICATE_FILE = Path("benchmarks") / "results" / "replicate.json"
REPLICATE_HEADER = ["rows", "design tables s", "R survey s", "ratio_vs_r",
                    "replicate tables s", "R replicate s", "ratio_vs_r_replicate",
                    "agreement (replicate)"]


def replicate_markdown(payload: dict[str, Any]) -> str:
    """The section of ``RESULTS.md`` on the design tables with replicate weights."""
    machine = payload.get("machine", {})
    rows = [[f"{size['n']:,}", _s(size["design_seconds"]), _s(size["r_seconds"]),
             _ratio(size["ratio_vs_r"]), _s(size.get("replicate_seconds")),
             _s(size.get("r_replicate_seconds")), _ratio(size.get("ratio_vs_r_replicate")),
             "—" if size.get("replicate_agreement") is None
             else f"{size['replicate_agreement']:.1e}"]
            for size in payload["sizes"] if size.get("replicate_seconds")]
    summary = payload["summary"]
    load = machine.get("load average")
    return "\n".join([
        REPLICATE_START,
        "## Design tables with replicate weights",
        "",
        f"`at {summary['replicate_size']:,} rows with replicate weights: ratio_vs_r_replicate="
        f"{_ratio(summary['ratio_vs_r_replicate'])}`",
        "",
        "The design-table workload (every by-phase table's cells with logit intervals and "
        "its Rao–Scott F test, and each 0/1 item's proportion with its logit interval) on the "
        "same files, with the design converted to JKn replicate weights: the file's PSUs "
        "grouped four to a stratum (40 replicates), R `as.svrepdesign` then `svychisq` and "
        "`svyciprop`, pulsecheck the conversion then the same tables from the replicates; "
        "the conversion is timed on both sides, reading the file on neither. Beside it the "
        "linearisation workload of the same run. Agreement: the largest relative difference "
        "from R over the statistics and intervals, leaving out 0% cells, where R's model "
        "gives about 1e-12 and pulsecheck the Korn–Graubard interval (README, Differences "
        "from R). Regenerate with `pulsecheck bench` (`--replicate-max` sets the largest "
        "size; R takes minutes beyond 100 000 rows)."
        + (f" Load average of the machine during this run: {load}." if load else ""),
        "",
        "| " + " | ".join(REPLICATE_HEADER) + " |",
        "|" + "---|" * len(REPLICATE_HEADER),
        *["| " + " | ".join(row) + " |" for row in rows],
        REPLICATE_END,
    ])


def record_replicate(payload: dict[str, Any], root: Path) -> list[Path]:
    """Write ``benchmarks/results/replicate.json`` and the replicate section of
    ``RESULTS.md`` alone (the rest of the recorded results left as they are)."""
    import json

    from benchmarks.startup import replace_section

    keep = ("n", "design_seconds", "r_seconds", "ratio_vs_r", "agreement", "replicate_seconds",
            "r_replicate_seconds", "ratio_vs_r_replicate", "replicate_agreement", "replicate",
            "r_replicate")
    record = {"machine": payload["machine"], "summary": {
        k: v for k, v in payload["summary"].items() if "replicate" in k},
        "sizes": [{k: size.get(k) for k in keep} for size in payload["sizes"]]}
    target = root / REPLICATE_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    results_md = root / "benchmarks" / "RESULTS.md"
    text = results_md.read_text(encoding="utf-8")
    section = replicate_markdown(record)
    if REPLICATE_START in text and REPLICATE_END in text:
        head, rest = text.split(REPLICATE_START, 1)
        text = head + section + rest.split(REPLICATE_END, 1)[1]
    else:
        # Before the start-up section, as a full run writes it.
        from benchmarks.startup import START

        head, marker, rest = text.partition(START)
        text = head.rstrip("\n") + "\n\n" + section + "\n\n" + marker + rest if marker \
            else replace_section(text, section)
    results_md.write_text(text, encoding="utf-8")
    return [target, results_md]


def write_results(payload: dict[str, Any], out: Path, results_md: Path) -> None:
    """Write the chart into ``out`` and ``RESULTS.md`` pointing at it."""
    out.mkdir(parents=True, exist_ok=True)
    write_chart(payload, out / CHART)
    relative = (out / CHART).resolve().relative_to(results_md.parent.resolve()).as_posix() \
        if (out / CHART).resolve().is_relative_to(results_md.parent.resolve()) else CHART
    results_md.write_text(results_markdown(payload, relative), encoding="utf-8")
