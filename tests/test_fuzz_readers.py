"""Fuzzing the readers and the validator with random damage to real exports (Hypothesis).

Bytes of the committed sample export (its header and first rows) and of every platform
fixture (tests/fixtures/exports.py) are damaged — bytes flipped, the file truncated, quotes,
delimiters, NULs and line breaks inserted, lines deleted or repeated, the text re-encoded —
and read, validated and sent through the flow. Either a catalogued PulsecheckError is raised,
or every data row the reader found ends analysed, excluded or quarantined, exactly once.
Examples are capped (and derandomised) so the suite stays fast in CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLE_WAVE
from fixtures.exports import WRITERS
from pipeline.errors import CATALOGUE, PulsecheckError
from pipeline.ingest.readers import read_export, read_platform
from pipeline.ingest.wave_folder import load_wave
from pipeline.model.wave import Step
from pipeline.run.analyse import validation_config
from pipeline.stages.flow import apply_steps
from pipeline.stages.validate import ValidationConfig, validate_responses

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])
GENERIC_STEPS = (
    Step(id="quarantine", rule="quarantine", reason="error-severity problem",
         params={"max_invalid": 5}),
)

# One damage: (kind, position as a share of the file, payload).
damage = st.tuples(
    st.sampled_from(["flip", "truncate", "insert", "delete_line", "repeat_line"]),
    st.floats(min_value=0, max_value=1, allow_nan=False),
    st.sampled_from([b'"', b",", b";", b"\t", b"\x00", b"\n", b"\r", b'""', b"\xff\xfe",
                     b"\xe9", "é".encode(), b"=1+1", b"-"]),
)


def apply_damage(data: bytes, damages: list[tuple[str, float, bytes]]) -> bytes:
    for kind, share, payload in damages:
        at = int(share * len(data))
        if kind == "flip" and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1:]
        elif kind == "truncate":
            data = data[:at]
        elif kind == "insert":
            data = data[:at] + payload + data[at:]
        else:
            lines = data.split(b"\n")
            if len(lines) > 1:
                line = min(int(share * len(lines)), len(lines) - 1)
                lines = lines[:line] + ([lines[line]] * 2 if kind == "repeat_line" else []) + \
                    lines[line + 1:]
                data = b"\n".join(lines)
    return data


def check_accounting(path: Path, instrument, platform=None, steps=GENERIC_STEPS,
                     config: ValidationConfig | None = None):
    try:
        exported = read_export(path, instrument, platform)
    except PulsecheckError as error:
        assert error.code in CATALOGUE and error.message.endswith(f"({error.code})")
        return
    # As the run configures validation: for the profile the export was read with.
    config = config or validation_config(read_platform(exported.platform))
    validation = validate_responses(exported.frame, instrument, config)
    flow = apply_steps(validation.frame, validation.issues, steps, instrument)
    dispositions = flow.dispositions
    assert len(dispositions) == len(exported.frame) == exported.n_rows
    assert dispositions["disposition"].isin(["analysed", "excluded", "quarantined"]).all()
    assert not dispositions.duplicated(["file", "row"]).any()


@pytest.fixture(scope="module")
def sample_head(tmp_path_factory):
    """The sample export's 3 header rows and first 30 responses, its instrument and wave."""
    loaded = load_wave(SAMPLE_WAVE)
    lines = (SAMPLE_WAVE / "pulse_check_2016_qualtrics.csv").read_bytes().split(b"\n")
    return b"\n".join(lines[:33]) + b"\n", loaded.instrument, loaded.platform, loaded.wave


@FUZZ
@given(damages=st.lists(damage, min_size=1, max_size=4))
def test_fuzz__damaged_sample_export__is_refused_or_every_row_is_accounted_for(
        damages, sample_head, tmp_path):
    data, instrument, platform, wave = sample_head
    path = tmp_path / "pulse_check_2016_qualtrics.csv"
    path.write_bytes(apply_damage(data, damages))
    check_accounting(path, instrument, platform, wave.steps,
                     validation_config(platform, wave.steps))


@pytest.fixture(scope="module")
def fixture_exports(tmp_path_factory, mini):
    folder = tmp_path_factory.mktemp("fuzz_fixtures")
    exports = {name: writer(folder) for name, writer in WRITERS.items()}
    return mini, {name: path.read_bytes() for name, path in exports.items()}, \
        {name: path.suffix for name, path in exports.items()}


@FUZZ
@given(name=st.sampled_from(sorted(WRITERS)), damages=st.lists(damage, min_size=1, max_size=3))
def test_fuzz__damaged_platform_export__is_refused_or_every_row_is_accounted_for(
        name, damages, fixture_exports, tmp_path):
    instrument, data, suffixes = fixture_exports
    path = tmp_path / f"{name}{suffixes[name]}"
    path.write_bytes(apply_damage(data[name], damages))
    check_accounting(path, instrument)
