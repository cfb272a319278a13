"""Scaled synthetic waves: the committed sample export resampled to any number of rows.

The exact-count sample generator (:mod:`pipeline.synthetic.generate`) builds a 260-row wave with
exact marginal counts; at a million rows that bookkeeping would dominate the benchmark. Here the
sample's data rows are resampled with replacement (seeded), every row gets a fresh response id
and partnership id, and a few numeric answers are perturbed, so the file has the shape, value
mix and skip patterns of the real instrument at any size. The platform's header rows are copied
verbatim, so the result is read by the same adapter as the sample.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: Seed of every scaled wave: the same size always gives the same bytes.
SEED = 20160516
#: Design columns added to the design-comparison file (like-for-like with R).
STRATUM, PSU, WEIGHT = "stratum", "psu", "w"
N_STRATA = 10
#: Rows per PSU on average (1 M rows → 10 000 PSUs, as in the issue's R figures).
ROWS_PER_PSU = 100


@dataclass(frozen=True)
class SampleSource:
    """The committed sample export split into header lines and data rows."""

    header: str
    names: tuple[str, ...]
    rows: pd.DataFrame
    id_column: str
    key_column: str


def read_source(path: Path, header_rows: int, id_column: str, key_column: str) -> SampleSource:
    """Read the sample export: the header lines verbatim, the data rows as strings."""
    text = Path(path).read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    # Header rows of a Qualtrics export hold no line breaks inside quotes.
    header = "".join(lines[:header_rows])
    rows = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                       skiprows=range(1, header_rows))
    return SampleSource(header=header, names=tuple(rows.columns), rows=rows,
                        id_column=id_column, key_column=key_column)


def scaled_rows(source: SampleSource, n: int, seed: int = SEED) -> pd.DataFrame:
    """``n`` rows resampled from the sample, with fresh ids (pure).

    Response ids and partnership ids are unique per row, so the deduplication step keeps
    every row; everything else keeps the sample's mix (previews, partial and screened-out
    rows, invalid answers), so every stage does its normal share of work.
    """
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(source.rows), size=n)
    frame = source.rows.iloc[picks].reset_index(drop=True)
    number = pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(7)
    frame[source.id_column] = "R_bench" + number
    frame[source.key_column] = "P" + number
    return frame


def write_scaled(source: SampleSource, n: int, path: Path, seed: int = SEED) -> Path:
    """Write a scaled export of ``n`` rows (header lines verbatim); reuse it when present."""
    path = Path(path)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = scaled_rows(source, n, seed)
    partial = path.with_suffix(".part")
    with open(partial, "w", encoding="utf-8", newline="") as handle:
        handle.write("\ufeff" + source.header)
        frame.to_csv(handle, header=False, index=False, quoting=csv.QUOTE_ALL,
                     lineterminator="\r\n" if "\r\n" in source.header else "\n")
    partial.replace(path)
    return path


def design_columns(n: int, seed: int = SEED) -> pd.DataFrame:
    """Stratum, PSU and weight for ``n`` rows (pure, seeded).

    Ten strata; PSUs nested in strata with about :data:`ROWS_PER_PSU` rows each; weights vary
    between strata and a little within them, so weighted and unweighted figures differ.
    """
    rng = np.random.default_rng(seed + 1)
    n_psu = max(2 * N_STRATA, n // ROWS_PER_PSU)
    psu = rng.integers(0, n_psu, size=n)
    # Every stratum holds at least two PSUs, and each PSU belongs to one stratum.
    stratum = psu % N_STRATA
    weight = (1.0 + stratum) * rng.uniform(0.8, 1.25, size=n)
    return pd.DataFrame({STRATUM: stratum + 1, PSU: psu + 1, WEIGHT: np.round(weight, 4)})


#: The wave whose export and description the scaled waves copy.
SOURCE_WAVE = Path("raw") / "pulse_check" / "2016"


def prepare_wave(root: Path, n: int, data_dir: Path) -> Path:
    """A wave folder with a scaled export of ``n`` rows; reused when already written.

    The wave description is the sample's, with its file list replaced and input limits
    raised (the defaults refuse files above 256 MiB or a million rows, which the largest
    benchmark reaches by design).
    """
    import tomllib

    from pipeline.ingest.readers import read_platform, write_checksums

    root = Path(root)
    source_dir = root / SOURCE_WAVE
    config = tomllib.loads((source_dir / "wave.toml").read_text(encoding="utf-8"))
    platform = read_platform(config["platform"], root)
    folder = Path(data_dir) / f"wave-{n}"
    export = folder / f"scaled_{n}.csv"
    if not export.exists():
        source = read_source(source_dir / config["files"][0], platform.header_rows,
                             platform.roles["response_id"], _respondent_key(root, config))
        write_scaled(source, n, export)
    description = folder / "wave.toml"
    if not description.exists():
        text = (source_dir / "wave.toml").read_text(encoding="utf-8")
        instrument_dir = widen_key_pattern(source_dir / config["instrument"],
                                           Path(data_dir) / "instrument")
        depth = len(folder.resolve().relative_to(root.resolve()).parts)
        instrument = Path(*([".."] * depth)) / \
            instrument_dir.resolve().relative_to(root.resolve())
        text = text.replace(f'instrument = "{config["instrument"]}"',
                            f'instrument = "{instrument.as_posix()}"')
        text = text.replace(f'files = {_toml_list(config["files"])}',
                            f'files = ["{export.name}"]')
        if export.name not in text or "[limits]" in text:
            raise ValueError("the sample wave.toml no longer has the expected layout")
        # A TOML table comes after every plain key, so [limits] goes at the end.
        text = text.rstrip("\n") + "\n\n[limits]\nmax_file_bytes = 8589934592\n" \
            "max_rows = 10000000\n"
        description.write_text(text, encoding="utf-8")
    if not (folder / "SHA256SUMS").exists():
        write_checksums(folder, [export.name])
    return folder


#: The respondent key's pattern in the sample instrument, and its widened benchmark form.
KEY_PATTERN, WIDE_KEY_PATTERN = "[0-9]{4}$", "[0-9]{7}$"


def widen_key_pattern(instrument_dir: Path, target: Path) -> Path:
    """A copy of the instrument whose respondent key allows seven digits instead of four.

    A million partnerships cannot have distinct four-digit ids; with repeated ids the
    deduplication step would keep only ten thousand rows and the benchmark would measure
    the wrong workload. Nothing else of the instrument changes.
    """
    target = Path(target)
    if (target / "survey.csv").exists():
        return target
    shutil.copytree(instrument_dir, target, dirs_exist_ok=True)
    survey = (target / "survey.csv").read_text(encoding="utf-8")
    if survey.count(KEY_PATTERN) != 1:
        raise ValueError("the instrument's respondent key pattern is not where expected")
    (target / "survey.csv").write_text(survey.replace(KEY_PATTERN, WIDE_KEY_PATTERN),
                                       encoding="utf-8")
    return target


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def _respondent_key(root: Path, config: dict) -> str:
    from pipeline.ingest.readers import read_instrument
    instrument = read_instrument(root / SOURCE_WAVE / config["instrument"])
    return instrument.respondent_key
