"""Results: the frozen outcome of analysing one wave, as the runs build it and the reports read it.

These types sit below both :mod:`pipeline.run` (which builds them) and :mod:`pipeline.report`
(which renders them), so that neither needs the other to name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from pipeline.errors import EXIT_DATA_ERRORS, EXIT_OK, EXIT_UNUSABLE
from pipeline.model.instrument import Instrument
from pipeline.model.report_spec import ReportSpec, TableSpec
from pipeline.stages.classify import Agreement, CriteriaPlacement
from pipeline.stages.flow import FlowResult
from pipeline.stats.tabulate import TEST_COLUMNS


@dataclass(frozen=True)
class ReportTable:
    """One computed table with its specification."""

    spec: TableSpec
    table: pd.DataFrame
    tests: pd.DataFrame


@dataclass(frozen=True)
class ReportTables:
    """Every table of the report, and the phase-distinctive findings."""

    tables: tuple[ReportTable, ...]
    findings: pd.DataFrame
    #: How the standard errors, intervals and tests were computed (for the methods).
    variance: str = ""

    @property
    def weighted(self) -> bool:
        """Whether any percentage is weighted (a weighted sum differs from its count)."""
        for report in self.tables:
            table = report.table
            if "n_weighted" in table and "n" in table:
                counts = pd.to_numeric(table["n"], errors="coerce").to_numpy(dtype=float)
                sums = pd.to_numeric(table["n_weighted"], errors="coerce").to_numpy(dtype=float)
                if not np.allclose(counts, sums, equal_nan=True):
                    return True
        return False

    @property
    def tests(self) -> pd.DataFrame:
        frames = [t.tests for t in self.tables if len(t.tests)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=list(TEST_COLUMNS))

    def get(self, table_id: str) -> ReportTable:
        for table in self.tables:
            if table.spec.id == table_id:
                return table
        raise KeyError(table_id)


@dataclass(frozen=True)
class ReportResult:
    """The report tables of a wave and the phase placements behind them."""

    spec: ReportSpec
    basis: str
    tables: ReportTables
    protected: Mapping[str, pd.DataFrame]
    self_phase: pd.Series
    criteria: CriteriaPlacement | None
    agreement: Agreement | None
    #: The calibration step's weights and record, when the wave is weighted.
    calibration: Any = None


@dataclass(frozen=True)
class WaveResult:
    """Everything computed for one wave (no I/O)."""

    instrument: Instrument
    typed: pd.DataFrame
    issues: pd.DataFrame
    flow: FlowResult
    partnerships: pd.DataFrame
    report: ReportResult | None = None

    @property
    def counts(self) -> dict[str, int]:
        disposition = self.flow.dispositions["disposition"].value_counts()
        return {
            "raw": len(self.flow.dispositions),
            "analysed": int(disposition.get("analysed", 0)),
            "excluded": int(disposition.get("excluded", 0)),
            "quarantined": int(disposition.get("quarantined", 0)),
        }

    @property
    def exit_code(self) -> int:
        """1 when rows were quarantined or analysed rows carry error issues, 2 when no row
        is left to analyse, else 0."""
        if not len(self.flow.analysed):
            return EXIT_UNUSABLE  # nothing to analyse (RUN_003)
        outcome = self.issues["outcome"] if "outcome" in self.issues else pd.Series(dtype=str)
        errors = self.issues["severity"].eq("error") & outcome.isin(["analysed", "quarantined"])
        return EXIT_DATA_ERRORS if errors.any() else EXIT_OK
