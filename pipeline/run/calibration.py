"""The optional calibration step of a run: weights to population counts, from ``wave.toml``.

A wave whose ``wave.toml`` has a ``[calibration]`` table is weighted: its analysed
respondents are post-stratified or raked (:mod:`pipeline.stats.calibrate`) to the counts in
the margins file the table names, the report tables use the calibrated weights, the weights
are written to ``internal/calibrated_weights.csv`` (respondent key, weight) and the step is
recorded in ``run.json``. Without the table nothing here runs (assumption A-WEIGHT-1).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.columns import FILE_COLUMN, ROW_COLUMN
from pipeline.errors import PulsecheckError
from pipeline.model.report_spec import ReportSpec
from pipeline.stats.calibrate import (
    Calibration,
    Margin,
    margins_from_frame,
    poststratify,
    rake,
    trim_weights,
)
from pipeline.stats.methods import BINOMIAL_METHODS

#: Column of the calibrated weight in the frame the report tables are computed from.
WEIGHT_COLUMN = "calibrated_weight"
#: File of the calibrated weights in the run folder's ``internal/``.
WEIGHTS_FILE = "calibrated_weights.csv"


@dataclass(frozen=True)
class CalibrationInput:
    """What a run needs to calibrate: the settings, the margins and where they came from."""

    settings: Any
    margins: tuple[Margin, ...]
    path: str
    sha256: str


@dataclass(frozen=True)
class RespondentWeights:
    """The calibrated weight of each analysed respondent and how it was reached."""

    weights: pd.Series
    calibration: Calibration
    source: CalibrationInput
    table: pd.DataFrame

    def record(self) -> dict[str, Any]:
        """The step as ``run.json`` records it."""
        settings = self.source.settings
        return {"method": settings.method, "margins": {"path": self.source.path,
                                                       "sha256": self.source.sha256},
                "variables": [m.variable for m in self.source.margins],
                "max_iterations": settings.max_iterations, "epsilon": settings.epsilon,
                "trim_lower": settings.trim_lower, "trim_upper": settings.trim_upper,
                "trim_strict": settings.trim_strict, **self.calibration.record(),
                "weights_file": f"internal/{WEIGHTS_FILE}"}


def read_calibration(settings: Any, path: Path | None, shown: str) -> CalibrationInput | None:
    """Read the margins file a wave's ``[calibration]`` names (None without calibration).

    Parameters
    ----------
    settings : CalibrationSettings or None
    path : Path or None
        The margins file, already checked to be inside the wave folder.
    shown : str
        The path as messages and ``run.json`` show it.

    Raises
    ------
    PulsecheckError
        ``CALIB_001`` for a file that is not a readable CSV or lacks the margins' columns.
    """
    if settings is None or path is None:
        return None
    data = Path(path).read_bytes()
    try:
        table = pd.read_csv(Path(path), dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise PulsecheckError("CALIB_001", file=shown,
                              problem=f"cannot be read as CSV ({error})") from error
    margins = margins_from_frame(table, file=shown)
    if settings.method == "poststratify" and len(margins) != 1:
        raise PulsecheckError("CALIB_001", file=shown,
                              problem=f"gives {len(margins)} variables; post-stratification "
                                      "uses one (rake to several)")
    return CalibrationInput(settings=settings, margins=margins, path=shown,
                            sha256=hashlib.sha256(data).hexdigest())


def check_design_statistics(spec: ReportSpec) -> None:
    """Refuse report settings that assume unweighted data when the wave is calibrated.

    Raises
    ------
    PulsecheckError
        ``CALIB_006`` for a binomial interval method or a table with a trend test (both
        defined for unweighted counts only).
    """
    if spec.ci_method in BINOMIAL_METHODS:
        raise PulsecheckError("CALIB_006", what="interval method ci_method",
                              value=spec.ci_method)
    trended = [t.id for t in spec.tables if t.trend and t.by_phase and t.kind == "single"]
    if trended:
        raise PulsecheckError("CALIB_006", what=f"table '{trended[0]}' trend test",
                              value="true")


def _first(frame: pd.DataFrame, column: str) -> Any:
    return frame[column].iloc[0] if column in frame.columns else None


def calibrate_respondents(frame: pd.DataFrame, source: CalibrationInput,
                          key: str) -> RespondentWeights:
    """Calibrated weights for the analysed respondents (pure).

    Parameters
    ----------
    frame : DataFrame
        Analysed respondents with derived variables; the margins' variables are its columns.
        Not modified.
    source : CalibrationInput
    key : str
        The instrument's respondent key (a column of ``frame``), for the weights file.

    Returns
    -------
    RespondentWeights
        Starting from weights of one (the survey is not a probability sample), as the
        settings ask: post-stratified or raked, then trimmed when bounds are given.
    """
    settings = source.settings
    for margin in source.margins:
        # A blank answer is named by its place in the export, which the analyst can open.
        if margin.variable in frame.columns and frame[margin.variable].isna().any():
            blank = frame[frame[margin.variable].isna()]
            raise PulsecheckError("CALIB_004", file=_first(blank, FILE_COLUMN),
                                  row=_first(blank, ROW_COLUMN), variable=margin.variable,
                                  count=len(blank), row_number=_first(blank, ROW_COLUMN))
    start = np.ones(len(frame))
    if settings.method == "poststratify":
        calibration = poststratify(frame, start, source.margins[0])
    else:
        calibration = rake(frame, start, source.margins,
                           max_iterations=settings.max_iterations, epsilon=settings.epsilon)
    if settings.trim_lower is not None or settings.trim_upper is not None:
        calibration = trim_weights(
            calibration,
            lower=settings.trim_lower if settings.trim_lower is not None else -np.inf,
            upper=settings.trim_upper if settings.trim_upper is not None else np.inf,
            strict=settings.trim_strict)
    table = pd.DataFrame({key: frame[key].to_numpy(), "weight": calibration.weights})
    return RespondentWeights(weights=pd.Series(calibration.weights, index=frame.index,
                                               name=WEIGHT_COLUMN),
                             calibration=calibration, source=source,
                             table=table.sort_values(key, kind="stable").reset_index(drop=True))
