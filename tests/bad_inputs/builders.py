"""Builders of damaged inputs: each makes a small project in a temporary folder and damages it.

Every builder takes an empty folder and returns the command-line arguments (after
``pulsecheck``) that exercise the damage. Damaged files are generated here at test time from
the tiny fixture project (``tests/conftest.py``) and the committed sample, so no broken binary
is committed.
"""

from __future__ import annotations

import codecs
import csv
import io
import shutil
import zipfile
from pathlib import Path
from typing import Callable

from conftest import (
    EXPORT_HEADER,
    INSTRUMENT_2016,
    PROJECT,
    SAMPLE_WAVE,
    TINY_CHOICES,
    TINY_SURVEY,
    TINY_WAVE,
    make_project,
    row,
)
from pipeline.ingest.readers import write_checksums

Builder = Callable[[Path], list[str]]


def tiny_rows() -> list[dict]:
    """Five valid, analysable responses of the tiny instrument."""
    return [row(response_id=f"R{n}", pid=f"P{n}", stage=str(1 + n % 3)) for n in range(1, 6)]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8", newline: str = "\n") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    return buffer.getvalue().encode(encoding)


def records(rows: list[dict] | None = None, header: list[str] | None = None) -> list[list[str]]:
    header = header or list(EXPORT_HEADER)
    return [header] + [[r.get(c, "") for c in header] for r in (rows or tiny_rows())]


def run_args(root: Path, wave: Path) -> list[str]:
    return ["run", str(wave), "--out", str(root / "out")]


def project(root: Path, rows: list[dict] | None = None, wave_text: str = TINY_WAVE) -> Path:
    return make_project(root, rows or tiny_rows(), wave_text)


def with_export(data: bytes, name: str = "export.csv", rows: list[dict] | None = None,
                wave_text: str = TINY_WAVE) -> Builder:
    """A tiny wave whose raw file is ``data`` (checksums recorded, so reading is reached)."""
    def build(root: Path) -> list[str]:
        text = wave_text.replace('files = ["export.csv"]', f'files = ["{name}"]')
        wave = project(root, rows, text)
        if name != "export.csv":
            (wave / "export.csv").unlink()
        (wave / name).write_bytes(data)
        write_checksums(wave, [name])
        return run_args(root, wave)
    return build


def with_rows(rows: list[dict], wave_text: str = TINY_WAVE) -> Builder:
    """A tiny wave with these responses, written cleanly."""
    def build(root: Path) -> list[str]:
        return run_args(root, project(root, rows, wave_text))
    return build


def with_instrument(survey: str = TINY_SURVEY, choices: str = TINY_CHOICES,
                    command: str = "check") -> Builder:
    """A tiny project whose instrument tables are replaced; ``check`` or ``run`` it."""
    def build(root: Path) -> list[str]:
        wave = project(root)
        (root / "instrument" / "survey.csv").write_text(survey, encoding="utf-8")
        (root / "instrument" / "choices.csv").write_text(choices, encoding="utf-8")
        if command == "check":
            return ["instrument", "check", str(root / "instrument")]
        return run_args(root, wave)
    return build


def with_instrument_and_rows(survey: str, choices: str, rows: list[dict]) -> Builder:
    """A tiny project with its instrument tables replaced and these responses; ``run`` it."""
    def build(root: Path) -> list[str]:
        wave = project(root, rows)
        (root / "instrument" / "survey.csv").write_text(survey, encoding="utf-8")
        (root / "instrument" / "choices.csv").write_text(choices, encoding="utf-8")
        return run_args(root, wave)
    return build


def with_wave(wave_text: str, extra: Callable[[Path], None] = lambda wave: None) -> Builder:
    """A tiny project whose wave description is ``wave_text``."""
    def build(root: Path) -> list[str]:
        wave = project(root)
        (wave / "wave.toml").write_text(wave_text, encoding="utf-8")
        extra(wave)
        return run_args(root, wave)
    return build


def clean_export() -> bytes:
    return csv_bytes(records())


# --- damage to bytes ---------------------------------------------------------------------------

def truncated_mid_row() -> bytes:
    data = clean_export()
    return data[: data.rindex(b"\n", 0, len(data) - 1) + 40]


def unterminated_quote() -> bytes:
    rows = records()
    rows[3][10] = "1 2"
    text = csv_bytes(rows).decode()
    lines = text.splitlines(keepends=True)
    lines[3] = lines[3].replace("1 2", '"1 2', 1)
    return "".join(lines).encode()


def png_bytes() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def zip_named_csv() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    return buffer.getvalue()


def mixed_encodings() -> bytes:
    rows = tiny_rows()
    rows[0]["barriers_other"] = ""
    data = csv_bytes(records(rows))
    lines = data.split(b"\n")
    # Two rows typed on different machines: one saved as UTF-8, one as Windows-1252.
    lines[1] = lines[1].replace(b"email", "Zoë café".encode("utf-8"))
    lines[2] = lines[2].replace(b"email", "Zoë café".encode("cp1252"))
    return b"\n".join(lines)


