"""`pulsecheck new-wave`: next year's wave from the last one's description, never its data."""

from __future__ import annotations

import shutil
import tomllib

from click.testing import CliRunner

from conftest import PROJECT, make_project
from pipeline.cli.main import cli
from pipeline.cli.new_wave import rewrite_wave_text


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_new_wave__sibling_name__copies_description_only_and_renames_the_wave(
        tmp_path, tiny_rows):
    source = make_project(tmp_path, tiny_rows)  # raw/tiny, wave "2016"
    (source / "corrections.csv").write_text("respondent,question,old_value,new_value,"
                                            "reason,who\n", encoding="utf-8")
    (source / "replaced" / "1").mkdir(parents=True)
    (source / "NOTES.md").write_text("Collected in spring 2016.\n", encoding="utf-8")
    target = tmp_path / "raw" / "2018"

    result = invoke("new-wave", str(target), "--from", "tiny")

    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.iterdir()) == ["NOTES.md", "wave.toml"]
    settings = tomllib.loads((target / "wave.toml").read_text(encoding="utf-8"))
    assert settings["wave"] == "2018"
    assert settings.get("synthetic", False) is False
    # The instrument is the same folder, named from the new place.
    assert (target / settings["instrument"]).resolve() == (tmp_path / "instrument").resolve()
    original = tomllib.loads((source / "wave.toml").read_text(encoding="utf-8"))
    assert settings["steps"] == original["steps"]
    # The source is untouched.
    assert sorted(p.name for p in source.iterdir()) == sorted(
        ["wave.toml", "export.csv", "SHA256SUMS", "corrections.csv", "replaced", "NOTES.md"])
    for word in ("export.csv", "SHA256SUMS", "corrections.csv", "replaced/"):
        assert word in result.output
    steps = [line.strip() for line in result.output.splitlines()
             if line.strip()[:2] in {f"{n}." for n in range(1, 10)}]
    assert len(steps) >= 5
    assert any(f"pulsecheck manifest {target}" in s for s in steps)
    assert any(f"pulsecheck validate {target}" in s for s in steps)
    assert any(f"pulsecheck run {target}" in s for s in steps)
    assert any("instrument" in s for s in steps)


def test_new_wave__committed_2018__year_rewritten_in_title_files_and_comments(tmp_path):
    source = tmp_path / "raw" / "pulse_check" / "2018"
    source.mkdir(parents=True)
    shutil.copy(PROJECT / "raw" / "pulse_check" / "2018" / "wave.toml", source)
    target = tmp_path / "raw" / "pulse_check" / "2020"
    result = invoke("new-wave", str(target), "--from", str(source))
    assert result.exit_code == 0, result.output
    text = (target / "wave.toml").read_text(encoding="utf-8")
    settings = tomllib.loads(text)
    assert settings["files"] == ["pulse_check_2020_qualtrics.csv"]
    assert "2020" in settings["title"] and "2018" not in settings["title"]
    assert "synthetic" not in settings["title"].lower()
    assert "SYNTHETIC" not in text
    # The instrument version is the user's decision: the 2018 instrument is kept.
    assert settings["instrument"] == "../../../survey_instrument/pulse_check/2018"


def test_new_wave__folder_not_empty__refused_exit_2_and_nothing_written(tmp_path, tiny_rows):
    make_project(tmp_path, tiny_rows)
    target = tmp_path / "raw" / "2018"
    target.mkdir()
    (target / "export.csv").write_text("mine", encoding="utf-8")
    result = invoke("new-wave", str(target), "--from", "tiny")
    assert result.exit_code == 2
    assert "WAVE_011" in result.output and "export.csv" in result.output
    assert sorted(p.name for p in target.iterdir()) == ["export.csv"]


def test_new_wave__source_without_wave_toml__is_a_catalogue_error(tmp_path):
    (tmp_path / "raw" / "2016").mkdir(parents=True)
    result = invoke("new-wave", str(tmp_path / "raw" / "2018"), "--from", "2016")
    assert result.exit_code == 2
    assert "WAVE_001" in result.output
    assert not (tmp_path / "raw" / "2018").exists()


def test_rewrite_wave_text__steps_keep_values_that_look_like_the_wave():
    text = ('wave = "2016"\ntitle = "Wave 2016"\nfiles = ["a_2016.csv"]\n'
            '[[steps]]\nid = "x"\nrule = "answer_in"\nquestion = "q"\nvalues = ["2016"]\n')
    new = tomllib.loads(rewrite_wave_text(text, "2016", "2018"))
    assert (new["wave"], new["title"], new["files"]) == ("2018", "Wave 2018", ["a_2018.csv"])
    assert new["steps"][0]["values"] == ["2016"]
