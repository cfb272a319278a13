"""``pulsecheck report RUN_DIR``: re-render a run's reports from its folder, without
recomputing anything."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import click

from pipeline.cli.options import echo_skipped, progress_reporter, quiet_option, render_options
from pipeline.errors import PulsecheckError


def read_run_json(path: Path, kind: type = dict) -> object:
    """A JSON file of a run folder, or RENDER_004 when it is damaged (never a traceback)."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise PulsecheckError("RENDER_004", file=str(path), name=path.name,
                              reason=f"it is not UTF-8 text (byte {error.start})") from error
    except json.JSONDecodeError as error:
        raise PulsecheckError("RENDER_004", file=str(path), name=path.name,
                              reason=f"it is not valid JSON ({error.msg}, line {error.lineno})"
                              ) from error
    except OSError as error:
        raise PulsecheckError("RENDER_004", file=str(path), name=path.name,
                              reason=error.strerror or str(error)) from error
    if not isinstance(content, kind):
        raise PulsecheckError("RENDER_004", file=str(path), name=path.name,
                              reason=f"it holds a JSON {type(content).__name__}, not an object")
    return content


def check_run_files(folder: Path) -> None:
    """Refuse a run folder whose run.json or report.json is damaged, before rendering."""
    for name in ("run.json", "report.json"):
        if (folder / name).exists():
            read_run_json(folder / name)


def refresh_manifest(folder: Path, partner_reports: bool = False,
                     foreign: Iterable[str] = (), written: Iterable[str] = ()) -> None:
    """Update the output hashes in ``run.json`` after re-rendering (provenance stays true).

    Partnership pages rendered now are recorded as a setting, so that ``pulsecheck verify``
    rebuilds them too. ``foreign`` are the files that were in the folder before rendering
    without being recorded (a user's notes): they stay unrecorded unless the rendering
    wrote them (``written``), so that the next run refuses to delete them (RUN_004).
    """
    from pipeline.ingest.readers import sha256_file

    path = folder / "run.json"
    manifest = read_run_json(path)
    if partner_reports and isinstance(manifest.get("settings"), dict):
        manifest["settings"]["partner_reports"] = True
    left = set(foreign) - set(written)
    outputs = {p.relative_to(folder).as_posix(): sha256_file(p)
               for p in folder.rglob("*") if p.is_file() and p.name != "run.json"
               and p.relative_to(folder).as_posix() not in left}
    manifest["outputs"] = dict(sorted(outputs.items()))
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@click.command("report")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--partner-reports", is_flag=True, default=False,
              help="Also write a one-page report for each partnership (partners/<id>.html "
                   "and .pdf), for partnerships that asked for one.")
@render_options
@quiet_option
def report(run_dir: Path, partner_reports: bool, no_notebook: bool, no_pdf: bool) -> None:
    """Re-render the reports of a run folder (funder summary, analyst notebook, partnership
    pages) from the tables it holds, without recomputing them.

    \b
    Examples:
      pulsecheck report reports/out/pulse_check-2016
      pulsecheck report reports/out/pulse_check-2016 --partner-reports
      pulsecheck report reports/out/pulse_check-trends
    """
    from pipeline.report.html import is_trends_folder, write_reports, write_trend_reports
    from pipeline.run.publication import unrecorded_files

    folder = Path(run_dir)
    check_run_files(folder)
    foreign = unrecorded_files(folder)  # not the run's: never recorded as its outputs
    progress = progress_reporter()
    skipped: list = []  # PDFs or notebooks that cannot be rendered here (with cause and fix)
    if is_trends_folder(folder):
        # A trends folder (pulsecheck run over a folder of waves): workbook, summary, notebook.
        written = write_trend_reports(folder, notebook=not no_notebook, pdf=not no_pdf,
                                      skipped=skipped, progress=progress)
        refresh_manifest(folder, foreign=foreign, written=written)
        echo_skipped(skipped)
        click.echo(f"Wrote {len(written)} file(s) in {folder}")
        return
    if not (folder / "run.json").exists():
        raise PulsecheckError("RENDER_001", path=str(folder), name="run.json")
    written = write_reports(folder, partner_reports=partner_reports,
                            notebook=not no_notebook, pdf=not no_pdf, skipped=skipped,
                            progress=progress)
    refresh_manifest(folder, partner_reports, foreign=foreign, written=written)
    echo_skipped(skipped)
    click.echo(f"Wrote {len(written)} file(s) in {folder}")
