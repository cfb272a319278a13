"""Writing a synthetic sample: the export as the platform writes it, and its checksum."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pipeline.ingest.readers import read_checksums, write_checksums
from pipeline.synthetic.generate import SampleExport


def render_csv(sample: SampleExport, encoding: str = "utf-8-sig") -> bytes:
    """The export as bytes: every field quoted, CRLF line ends, with a byte-order mark."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerows(sample.headers)
    writer.writerows(sample.records)
    return buffer.getvalue().encode(encoding)


def write_sample(sample: SampleExport, folder: Path, file_name: str,
                 encoding: str = "utf-8-sig") -> Path:
    """Write the export into ``folder`` and record its sha256 in the folder's SHA256SUMS.

    Entries of other files already in SHA256SUMS are kept (when the files still exist).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file_name
    target.write_bytes(render_csv(sample, encoding))
    names = {name for name in read_checksums(folder) if (folder / name).exists()}
    write_checksums(folder, sorted(names | {file_name}))
    return target