def nul_bytes() -> bytes:
    data = bytearray(clean_export())
    position = data.index(b"\n", data.index(b"\n") + 1) + 5
    data[position:position] = b"\x00\x00"
    return bytes(data)


def duplicate_header() -> bytes:
    rows = records()
    rows[0][8] = "screen"
    return csv_bytes(rows)


def column_without_id() -> bytes:
    rows = [r[1:] for r in records()]
    return csv_bytes(rows)


def header_only() -> bytes:
    return csv_bytes(records()[:1])


def too_many_fields() -> bytes:
    rows = records()
    rows[2] = rows[2] + ["surplus", "fields"]
    return csv_bytes(rows)


def too_few_fields() -> bytes:
    rows = records()
    rows[2] = rows[2][:6]
    return csv_bytes(rows)


def many_columns(n: int) -> bytes:
    rows = records()
    rows[0] = rows[0] + [f"extra_{i}" for i in range(n)]
    rows[1:] = [r + [""] * n for r in rows[1:]]
    return csv_bytes(rows)


def long_cell(n: int) -> bytes:
    rows = tiny_rows()
    rows[1]["barriers_other"] = "x" * n
    rows[1]["barriers"] = "1 3"
    return csv_bytes(records(rows))


def utf16_with_bom() -> bytes:
    return codecs.BOM_UTF16_LE + clean_export().decode().encode("utf-16-le")


def accented(encoding: str, bom: bytes = b"") -> bytes:
    rows = tiny_rows()
    rows[0]["barriers"] = "1 3"
    rows[0]["barriers_other"] = "Coordination à São Paulo – “données”"
    return bom + csv_bytes(records(rows), encoding)


def xlsx_truncated(root: Path) -> bytes:
    from fixtures.exports import _xlsx
    path = _xlsx(root / "whole.xlsx", records())
    data = path.read_bytes()
    path.unlink()
    return data[: len(data) // 2]


def with_xlsx_truncated() -> Builder:
    def build(root: Path) -> list[str]:
        scratch = root / "scratch"
        scratch.mkdir()
        return with_export(xlsx_truncated(scratch), name="export.xlsx")(root)
    return build


# --- the committed sample ----------------------------------------------------------------------

def sample_copy(root: Path) -> Path:
    """The 2016 sample wave and instrument copied into a project of its own."""
    shutil.copytree(PROJECT / "survey_instrument" / "platforms",
                    root / "survey_instrument" / "platforms")
    shutil.copytree(INSTRUMENT_2016, root / "survey_instrument" / "pulse_check" / "2016")
    shutil.copytree(SAMPLE_WAVE, root / "raw" / "pulse_check" / "2016")
    return root / "raw" / "pulse_check" / "2016"


def sample_ingest(damage: Callable[[bytes], bytes], *extra: str) -> Builder:
    """``pulsecheck ingest`` of a damaged copy of the sample's Qualtrics export."""
    def build(root: Path) -> list[str]:
        source = SAMPLE_WAVE / "pulse_check_2016_qualtrics.csv"
        target = root / source.name
        target.write_bytes(damage(source.read_bytes()))
        return ["ingest", str(target), "--instrument", str(INSTRUMENT_2016),
                "--out", str(root / "ingested"), *extra]
    return build


# --- failures of the file system and of raw manifests ------------------------------------------

def with_sums(data: bytes) -> Builder:
    """A tiny wave whose ``SHA256SUMS`` holds ``data``."""
    def build(root: Path) -> list[str]:
        wave = project(root)
        (wave / "SHA256SUMS").write_bytes(data)
        return run_args(root, wave)
    return build


# --- paths from data and configuration, raw data ------------------------------------------------

def with_wave_default_out(wave_text: str) -> Builder:
    """A tiny wave described by ``wave_text``, run without --out (the run folder's place
    then comes from the wave description)."""
    def build(root: Path) -> list[str]:
        return ["run", str(project(root, wave_text=wave_text))]
    return build


def with_outside_file(relative: str, source: Path, change: Callable[[Path], None]) -> Builder:
    """A tiny wave with a copy of ``source`` planted at ``root/relative`` (outside the folder
    it should be read from), and ``change`` pointing the project at it."""
    def build(root: Path) -> list[str]:
        wave = project(root)
        planted = root / relative
        planted.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, planted)
        change(root)
        return run_args(root, wave)
    return build


def with_folder_as_file() -> Builder:
    """A tiny wave whose ``files`` names a folder (which holds the export)."""
    def build(root: Path) -> list[str]:
        wave = project(root)
        (wave / "batch").mkdir()
        shutil.copy(wave / "export.csv", wave / "batch" / "export.csv")
        text = (wave / "wave.toml").read_text(encoding="utf-8")
        (wave / "wave.toml").write_text(text.replace('files = ["export.csv"]',
                                                     'files = ["batch"]'), encoding="utf-8")
        return run_args(root, wave)
    return build


