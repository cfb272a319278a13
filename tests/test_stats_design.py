"""Design description, validation, purity, and the documentation rule."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import CATALOGUE, PulsecheckError
from pipeline.stats import (
    comparisons,
    contingency,
    disclosure,
    fisher,
    intervals,
    methods,
    quantiles,
    tabulate,
)
from pipeline.stats import design as design_module
from pipeline.stats.comparisons import (
    adjust_pvalues,
    column_letters,
    column_proportion_tests,
    design_column_proportion_tests,
)
from pipeline.stats.contingency import (
    cochran_armitage,
    design_chisq,
    expected_count_warnings,
    expected_counts,
    likelihood_ratio_chisq,
    pearson_chisq,
)
from pipeline.stats.design import SurveyDesign, resolve_design, total_covariance
from pipeline.stats.fisher import fisher_exact, fisher_monte_carlo
from pipeline.stats.intervals import (
    binomial_interval,
    design_interval,
    pearson_dispersion,
    proportion_interval,
)
from pipeline.stats.quantiles import weighted_quantile


def test_simple_design__variance_of_a_mean_is_the_textbook_formula():
    # With replacement: var(mean) = s² / n.
    y = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    resolved = resolve_design(pd.DataFrame({"y": y}), SurveyDesign())
    scores = (y - y.mean()) / y.size
    assert total_covariance(resolved, scores)[0, 0] == pytest.approx(y.var(ddof=1) / y.size)


def test_fpc_as_fraction_or_population_size__gives_the_same_design():
    frame = pd.DataFrame({"s": [1, 1, 2, 2, 2], "N": [10, 10, 30, 30, 30],
                          "f": [0.2, 0.2, 0.1, 0.1, 0.1]})
    a = resolve_design(frame, SurveyDesign(strata="s", fpc="N"))
    b = resolve_design(frame, SurveyDesign(strata="s", fpc="f"))
    assert np.allclose(a.fpc_fraction, b.fpc_fraction)
    assert np.allclose(a.weights, [5, 5, 10, 10, 10])


@pytest.mark.parametrize("frame,design,code", [
    (pd.DataFrame({"w": [1.0, -1.0]}), SurveyDesign(weights="w"), "STAT_002"),
    (pd.DataFrame({"w": [1.0, None]}), SurveyDesign(weights="w"), "STAT_002"),
    (pd.DataFrame({"s": [1, 2, 2]}), SurveyDesign(strata="s"), "STAT_003"),
    (pd.DataFrame({"s": [1, 1], "N": [5, 6]}), SurveyDesign(strata="s", fpc="N"), "STAT_002"),
    (pd.DataFrame({"a": [1]}), SurveyDesign(weights="w"), "STAT_001"),
])
def test_unusable_design__raises_its_catalogue_error(frame, design, code):
    with pytest.raises(PulsecheckError) as info:
        resolve_design(frame, design)
    assert info.value.code == code


def test_certainty_rule__lets_a_single_psu_stratum_contribute_no_variance():
    frame = pd.DataFrame({"s": [1, 2, 2], "y": [5.0, 1.0, 3.0]})
    resolved = resolve_design(frame, SurveyDesign(strata="s", lonely_psu="certainty"))
    assert total_covariance(resolved, np.array([5.0, 0, 0]))[0, 0] == 0.0


def test_design_describe__reads_like_svydesign():
    text = SurveyDesign(weights="pw", strata="stype", fpc="fpc").describe()
    assert text == "svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc)"


#: Every module of the statistics engine.
ENGINE = (methods, intervals, contingency, fisher, comparisons, quantiles, tabulate, disclosure,
          design_module)


def test_every_stat_error_code_used__is_in_the_catalogue():
    source = "".join(inspect.getsource(m) for m in ENGINE)
    import re
    for code in set(re.findall(r'"(STAT_\d{3})"', source)):
        assert code in CATALOGUE


STATISTICAL = [
    binomial_interval, design_interval, proportion_interval,
    pearson_chisq, likelihood_ratio_chisq, fisher_exact,
    fisher_monte_carlo,
    cochran_armitage, adjust_pvalues, design_chisq,
    column_proportion_tests, design_column_proportion_tests,
    column_letters, weighted_quantile, expected_counts,
    expected_count_warnings, pearson_dispersion,
    design_module.resolve_design, design_module.total_covariance, design_module.design_df,
    design_module.ratio_estimate, tabulate.single_choice_table, tabulate.check_all_table,
    tabulate.numeric_summary, tabulate.crosstab_matrices, disclosure.suppress_table,
    disclosure.recoverable_cells,
]


@pytest.mark.parametrize("func", STATISTICAL, ids=lambda f: f.__name__)
def test_statistical_function__documents_its_method_with_references(func):
    doc = inspect.getdoc(func) or ""
    assert "References\n----------" in doc
    assert "Parameters\n----------" in doc


def test_engine_modules__do_no_file_io():
    for module in ENGINE:
        source = inspect.getsource(module)
        for banned in ("open(", "read_csv", "to_csv", "read_excel", "Path("):
            assert banned not in source, (module.__name__, banned)
