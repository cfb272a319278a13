"""A run folder never loses a file its run did not write: a rerun refuses instead (RUN_004)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from conftest import make_project
from pipeline.cli.main import cli


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_run__file_saved_in_run_folder__rerun_refuses_and_keeps_it(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "out"
    assert invoke("run", str(wave), "--out", str(out)).exit_code == 0
    notes = out / "internal" / "notes.txt"
    notes.write_text("my reading notes", encoding="utf-8")
    (out / "draft.docx").write_bytes(b"draft")
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))

    result = invoke("run", str(wave), "--out", str(out))

    assert result.exit_code == 2, result.output
    assert "RUN_004" in result.output
    assert "internal/notes.txt" in result.output and "draft.docx" in result.output
    assert notes.read_text(encoding="utf-8") == "my reading notes"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before


def test_run__rerun_over_own_outputs__replaces_them(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "out"
    assert invoke("run", str(wave), "--out", str(out)).exit_code == 0
    # A file the earlier run wrote and the user then removed is no reason to refuse.
    (out / "internal" / "overview.html").unlink()
    result = invoke("run", str(wave), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "internal" / "overview.html").exists()


def test_run__files_recorded_by_report_rerender__do_not_block_a_rerun(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows)
    out = tmp_path / "out"
    assert invoke("run", str(wave), "--out", str(out)).exit_code == 0
    # Pages written by pulsecheck after the run (`pulsecheck report`) are recorded in run.json.
    (out / "published" / "partners").mkdir(parents=True)
    (out / "published" / "partners" / "P1.html").write_text("<p>page</p>", encoding="utf-8")
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    manifest["outputs"]["published/partners/P1.html"] = "0" * 64
    (out / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = invoke("run", str(wave), "--out", str(out))
    assert result.exit_code == 0, result.output


def test_report_rerender__files_saved_before__stay_unrecorded(tmp_path):
    from pipeline.cli.report import refresh_manifest
    from pipeline.run.publication import unrecorded_files

    folder = tmp_path / "run"
    (folder / "published").mkdir(parents=True)
    (folder / "published" / "tables.csv").write_text("t", encoding="utf-8")
    (folder / "run.json").write_text(json.dumps({"outputs": {"published/tables.csv": "x"}}),
                                     encoding="utf-8")
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    foreign = unrecorded_files(folder)
    assert foreign == ["notes.txt"]
    # The re-rendering writes a page (and a side file it does not name).
    (folder / "published" / "funder_summary.html").write_text("<p/>", encoding="utf-8")
    (folder / "published" / "chart.svg").write_text("<svg/>", encoding="utf-8")
    refresh_manifest(folder, foreign=foreign, written=["published/funder_summary.html"])
    outputs = json.loads((folder / "run.json").read_text(encoding="utf-8"))["outputs"]
    assert sorted(outputs) == ["published/chart.svg", "published/funder_summary.html",
                               "published/tables.csv"]
    assert unrecorded_files(folder) == ["notes.txt"]