def with_out_a_file() -> Builder:
    """``--out`` names an existing file, not a folder."""
    def build(root: Path) -> list[str]:
        wave = project(root)
        (root / "occupied.txt").write_text("keep me\n", encoding="utf-8")
        return ["run", str(wave), "--out", str(root / "occupied.txt")]
    return build


def with_export_twice() -> Builder:
    """A tiny wave listing the same export twice (every response a duplicate)."""
    def build(root: Path) -> list[str]:
        wave = project(root)
        shutil.copy(wave / "export.csv", wave / "copy.csv")
        write_checksums(wave, ["copy.csv", "export.csv"])
        text = (wave / "wave.toml").read_text(encoding="utf-8")
        (wave / "wave.toml").write_text(text.replace('files = ["export.csv"]',
                                                     'files = ["export.csv", "copy.csv"]'),
                                        encoding="utf-8")
        return run_args(root, wave)
    return build


def blank_records() -> bytes:
    """The clean export with an empty line and a line of delimiters among the responses."""
    lines = clean_export().split(b"\n")
    width = len(records()[0])
    lines[2:2] = [b"", b"," * (width - 1)]
    return b"\n".join(lines)


# --- spreadsheets that are small on disk and huge in memory ------------------------------------

def _xlsx_with_sheet(root: Path, edit: Callable[[str], str]) -> bytes:
    """The clean export as XLSX, with its sheet's XML changed by ``edit``."""
    from fixtures.exports import _xlsx
    path = _xlsx(root / "whole.xlsx", records())
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode("utf-8")).encode()
            target.writestr(info.filename, data)
    path.unlink()
    return buffer.getvalue()


def far_cell(ref: str, declared: bool = True) -> Callable[[str], str]:
    """A sheet edit adding one cell at ``ref`` (and, if ``declared``, a dimension up to it)."""
    import re

    def edit(xml: str) -> str:
        row = int(re.sub(r"[A-Z]", "", ref))
        xml = xml.replace("</sheetData>",
                          f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c>'
                          f"</row></sheetData>")
        if declared:
            xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{ref}"/>', xml)
        return xml
    return edit


def padded_sheet(n_bytes: int) -> Callable[[str], str]:
    """A sheet edit adding ``n_bytes`` of XML whitespace (compresses about 1000 to 1)."""
    def edit(xml: str) -> str:
        return xml.replace("</sheetData>", "</sheetData>" + " " * n_bytes)
    return edit


def with_xlsx(edit: Callable[[str], str], wave_text: str = TINY_WAVE) -> Builder:
    def build(root: Path) -> list[str]:
        scratch = root / "scratch"
        scratch.mkdir()
        data = _xlsx_with_sheet(scratch, edit)
        shutil.rmtree(scratch)
        return with_export(data, name="export.xlsx", wave_text=wave_text)(root)
    return build


# --- damaged run folders given to `report` and `verify` ----------------------------------------

def damaged_run(command: str, files: dict[str, bytes]) -> Builder:
    """A run folder holding only ``files`` (name → bytes), given to ``command``."""
    def build(root: Path) -> list[str]:
        folder = root / "runs" / "tiny-2016"
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        return [command, str(folder)]
    return build


def validate_into_a_file() -> Builder:
    """``pulsecheck validate --out`` naming an existing file."""
    def build(root: Path) -> list[str]:
        wave = project(root)
        (root / "occupied.txt").write_text("keep me\n", encoding="utf-8")
        return ["validate", str(wave / "export.csv"), "--instrument", str(root / "instrument"),
                "--platform", "csv", "--out", str(root / "occupied.txt")]
    return build


def sample_over_recorded_export() -> Builder:
    """``pulsecheck sample`` pointed at a wave whose recorded export it would replace."""
    def build(root: Path) -> list[str]:
        wave = sample_copy(root)
        export = wave / "pulse_check_2016_qualtrics.csv"
        export.write_bytes(export.read_bytes().replace(b'"P6245"', b'"P6246"', 1))
        write_checksums(wave, [export.name])
        return ["sample", str(root / "survey_instrument" / "pulse_check" / "2016"),
                "--out", str(wave)]
    return build


def tiny_command_out(command: str, out: Callable[[Path], Path]) -> Builder:
    """``ingest`` or ``validate`` of the tiny export with ``--out`` at ``out(wave folder)``."""
    def build(root: Path) -> list[str]:
        wave = project(root)
        args = [command, str(wave / "export.csv"), "--instrument", str(root / "instrument"),
                "--out", str(out(wave))]
        return args + (["--source", "csv"] if command == "ingest" else ["--platform", "csv"])
    return build


def ingest_over_its_input() -> Builder:
    """``pulsecheck ingest D/responses.csv --out D``: the output would replace the input."""
    def build(root: Path) -> list[str]:
        wave = project(root)
        work = root / "work"
        work.mkdir()
        shutil.copy(wave / "export.csv", work / "responses.csv")
        return ["ingest", str(work / "responses.csv"), "--instrument", str(root / "instrument"),
                "--source", "csv", "--out", str(work)]
    return build
