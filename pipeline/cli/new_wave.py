"""``pulsecheck new-wave DIR --from WAVE``: start next year's wave from the last one's description.

Only the wave's *description* is copied — ``wave.toml`` and notes (``*.md``); never its data:
the raw exports, ``SHA256SUMS``, ``corrections.csv`` and ``replaced/`` belong to the wave they
were collected for. The wave's identity is rewritten where the description carries it (``wave``,
the title, export file names and comments that name the old wave; ``synthetic`` becomes false;
the instrument path is kept pointing at the same instrument from the new place). Nothing is
asked interactively; what to do next is printed as a numbered list.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import click

from pipeline.errors import PulsecheckError

#: Files of a wave folder that describe the wave (copied); everything else is its data.
DESCRIPTION_PATTERNS = ("wave.toml", "*.md")
#: A top-level ``key = value`` line of ``wave.toml`` (before the first table).
#: "(synthetic sample)" and the like in a title.
_SYNTHETIC_NOTE = re.compile(r"\s*\([^)\n]*synthetic[^)\n]*\)", re.IGNORECASE)
_KEY_LINE = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_-]*)\s*=")


def source_folder(target: Path, source: str) -> Path:
    """The wave folder ``--from`` names: a path, or the name of a sibling of ``target``."""
    given = Path(source)
    if given.is_dir() or len(given.parts) > 1:
        return given
    return Path(target).parent / source


def description_files(folder: Path) -> list[Path]:
    """The description files of a wave folder (:data:`DESCRIPTION_PATTERNS`), sorted."""
    found = {path for pattern in DESCRIPTION_PATTERNS for path in Path(folder).glob(pattern)
             if path.is_file()}
    return sorted(found)


def rewrite_wave_text(text: str, old: str, new: str, instrument: str | None = None,
                      synthetic: bool = False) -> str:
    """``wave.toml`` text for the wave ``new``, made from that of wave ``old`` (pure).

    Before the first table: ``wave`` becomes ``new``; the old wave's name is replaced in
    ``title``, ``files`` and comments; ``synthetic`` becomes ``false`` (a new wave is
    collected, not generated);
    ``instrument`` becomes ``instrument`` when given. The comments that describe a synthetic
    source (``synthetic`` true) are dropped, and so is a note such as "(synthetic sample)"
    in its title. The steps and limits are kept as they are. Comments and layout are kept,
    so the file reads as the one it came from.
    """
    lines = text.splitlines(keepends=True)
    result = []
    in_tables = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("["):
            in_tables = True
        if in_tables:
            result.append(line)
            continue
        if stripped.startswith("#"):
            if synthetic and ("synthetic" in stripped.lower() or "sample" in stripped.lower()):
                continue
            result.append(line.replace(old, new))
            continue
        found = _KEY_LINE.match(stripped)
        key = found["key"] if found else None
        end = "\n" if line.endswith("\n") else ""
        if key == "wave":
            result.append(f'wave = "{new}"{end}')
        elif key in ("title", "files") or key is None:  # a value's continuation lines too
            changed = line.replace(old, new)
            if synthetic and key == "title":
                changed = _SYNTHETIC_NOTE.sub("", changed)
            result.append(changed)
        elif key == "synthetic":
            result.append(f"synthetic = false{end}")
        elif key == "instrument" and instrument is not None:
            result.append(f'instrument = "{instrument}"{end}')
        else:
            result.append(line)
    return "".join(result)


def create_wave(target: Path, source: Path) -> tuple[list[Path], list[str], dict]:
    """Write the description of a new wave into ``target`` from the wave folder ``source``.

    Returns
    -------
    tuple
        ``(written, left, settings)``: the files written, the names in ``source`` that were
        not copied (its data), and the new ``wave.toml`` as parsed.

    Raises
    ------
    PulsecheckError
        ``CLI_001`` when ``source`` is missing, ``WAVE_001`` when it has no ``wave.toml``,
        ``WAVE_011`` when ``target`` already holds files, ``CLI_002`` when it cannot be
        written. Nothing is written then.
    """
    from pipeline.ingest.config import read_toml
    from pipeline.ingest.readers import find_root
    from pipeline.model.schemas import WaveFile

    target, source = Path(target), Path(source)
    if not source.is_dir():
        raise PulsecheckError("CLI_001", path=str(source))
    wave_file = source / "wave.toml"
    if not wave_file.is_file():
        raise PulsecheckError("WAVE_001", path=str(source))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        held = sorted(p.name for p in target.iterdir())[:5] if target.is_dir() else []
        raise PulsecheckError("WAVE_011", path=str(target),
                              files=", ".join(held) or "it is a file")
    model, _ = read_toml(wave_file, WaveFile, root=find_root(source))
    new = target.name
    # The same instrument, named from the new folder; a folder for the new wave's version
    # beside it (survey_instrument/<survey>/<new>) is chosen when it exists.
    instrument = (source / model.instrument).resolve()
    if instrument.name == model.wave and (instrument.parent / new).is_dir():
        instrument = instrument.parent / new
    target_parent = target.parent.resolve() if target.parent.exists() else \
        Path(os.path.abspath(target.parent))
    relative = Path(os.path.relpath(instrument, target_parent / new)).as_posix()
    copied = description_files(source)
    texts = {}
    for path in copied:
        text = path.read_text(encoding="utf-8")
        texts[path.name] = rewrite_wave_text(text, model.wave, new, relative,
                                                    model.synthetic) \
            if path.name == "wave.toml" else text.replace(model.wave, new)
    settings = tomllib.loads(texts["wave.toml"])
    try:
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in texts.items():
            (target / name).write_text(text, encoding="utf-8")
            written.append(target / name)
    except OSError as error:
        raise PulsecheckError("CLI_002", path=str(target),
                              reason=error.strerror or str(error)) from error
    names = {p.name for p in copied}
    left = sorted(p.name + ("/" if p.is_dir() else "") for p in source.iterdir()
                  if p.name not in names)
    return written, left, settings


def next_steps(target: Path, settings: dict) -> list[str]:
    """What to do after ``new-wave``, in order (shown as a numbered list)."""
    files = ", ".join(settings.get("files", []))
    return [
        f"Put the platform export(s) in {target}, named as wave.toml's files ({files}); "
        "edit `files` if they are named otherwise. Exports that must stay outside the "
        "project go in a folder named by `exports_dir` in wave.toml.",
        f"Check the instrument version: wave.toml points at {settings.get('instrument')}. "
        "If the questionnaire changed, make a new version folder, compare it with "
        "`pulsecheck instrument diff OLD NEW`, and point `instrument` at it.",
        "Check the platform, title and [[steps]] in wave.toml (they were copied as they were).",
        f"Record the exports' checksums: pulsecheck manifest {target}",
        f"Check the exports: pulsecheck validate {target}",
        f"Fix answers only through {target}/corrections.csv (respondent, question, "
        "old_value, new_value, reason, who), never in the export.",
        f"Run the wave: pulsecheck run {target}",
    ]


@click.command("new-wave")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--from", "source", required=True,
              help="The wave to start from: a wave folder, or the name of a wave beside "
                   "DIRECTORY (e.g. 2018).")
def new_wave(directory: Path, source: str) -> None:
    """Start a new wave in DIRECTORY from the description of an earlier wave.

    Copies wave.toml (and notes, *.md) with the wave's name, title and export file names
    changed to DIRECTORY's name; the exports, SHA256SUMS and corrections.csv are never
    copied. DIRECTORY must be absent or empty. Asks nothing; prints what to edit next.

    \b
    Examples:
      pulsecheck new-wave raw/pulse_check/2022 --from 2020
      pulsecheck new-wave raw/pulse_check/2022 --from raw/pulse_check/2020
    """
    origin = source_folder(directory, source)
    written, left, settings = create_wave(directory, origin)
    click.echo(f"Created wave {settings.get('survey')} {settings.get('wave')} in {directory} "
               f"from {origin} ({', '.join(p.name for p in written)}).")
    if left:
        click.echo(f"Not copied (the earlier wave's data): {', '.join(left)}.")
    click.echo("Next:")
    for number, step in enumerate(next_steps(directory, settings), start=1):
        click.echo(f"  {number}. {step}")
