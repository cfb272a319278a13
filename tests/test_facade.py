"""The public facade: ``import pipeline`` gives the entry points, cheaply."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import pipeline
from conftest import PROJECT

#: Where each public name is defined (written out here, not read from the facade).
HOMES = {
    "read_wave": "pipeline.ingest.readers",
    "analyse_wave_dir": "pipeline.run.waves",
    "analyse_wave": "pipeline.run.analyse",
    "run_wave": "pipeline.run.analyse",
    "run_waves": "pipeline.run.waves",
    "load_run": "pipeline.report.html",
    "load_trends": "pipeline.report.html",
    "SurveyDesign": "pipeline.stats.design",
    "binomial_interval": "pipeline.stats.intervals",
    "proportion_interval": "pipeline.stats.intervals",
    "pearson_chisq": "pipeline.stats.contingency",
    "fisher_exact": "pipeline.stats.fisher",
    "adjust_pvalues": "pipeline.stats.comparisons",
    "single_choice_table": "pipeline.stats.tabulate",
}


def test_facade__lists_its_names_in_all():
    assert set(HOMES) <= set(pipeline.__all__)
    assert len(pipeline.__all__) == len(set(pipeline.__all__))


@pytest.mark.parametrize("name", sorted(HOMES))
def test_facade__name_is_the_object_of_its_module(name):
    assert getattr(pipeline, name) is getattr(importlib.import_module(HOMES[name]), name)


def test_facade__every_listed_name_resolves():
    for name in pipeline.__all__:
        assert getattr(pipeline, name) is not None, name
    assert set(pipeline.__all__) <= set(dir(pipeline))


def test_facade__unknown_name__is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = pipeline.no_such_thing


def test_import_pipeline__loads_no_heavy_library():
    code = ("import sys, pipeline; heavy = ('pandas', 'numpy', 'scipy', 'matplotlib', "
            "'pipeline.run.analyse'); print(','.join(m for m in heavy if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=PROJECT)
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("template", ["analyst_notebook.py", "trends_notebook.py"])
def test_notebook_templates__load_their_folder_through_the_facade(template):
    text = (PROJECT / "reports" / template).read_text(encoding="utf-8")
    assert "import pipeline\n" in text
    assert "pipeline.load_run(" in text or "pipeline.load_trends(" in text
