"""Waves: run every wave of a survey and the analyses across them (the edge).

:func:`run_waves` finds every wave folder under a survey's raw folder (each with a
``wave.toml``), runs each one as ``pulsecheck run`` would, then writes a combined folder with
the trends of every harmonised measure (:mod:`pipeline.multiwave.trends`), the partnership
histories (:mod:`pipeline.multiwave.histories`) and the caveats that travel with them. Crosswalks
are read from the ``crosswalks`` folder beside the instrument versions
(:mod:`pipeline.model.crosswalk`).

Outputs of the combined folder (default ``reports/out/<survey>-trends/``)::

    run.json                    inputs, waves, crosswalks, settings, package versions, outputs
    published/                  trends.csv, trends/, trend_changes.csv, trend_tests.csv and
                                caveats.csv as they may leave the team (small shares hidden,
                                tests that use them withheld), trends.xlsx, trends_summary.*
    internal/                   everything below with true counts, README.txt, the notebook
    trends/<measure>.csv        one tidy table per harmonised measure, with a ``wave`` column
    trends.csv                  every measure in one tidy table
    trend_changes.csv           tests of change between consecutive comparable waves
    trend_tests.csv             Cochran–Armitage trend test over each comparable series
    caveats.csv                 every caveat of every measure, with the waves it concerns
    transitions.csv             phase transitions of linked partnerships (from → to, counts)
    phase_changes_barriers.csv  measures that changed for partnerships that moved phase
    histories.csv               every link between waves (stable id or confirmed)
    histories_review.csv        name/location candidates for research staff to confirm
    trends.xlsx                 the finished workbook
                                (pipeline.report.workbook.write_trends_workbook)
    trends_summary.html, .pdf   the summary for funders (pipeline.report.html.write_trend_reports)
    trends.ipynb, trends.html   the executed analyst notebook (reports/trends_notebook.py)
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from pipeline.columns import LINKED_PHASE_COLUMN, MULTI_SEPARATOR
from pipeline.errors import PulsecheckError
from pipeline.ingest.wave_folder import load_wave
from pipeline.model.instrument import Instrument
from pipeline.model.wave import Wave
from pipeline.paths import contained
from pipeline.run.analyse import analyse_wave, read_report_spec, validation_config
from pipeline.stages.privacy import inert_frame
from pipeline.stages.results import WaveResult

#: The file that marks a wave folder.
WAVE_FILE = "wave.toml"


@dataclass(frozen=True)
class AnalysedWave:
    """One wave read and analysed (not yet published)."""

    wave: Wave
    instrument: Instrument
    input_sums: Mapping[str, str]
    result: WaveResult


def analyse_wave_dir(wave_dir: Path, keep_personal: bool = False,
                     with_report: bool = True) -> AnalysedWave:
    """Read a wave folder and analyse it, as ``pulsecheck run`` does, without writing.

    The folder is read by :func:`pipeline.ingest.wave_folder.load_wave`, as for a single
    wave, so its ``[limits]`` and the choice versions apply here too.
    """
    loaded = load_wave(Path(wave_dir))
    wave, instrument = loaded.wave, loaded.instrument
    spec = read_report_spec(wave.instrument_path, instrument) if with_report else None
    result = analyse_wave(loaded.exports, instrument, wave,
                          validation_config(loaded.platform, wave.steps), keep_personal,
                          spec=spec, corrections=loaded.corrections)
    return AnalysedWave(wave=wave, instrument=instrument, input_sums=loaded.input_sums,
                        result=result)


def answers_as_names(typed: pd.DataFrame, instrument: Instrument, questions: list[str]
                     ) -> pd.DataFrame:
    """Answers of ``questions`` as choice names (tuples of names for select-multiple)."""
    columns: dict[str, list[Any]] = {}
    for name in questions:
        question = instrument.question(name)
        if question.type == "select_multiple":
            choices = [c.name for c in instrument.choices_for(question)]
            ticks = typed[[f"{name}{MULTI_SEPARATOR}{c}" for c in choices]]
            columns[name] = [tuple(c for c, v in zip(choices, row, strict=True)
                                   if not pd.isna(v) and int(float(v)) == 1)
                             for row in ticks.itertuples(index=False)]
        else:
            columns[name] = [None if pd.isna(v) else v for v in typed[name]]
    return pd.DataFrame(columns, index=typed.index)


def read_linked_partnerships(wave_dir: Path, name: str, carry: list[str]) -> pd.DataFrame:
    """The analysed partnerships of a wave, for a sample whose partnerships recur there.

    Returns one row per analysed partnership: the respondent key, the ``name`` question, the
    ``carry`` questions (choice names) and :data:`pipeline.columns.LINKED_PHASE_COLUMN` (the answer
    to the phase question, empty when the instrument has none).
    """
    analysed = analyse_wave_dir(wave_dir, keep_personal=True, with_report=False)
    instrument = analysed.instrument
    result = analysed.result
    rows = result.typed.loc[result.flow.analysed]
    frame = answers_as_names(rows, instrument, [instrument.respondent_key, name, *carry])
    frame[LINKED_PHASE_COLUMN] = rows[instrument.phase_question].astype("object").where(
        rows[instrument.phase_question].notna(), "") if instrument.phase_question else ""
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Running every wave and the analyses across them
# --------------------------------------------------------------------------------------------

class CrosswalkError(PulsecheckError):
    """A crosswalk cannot be used; ``problems`` is its issues table."""

    def __init__(self, path: str, problems: pd.DataFrame) -> None:
        self.problems = problems
        super().__init__("XWALK_009", path=path, n=len(problems))


def find_waves(root: Path) -> list[Path]:
    """Wave folders under ``root`` (sub-folders with a ``wave.toml``), in name order."""
    root = Path(root)
    folders = sorted(p.parent for p in root.glob(f"*/{WAVE_FILE}"))
    if not folders:
        raise PulsecheckError("WAVES_001", path=str(root))
    return folders


def is_waves_folder(path: Path) -> bool:
    """Whether ``path`` is a folder of wave folders rather than a wave folder."""
    path = Path(path)
    return path.is_dir() and not (path / WAVE_FILE).exists() and \
        any(path.glob(f"*/{WAVE_FILE}"))


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def read_crosswalks(folder: Path, versions: list[Instrument]
                    ) -> tuple[list[Any], pd.DataFrame]:
    """Read and check the crosswalk of each pair of consecutive versions (when present)."""
    from pipeline.model.crosswalk import build_crosswalk

    crosswalks = []
    for old, new in itertools.pairwise(versions):
        path = Path(folder) / f"{old.version}__{new.version}.csv"
        if not path.exists():
            continue
        crosswalk, problems = build_crosswalk(_read_csv(path), old, new, file=path.name)
        if len(problems):
            raise CrosswalkError(str(path), problems)
        crosswalks.append(crosswalk)
    return crosswalks, pd.DataFrame()


def wave_design(result: Any) -> dict[str, Any]:
    """The design a wave's trends use: that of its report tables (``[settings.design]``,
    replicate weights included, and its calibration), with their interval method; nothing
    for an unweighted wave."""
    report = result.report
    if report is None:
        return {}
    from pipeline.report.tables import table_design

    spec = report.spec
    calibration = report.calibration.calibration if report.calibration is not None else None
    design = table_design(spec)
    if design is None and calibration is None:
        return {}
    return {"design": design, "calibration": calibration, "ci_method": spec.ci_method}


def read_trend_settings(folder: Path) -> dict[str, Any]:
    """``trends.toml`` of the crosswalks folder (empty when absent)."""
    path = Path(folder) / "trends.toml"
    if not path.exists():
        return {}
    from pipeline.ingest.config import read_toml
    from pipeline.model.schemas import TrendsFile

    return read_toml(path, TrendsFile)[1]


@dataclass(frozen=True)
class WavesSummary:
    out: Path
    waves: tuple[str, ...]
    counts: Mapping[str, int]
    links: Mapping[str, int]
    exit_code: int
    #: Outputs asked for but not written (RENDER_007, RENDER_008), each with its cause and fix.
    skipped: tuple = ()
    #: What the user must be told whatever the terminal: warnings (a wave left out of the
    #: trends), partnership pages written again, and what the trends cover.
    notices: tuple[str, ...] = ()


def recorded_partner_reports(folder: Path) -> bool:
    """Whether the run folder at ``folder`` was written with partnership pages.

    Read from its ``run.json`` (``settings.partner_reports``); a folder that is missing, or
    whose record cannot be read, made none.
    """
    try:
        manifest = json.loads((Path(folder) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    settings = manifest.get("settings") if isinstance(manifest, dict) else None
    return isinstance(settings, dict) and settings.get("partner_reports") is True


def run_waves(root_dir: Path, out: Path | None = None,
              progress: Callable[[str], None] = lambda message: None, *,
              pdf: bool = True, notebook: bool = True,
              partner_reports: bool = False) -> WavesSummary:
    """Run every wave under ``root_dir`` and write the trends folder (``pulsecheck run``).

    Each wave is published as ``pulsecheck run`` publishes it (into ``out/<survey>-<wave>/``,
    by default ``reports/out/``); the combined outputs go to ``out/<survey>-trends/`` (see the
    module docstring).

    Partnership pages are written for every wave when ``partner_reports`` is true, and for a
    wave whose earlier run folder made them (``settings.partner_reports`` of its
    ``run.json``): replacing that folder must not delete pages a team may have sent, so they
    are made again from the wave's current data (the same bytes when the data are unchanged).
    """
    from pipeline.model.crosswalk import COMPARABILITY  # noqa: F401 - documents the dependency
    from pipeline.multiwave.histories import (
        WavePartnerships,
        changes_for_movers,
        link_partnerships,
        phase_transitions,
    )
    from pipeline.multiwave.trends import (
        Settings,
        WaveData,
        chain_measures,
        compute_trends,
        measure_indicator,
        waves_left_out,
    )
    from pipeline.run.analyse import (
        default_out,
        nothing_analysed,
        publish,
        run_folder_name,
        write_outputs,
    )
    from pipeline.run.publication import check_out, check_writable_path

    folders = find_waves(Path(root_dir))
    if out:
        # An output place that cannot hold folders is refused before any analysis.
        check_writable_path(Path(out))
    skipped: list = []  # PDFs and notebooks that could not be rendered (RENDER_007/008)
    notices: list[str] = []
    analysed = []
    for folder in folders:
        progress(f"reading and analysing {folder}")
        item = analyse_wave_dir(folder)
        progress(f"wave {item.wave.wave}: {item.result.counts['analysed']} partnerships "
                 f"analysed (instrument {item.instrument.version})")
        analysed.append(item)
    surveys = sorted({a.wave.survey for a in analysed})
    if len(surveys) > 1:
        raise PulsecheckError("WAVES_002", path=str(root_dir), surveys=", ".join(surveys))
    analysed.sort(key=lambda a: a.wave.wave)
    base = Path(out) if out else default_out(analysed[0].wave).parent
    # Every destination is checked before the first is published.
    for name in [*(a.wave.wave for a in analysed), "trends"]:
        check_out(base / f"{analysed[0].wave.survey}-{name}")
    for item in analysed:
        target = base / run_folder_name(item.wave)
        pages = partner_reports or recorded_partner_reports(target)
        if pages and not partner_reports:
            notices.append(f"wave {item.wave.wave}: partnership pages written again (its "
                           f"earlier run folder had them)")
        progress(f"writing {target}")
        publish(target, lambda f, item=item, pages=pages: write_outputs(
            f, item.wave, item.result, item.input_sums, False, pages, pdf=pdf,
            notebook=notebook, skipped=skipped, progress=progress))
        progress(f"wrote {target}")
        if not len(item.result.flow.analysed):
            # Where every row of the wave went is written; the trends cannot be.
            raise nothing_analysed(item.result, target)

    instruments = [a.instrument for a in analysed]
    xwalk_dir = Path(analysed[0].wave.instrument_path).parent / "crosswalks"
    crosswalks, _ = read_crosswalks(xwalk_dir, instruments)
    chains, problems = chain_measures(crosswalks)
    if len(problems):
        raise CrosswalkError(str(xwalk_dir), problems)
    config = read_trend_settings(xwalk_dir)
    trend_config = config.get("trends", {})
    settings = Settings(ci_method=trend_config.get("ci_method", "wilson"),
                        level=float(trend_config.get("level", 0.95)),
                        adjust=trend_config.get("adjust", "bh"),
                        alpha=float(trend_config.get("alpha", 0.05)))
    data = []
    for item in analysed:
        result = item.result
        rows = result.typed.loc[result.flow.analysed]
        phase = result.partnerships.set_index(item.instrument.respondent_key)["phase_group"] \
            .reindex(rows[item.instrument.respondent_key]).set_axis(rows.index)
        data.append(WaveData(wave=item.wave.wave, instrument=item.instrument, frame=rows,
                             phase=phase, **wave_design(result)))
    trends = compute_trends(data, chains, settings)
    left_out = waves_left_out([a.wave.wave for a in analysed], chains)
    notices += [f"warning: {warning['message']}" for warning in left_out]
    in_trends = sorted(set(trends.table["wave"].astype(str))) if len(trends.table) else []
    notices.append(f"trends: {trends.table['measure'].nunique()} measures over {len(in_trends)} "
             f"waves ({', '.join(in_trends) or 'none'}), {len(trends.changes)} tests of change")

    history = config.get("histories", {})
    name_q = history.get("name_question")
    location_q = history.get("location_question")
    partnerships = []
    for item, wave_data in zip(analysed, data, strict=True):
        key = item.instrument.respondent_key
        names = answers_as_names(wave_data.frame, item.instrument,
                                 [q for q in (name_q, location_q) if q])
        partnerships.append(WavePartnerships(
            wave=item.wave.wave, phase_order=tuple(item.instrument.phase_order),
            frame=pd.DataFrame({
                "id": wave_data.frame[key].astype(str).to_numpy(),
                "name": names[name_q].astype(str).to_numpy() if name_q else "",
                "location": names[location_q].to_numpy() if location_q else [()] * len(names),
                "phase": wave_data.phase.astype(str).to_numpy()})))
    decisions = None
    links_path = contained(xwalk_dir, history["links"], what="partnership links file") \
        if history.get("links") else None
    if links_path is not None and links_path.exists():
        decisions = _read_csv(links_path)
        needed = {"wave_from", "id_from", "wave_to", "id_to", "decision"}
        if not needed <= set(decisions.columns):
            raise PulsecheckError("WAVES_003", path=str(links_path),
                                  problem="lacks "
                                  f"{', '.join(sorted(needed - set(decisions.columns)))}")
    histories = link_partnerships(partnerships, decisions,
                                  float(history.get("similarity", 0.7)))
    transitions = phase_transitions(partnerships, histories.links)
    families = set(history.get("change_families", ()))
    indicators: dict[str, pd.DataFrame] = {}
    labels: dict[str, str] = {}
    for item, wave_data in zip(analysed, data, strict=True):
        columns = {}
        for chain in chains:
            side = chain.sides.get(item.wave.wave)
            if chain.family in families and side is not None:
                columns[chain.measure] = measure_indicator(
                    wave_data.frame, item.instrument, side).to_numpy()
                labels[chain.measure] = chain.label
        indicators[item.wave.wave] = pd.DataFrame(
            columns, index=wave_data.frame[item.instrument.respondent_key].astype(str))
    movers = changes_for_movers(partnerships, histories.links, indicators, labels)
    progress(f"histories: {len(histories.links)} links, {len(histories.review)} pair(s) "
             f"for review")

    trends_out = base / run_folder_name(analysed[0].wave, "trends")
    general = pd.DataFrame([{
        "measure": "(every measure)", "label": "", "from_wave": "", "to_wave": "",
        "comparability": "",
        "caveat": "Many partnerships answered in more than one wave; the tests of change treat "
                  "the waves as independent samples, so they are approximate (A-WAVE-15)."}])
    # A wave no crosswalk reaches is absent from every trend table; the reports say so.
    left = [pd.DataFrame([{"measure": "(every measure)", "label": "", "from_wave": "",
                           "to_wave": "", "comparability": "",
                           "caveat": w["rule"][:1].upper() + w["rule"][1:]}
                          for w in left_out])] if left_out else []
    caveats = pd.concat([general, *left, trends.caveats], ignore_index=True)
    outputs = {
        "trends.csv": trends.table, "trend_changes.csv": trends.changes,
        "trend_tests.csv": trends.trend_tests, "caveats.csv": caveats,
        "transitions.csv": transitions, "phase_changes_barriers.csv": movers,
        "histories.csv": histories.links, "histories_review.csv": histories.review,
    }
    synthetic = any(a.wave.synthetic for a in analysed)
    # The strictest small-cell threshold of the waves protects the trend reports (A-TREND-2).
    threshold = max((a.result.report.spec.disclosure_threshold for a in analysed
                     if a.result.report is not None), default=5)

    from pipeline.multiwave.trends import published_trends

    # Cells hidden in a wave's own tables stay hidden in the trends (A-DISC-3).
    wave_hidden = frozenset(
        (a.wave.wave, str(var), str(level), str(column))
        for a in analysed if a.result.report is not None
        for table in a.result.report.protected.values() if "row_level" in table.columns
        for var, level, column, hidden in zip(table["row_var"], table["row_level"],
                                              table["col_level"], table["suppressed"], strict=True)
        if hidden)
    public = published_trends(trends, threshold, settings, wave_hidden)
    # What may leave the team; everything else (true counts, histories, the review list with
    # partnership names, the movers' counts) stays in internal/.
    published_outputs = {"trends.csv": public.table, "trend_changes.csv": public.changes,
                         "trend_tests.csv": public.trend_tests, "caveats.csv": caveats}

    def write(folder: Path) -> None:
        from pipeline.ingest.readers import sha256_file
        from pipeline.report.html import (
            INTERNAL_DIR,
            PUBLISHED_DIR,
            write_internal_readme,
            write_trend_reports,
        )
        from pipeline.run.analyse import RUN_MANIFEST, package_versions, read_published_symbol

        for part, files, table in ((INTERNAL_DIR, outputs, trends.table),
                                   (PUBLISHED_DIR, published_outputs, public.table)):
            (folder / part).mkdir()
            for name, frame in files.items():
                inert_frame(frame).to_csv(folder / part / name, index=False,
                                          lineterminator="\n")
            (folder / part / "trends").mkdir()
            for measure, frame in table.groupby("measure", sort=False):
                inert_frame(frame).to_csv(folder / part / "trends" / f"{measure}.csv",
                                          index=False, lineterminator="\n")
        write_internal_readme(folder / INTERNAL_DIR)
        manifest = {
            "survey": analysed[0].wave.survey, "synthetic": synthetic,
            "waves": [{"wave": a.wave.wave, "instrument": a.instrument.version,
                       "counts": a.result.counts} for a in analysed],
            "crosswalks": [f"{c.old}__{c.new}.csv" for c in crosswalks],
            **({"left_out": [{"wave": w["value"], "reason": w["message"]}
                             for w in left_out]} if left_out else {}),
            "settings": {"trends": dict(trend_config), "histories": dict(history)},
            "disclosure_threshold": threshold,
            "published_symbol": read_published_symbol(analysed[0].wave.root),
            "links": {"stable_id": int(histories.links["method"].eq("stable_id").sum()),
                      "confirmed": int(histories.links["method"].eq("confirmed").sum()),
                      "review": len(histories.review)},
            "packages": package_versions(),
        }
        # The trends notebook reads the provenance from this provisional manifest; the final
        # one (with every output's hash) replaces it below.
        (folder / RUN_MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False)
                                           + "\n", encoding="utf-8")
        write_trend_reports(folder, manifest, pdf=pdf, notebook=notebook, skipped=skipped,
                            progress=progress)
        files = {p.relative_to(folder).as_posix(): sha256_file(p)
                 for p in sorted(folder.rglob("*")) if p.is_file() and p.name != RUN_MANIFEST}
        manifest["outputs"] = files
        (folder / RUN_MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False)
                                           + "\n", encoding="utf-8")

    publish(trends_out, write)
    return WavesSummary(out=trends_out, waves=tuple(a.wave.wave for a in analysed),
                        counts={a.wave.wave: a.result.counts["analysed"] for a in analysed},
                        links={"stable_id": int(histories.links["method"].eq("stable_id").sum()),
                               "confirmed": int(histories.links["method"].eq("confirmed").sum()),
                               "review": len(histories.review)},
                        exit_code=max(a.result.exit_code for a in analysed),
                        skipped=tuple(skipped), notices=tuple(notices))
