"""The design-table benchmark with replicate weights: pulsecheck against R's ``survey``.

The workload of :mod:`benchmarks.design_tables` (a Rao–Scott F test per row × phase table, a
logit interval per 0/1 item) on a replicate-weight design: a stratified cluster design (ten
strata of four PSUs) converted to delete-one-PSU jackknife weights (JKn, 40 replicates), as
R's ``as.svrepdesign(type="JKn")`` does. Both sides read the same seeded file; each times the
conversion and the tables after reading it.

    python -m benchmarks.replicate_tables --rows 20000 --rows 200000

prints, per size, the seconds of each side, R's over pulsecheck's (the ratio) and the
largest relative difference of the headline numbers. Nothing is recorded.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Answers per table row and the banner.
ROW_LEVELS = ("a", "b", "c", "d")
BANNER_LEVELS = ("Earlier", "Middle", "Later")
N_TABLES = 5
N_ITEMS = 5
N_STRATA = 10
PSU_PER_STRATUM = 4
SEED = 2016


def make_file(n: int, seed: int = SEED) -> pd.DataFrame:
    """A seeded comparison file: answers (with blanks), 0/1 items, stratum, PSU, weight."""
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, N_STRATA * PSU_PER_STRATUM, size=n)
    stratum = psu % N_STRATA
    frame = {"phase": rng.choice(BANNER_LEVELS, size=n, p=[0.6, 0.25, 0.15])}
    for t in range(N_TABLES):
        answers = rng.choice(ROW_LEVELS, size=n).astype(object)
        answers[rng.random(n) < 0.03] = None
        frame[f"row{t}"] = answers
    for i in range(N_ITEMS):
        item = (rng.random(n) < 0.2 + 0.1 * i).astype(float)
        item[rng.random(n) < 0.05] = np.nan
        frame[f"item{i}"] = item
    frame.update(stratum=stratum + 1, psu=psu + 1,
                 w=np.round((1.0 + stratum) * rng.uniform(0.8, 1.25, size=n), 4))
    return pd.DataFrame(frame)


def run_pulsecheck(path: Path) -> tuple[float, dict[str, float]]:
    """Seconds for the conversion and the tables (after reading), and the headline numbers."""
    from pipeline.stats.design import SurveyDesign
    from pipeline.stats.replicate import (
        replicate_chisq,
        replicate_proportion,
        replicates_from_design,
    )

    frame = pd.read_csv(path, dtype={f"row{t}": "str" for t in range(N_TABLES)}
                        | {"phase": "str"})
    start = time.perf_counter()
    resolved = replicates_from_design(
        frame, SurveyDesign(weights="w", strata="stratum", cluster="psu"), "JKn")
    out: dict[str, float] = {}
    banner = frame["phase"].map({v: j for j, v in enumerate(sorted(BANNER_LEVELS))}) \
        .fillna(-1).to_numpy(np.int64)
    for t in range(N_TABLES):
        codes = frame[f"row{t}"].map({v: i for i, v in enumerate(ROW_LEVELS)}) \
            .fillna(-1).to_numpy(np.int64)
        result = replicate_chisq(codes, banner, len(ROW_LEVELS), len(BANNER_LEVELS), resolved,
                                 statistic="F")
        out[f"chisq/row{t}"] = result.statistic
    for i in range(N_ITEMS):
        y = frame[f"item{i}"].to_numpy(float)
        interval = replicate_proportion(y, resolved, method="logit")
        out[f"ciprop/item{i}/low"] = interval.low
        out[f"ciprop/item{i}/high"] = interval.high
    return time.perf_counter() - start, out


def run_r(rscript: str, path: Path, work: Path) -> tuple[float, dict[str, float]]:
    """Seconds R spends on the same conversion and tables, and its headline numbers."""
    result = work / "r.csv"
    script = Path(__file__).with_name("r_replicate.R")
    subprocess.run([rscript, str(script), str(path), str(result), str(N_TABLES),
                    str(N_ITEMS)], check=True, capture_output=True)
    rows = pd.read_csv(result)
    seconds = float(rows.loc[rows["name"] == "seconds", "value"].iloc[0])
    return seconds, dict(zip(rows["name"], rows["value"], strict=True))


def compare(n: int, rscript: str | None) -> dict[str, Any]:
    """One size: both sides' seconds, the ratio and the agreement."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        path = work / "replicate.csv"
        make_file(n).to_csv(path, index=False)
        ours, numbers = run_pulsecheck(path)
        row: dict[str, Any] = {"rows": n, "pulsecheck_seconds": ours}
        if rscript:
            theirs, r_numbers = run_r(rscript, path, work)
            worst = max(abs(numbers[k] - r_numbers[k]) / abs(r_numbers[k]) for k in numbers)
            row.update(r_seconds=theirs, ratio=theirs / ours, max_rel_difference=worst)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", default=None)
    args = parser.parse_args()
    rscript = shutil.which("Rscript")
    for n in args.rows or [20_000]:
        row = compare(n, rscript)
        text = f"{n:>9,} rows: pulsecheck {row['pulsecheck_seconds']:.3f} s"
        if "ratio" in row:
            text += (f", R {row['r_seconds']:.3f} s, ratio {row['ratio']:.1f}x, "
                     f"max relative difference {row['max_rel_difference']:.1e}")
        else:
            text += " (R baseline skipped: Rscript not found)"
        print(text)


if __name__ == "__main__":
    main()
