"""pulsecheck outside its own checkout: shipped data in the wheel, the project from the working
directory, ``pulsecheck init``, and (slow) the built wheel in a fresh environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]

#: Files and folders the code reads at run time that are not the user's project, relative to
#: the checkout (written out here, not taken from the code, so a moved file fails the test).
SHIPPED = (
    "survey_instrument/platforms/qualtrics.toml",
    "survey_instrument/platforms/auto.toml",
    "survey_instrument/limits.toml",
    "survey_instrument/ASSUMPTIONS.md",
    "reports/templates/funder_summary.html.j2",
    "reports/templates/overview.html.j2",
    "reports/templates/report.css",
    "reports/report.toml",
    "reports/funder/wording.toml",
    "reports/funder/recommendations.toml",
    "reports/trends/wording.toml",
    "reports/analyst_notebook.py",
    "reports/trends_notebook.py",
    "survey_instrument/pulse_check/2016/survey.csv",
    "raw/pulse_check/2016/wave.toml",
)


def _force_include() -> dict[str, str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["hatch"]["build"]["targets"]["wheel"].get("force-include", {})


@pytest.mark.parametrize("relative", SHIPPED)
def test_wheel__every_file_read_at_run_time__is_shipped_under_pipeline_data(relative):
    included = _force_include()
    covering = [source for source in included
                if relative == source or relative.startswith(source.rstrip("/") + "/")]
    assert covering, f"{relative} is not in the wheel's force-include"
    source = covering[0]
    assert included[source] == f"pipeline/data/{source}"
    assert (ROOT / relative).is_file()


def test_wheel__force_include__names_only_existing_paths():
    assert [s for s in _force_include() if not (ROOT / s).exists()] == []


def test_templates__installed_wheel__are_read_from_the_shipped_data(tmp_path):
    # An installed package: pipeline/ with its data beside it, and no checkout around it.
    installed = tmp_path / "site-packages"
    shutil.copytree(ROOT / "pipeline", installed / "pipeline",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for source, target in _force_include().items():
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, installed / target)
        else:
            (installed / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, installed / target)
    script = ("import pipeline.report.html as h, pipeline.report.notebook as n, "
              "pipeline.resources as r; print(h.TEMPLATES); print(n.TEMPLATE); "
              "print(r.data_root())")
    out = subprocess.run([sys.executable, "-S", "-c",
                          f"import sys; sys.path[:0] = [{str(installed)!r}] + "
                          f"[p for p in {sys.path!r} if 'site-packages' in p]; " + script],
                         capture_output=True, text=True, cwd=tmp_path, check=True)
    templates, notebook, data = out.stdout.split()
    shipped = installed / "pipeline" / "data"
    assert Path(data) == shipped
    assert Path(templates) == shipped / "reports" / "templates"
    assert Path(notebook).is_file() and Path(notebook).parent == shipped / "reports"


def test_project_root__is_found_from_the_working_directory(tmp_path, monkeypatch):
    from pipeline.resources import project_root

    (tmp_path / "survey_instrument").mkdir()
    (tmp_path / "raw" / "x").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "raw" / "x")
    assert project_root() == tmp_path.resolve()


def test_init__creates_a_project_whose_wave_reads_inside_it(tmp_path, monkeypatch):
    from pipeline.ingest.readers import read_instrument

    # --project changes the working directory; monkeypatch restores it after the test.
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(cli, ["init", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    demo = tmp_path / "demo"
    for relative in ("survey_instrument/pulse_check/2016/survey.csv",
                     "survey_instrument/ASSUMPTIONS.md", "raw/pulse_check/2016/wave.toml",
                     ".gitignore", "README.md"):
        assert (demo / relative).is_file(), relative
    assert "reports/out/" in (demo / ".gitignore").read_text(encoding="utf-8").splitlines()
    # Platform profiles stay in the package: a project copy would go stale on upgrade.
    assert not (demo / "survey_instrument" / "platforms").exists()
    instrument = read_instrument(demo / "survey_instrument" / "pulse_check" / "2016")
    assert instrument.version == "2016"
    # The export is not there yet (pulsecheck sample writes it): the wave names a missing file.
    result = CliRunner().invoke(cli, ["--project", str(demo), "manifest",
                                      "raw/pulse_check/2016"])
    assert result.exit_code == 2
    assert "pulse_check_2016_qualtrics.csv" in result.output


def test_init__folder_with_files__is_refused_and_left_alone(tmp_path):
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert "CLI_006" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_project_option__missing_folder__is_a_catalogue_error(tmp_path):
    result = CliRunner().invoke(cli, ["--project", str(tmp_path / "nope"), "manifest", "x"])
    assert result.exit_code == 2
    assert "CLI_001" in result.output


def _uv() -> str | None:
    local = ROOT / ".tools" / "bin" / "uv"
    return str(local) if local.exists() else shutil.which("uv")


@pytest.mark.slow
def test_wheel__installed_outside_the_checkout__inits_samples_and_runs_a_wave(tmp_path):
    """Build the wheel, install it into a new environment under a temporary folder, and run
    the sample wave from a project made by ``pulsecheck init``.

    The dependencies come from this checkout's environment (added to the new one's path), so
    the test needs no network; ``.ci/wheel-check`` does the same with a fully clean install.
    """
    uv = _uv()
    if uv is None:
        pytest.skip("uv is not available (make setup installs it under .tools/)")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    dist = tmp_path / "dist"
    subprocess.run([uv, "build", "--wheel", "--out-dir", str(dist), str(ROOT)], env=env,
                   check=True, capture_output=True)
    wheel = next(dist.glob("pulsecheck-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "pipeline/data/reports/templates/report.css" in names
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", str(venv), "--python", sys.executable], env=env, check=True,
                   capture_output=True)
    python = venv / "bin" / "python"
    subprocess.run([uv, "pip", "install", "--no-deps", "--python", str(python), str(wheel)],
                   env=env, check=True, capture_output=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    dependencies = [p for p in sys.path if p.endswith("site-packages")]
    (site / "zz_dependencies.pth").write_text("\n".join(dependencies) + "\n", encoding="utf-8")
    command = str(venv / "bin" / "pulsecheck")
    work = tmp_path / "elsewhere"
    work.mkdir()

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
        return subprocess.run([command, *args], cwd=cwd, env=env, capture_output=True,
                              text=True, check=False)

    where = subprocess.run([str(python), "-c", "import pipeline; print(pipeline.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(venv)
    assert run("init", "demo", cwd=work).returncode == 0
    demo = work / "demo"
    sampled = run("sample", "survey_instrument/pulse_check/2016", "--out",
                  "raw/pulse_check/2016", cwd=demo)
    assert sampled.returncode == 0, sampled.stderr
    ran = run("run", "raw/pulse_check/2016", "--no-notebook", cwd=demo)
    assert ran.returncode == 0, ran.stderr
    out = demo / "reports" / "out" / "pulse_check-2016"
    for name in ("run.json", "internal/partnerships.csv", "published/tables.xlsx",
                 "internal/overview.html", "published/funder_summary.html",
                 "published/assumptions.csv"):
        assert (out / name).is_file(), name
