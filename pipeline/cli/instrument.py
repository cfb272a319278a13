"""Commands for instrument versions and waves: ``pulsecheck instrument diff``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline.cli.options import json_option
from pipeline.ingest.readers import read_instrument
from pipeline.model.instrument_diff import diff_instruments, format_diff


@click.command("diff")
@click.argument("old_dir", type=click.Path(path_type=Path))
@click.argument("new_dir", type=click.Path(path_type=Path))
@json_option(help_text="Print the changes as JSON instead of text; an error is a JSON "
                       "object too.")
def instrument_diff(old_dir: Path, new_dir: Path, as_json: bool) -> None:
    """List every change between two instrument versions.

    Questions added, removed, renamed (a guess from label similarity, for a crosswalk to
    confirm) or reworded; choices added, removed, renamed, split, relabelled or recoded; type
    and scale changes. Exit code 0 (a difference is not an error).

    \b
    Examples:
      pulsecheck instrument diff survey_instrument/pulse_check/2016 survey_instrument/pulse_check/2018
      pulsecheck instrument diff survey_instrument/pulse_check/2014 survey_instrument/pulse_check/2016 --json
    """  # noqa: E501 -- the examples are commands shown verbatim (click's \b block is not rewrapped)
    result = diff_instruments(read_instrument(old_dir), read_instrument(new_dir))
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(format_diff(result))


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def manifest_text(manifest: dict) -> str:
    """An instrument manifest as TOML (plain values first, then one table per mapping)."""
    lines = [f"{key} = {_toml_value(value)}" for key, value in manifest.items()
             if not isinstance(value, dict)]
    for key, table in manifest.items():
        if isinstance(table, dict):
            lines += ["", f"[{key}]", *(f"{k} = {_toml_value(v)}" for k, v in table.items())]
    return "\n".join(lines) + "\n"


@click.command("import")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder to write the instrument to (manifest.toml, survey.csv, choices.csv).")
def instrument_import(source: Path, out_dir: Path) -> None:
    """Turn a form written for a survey platform into an instrument folder.

    SOURCE is a Qualtrics survey definition (.qsf), an XLSForm workbook (.xlsx) or a REDCap
    data dictionary (.csv). The folder holds the questions (named as the platform's exports
    name their columns), types, choices with their codes, check-all questions, other-text
    follow-ups, skip logic where it can be written as ``relevant`` and the blocks or groups;
    it can then be versioned, checked and diffed like any instrument, and reads the same
    survey's exports. Parts that are not analysed are listed as warnings (INST_021).

    \b
    Examples:
      pulsecheck instrument import survey.qsf --out survey_instrument/partners/2016
      pulsecheck instrument import form.xlsx --out survey_instrument/partners/2018
    """
    from pipeline.cli.raw_guard import refuse_overwrite
    from pipeline.errors import InstrumentError, PulsecheckError, issues_frame
    from pipeline.ingest.adapters.forms import relocate
    from pipeline.ingest.readers import read_instrument_tables
    from pipeline.model.instrument import check_instrument

    written = [out_dir / name for name in ("manifest.toml", "survey.csv", "choices.csv")]
    # The form is never written over, and an instrument version is never replaced.
    refuse_overwrite(written, [source])
    present = [path.name for path in written if path.exists()]
    if present:
        raise PulsecheckError("CLI_007", path=str(out_dir), files=", ".join(present))
    tables = read_instrument_tables(source)
    problems = relocate(check_instrument(tables), tables.get("places", {}))
    if len(problems):
        raise InstrumentError(str(source), problems)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "manifest.toml").write_text(manifest_text(tables["manifest"]), encoding="utf-8")
    tables["survey"].to_csv(out_dir / "survey.csv", index=False, encoding="utf-8")
    tables["choices"].to_csv(out_dir / "choices.csv", index=False, encoding="utf-8")
    for message in issues_frame(tables.get("warnings", []))["message"]:
        click.echo(message)
    click.echo(f"Wrote {out_dir} ({len(tables['survey'])} survey rows, "
               f"{len(tables['choices'])} choices).")
