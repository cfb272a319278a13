"""pulsecheck: a reproducible pipeline for the Pulse Check survey of multi-sector partnerships.

The package is organised in layers, each importing only from those below it (the contracts
are in ``pyproject.toml``): ``cli`` → ``run`` → ``report`` | ``multiwave`` → ``stages`` →
``stats`` → ``model`` → ``errors``, ``columns``; ``ingest`` reads files for ``run``, ``cli`` and
the sample generator (``synthetic``).

The public entry points can be imported from ``pipeline`` itself; each is imported on first
use, so ``import pipeline`` loads no library:

* a wave: :func:`read_wave`, :func:`analyse_wave_dir` (read and analyse a wave folder without
  writing), :func:`analyse_wave` (the pure core), :func:`run_wave` and :func:`run_waves` (what
  ``pulsecheck run`` does);
* a run folder: :func:`load_run`, :func:`load_trends`;
* the statistics: :class:`SurveyDesign`, the intervals, the tests, the adjustments and the
  tables of :mod:`pipeline.stats`.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Each public name → the module that defines it.
_HOMES = {
    # a wave
    "read_wave": "pipeline.ingest.readers",
    "analyse_wave_dir": "pipeline.run.waves",
    "analyse_wave": "pipeline.run.analyse",
    "run_wave": "pipeline.run.analyse",
    "run_waves": "pipeline.run.waves",
    # a run folder
    "load_run": "pipeline.report.html",
    "load_trends": "pipeline.report.html",
    # the statistics
    "SurveyDesign": "pipeline.stats.design",
    "binomial_interval": "pipeline.stats.intervals",
    "binomial_intervals": "pipeline.stats.intervals",
    "design_interval": "pipeline.stats.intervals",
    "proportion_interval": "pipeline.stats.intervals",
    "pearson_chisq": "pipeline.stats.contingency",
    "likelihood_ratio_chisq": "pipeline.stats.contingency",
    "cochran_armitage": "pipeline.stats.contingency",
    "design_chisq": "pipeline.stats.contingency",
    "fisher_exact": "pipeline.stats.fisher",
    "fisher_monte_carlo": "pipeline.stats.fisher",
    "adjust_pvalues": "pipeline.stats.comparisons",
    "column_proportion_tests": "pipeline.stats.comparisons",
    "weighted_quantile": "pipeline.stats.quantiles",
    "mean_estimate": "pipeline.stats.estimates",
    "total_estimate": "pipeline.stats.estimates",
    "quantile_estimate": "pipeline.stats.estimates",
    "single_choice_table": "pipeline.stats.tabulate",
    "check_all_table": "pipeline.stats.tabulate",
    "numeric_summary": "pipeline.stats.tabulate",
}

__all__ = [
    "SurveyDesign",
    "__version__",
    "adjust_pvalues",
    "analyse_wave",
    "analyse_wave_dir",
    "binomial_interval",
    "binomial_intervals",
    "check_all_table",
    "cochran_armitage",
    "column_proportion_tests",
    "design_chisq",
    "design_interval",
    "fisher_exact",
    "fisher_monte_carlo",
    "likelihood_ratio_chisq",
    "load_run",
    "load_trends",
    "mean_estimate",
    "numeric_summary",
    "pearson_chisq",
    "proportion_interval",
    "quantile_estimate",
    "read_wave",
    "run_wave",
    "run_waves",
    "single_choice_table",
    "total_estimate",
    "weighted_quantile",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
