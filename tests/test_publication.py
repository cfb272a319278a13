"""Publication without a gap, and failures of the file system as catalogue messages.

A process killed (SIGKILL: no clean-up runs) at every step of publishing a run folder must
leave a complete run folder — the earlier one or the new one — at its place, and the next
publication must remove what the killed one left beside it. A full disk while writing must
stop with a catalogue message, leave an earlier run untouched and leave no folder behind.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import PROJECT, make_project, row

# The child publishes a run folder and kills itself (SIGKILL) just before the k-th
# file-system step of the switch (renames, exchanges, removals), or inside the writing when k
# is 0. It knows nothing of how publication is built beyond those primitives.
_CHILD = r"""
import os, shutil, signal, sys
from pathlib import Path
try:
    from pipeline.run import publication
    publish = publication.publish
except ImportError:  # publication inside the run module
    from pipeline.run.analyse import publish
    publication = None

out, marker, k, mode = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
state = {"on": False, "n": 0}

def counted(function):
    def wrapped(*args, **kwargs):
        if state["on"]:
            state["n"] += 1
            if state["n"] == k:
                os.kill(os.getpid(), signal.SIGKILL)
        return function(*args, **kwargs)
    return wrapped

os.replace = counted(os.replace)
os.rename = counted(os.rename)
shutil.rmtree = counted(shutil.rmtree)
shutil.move = counted(shutil.move)
if publication is not None:
    if mode == "fallback":
        publication._exchange = lambda first, second: False
    else:
        publication._exchange = counted(publication._exchange)

def write(folder):
    (folder / "run.json").write_text(marker)
    (folder / "table.csv").write_text(marker * 1000)
    if k == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    state["on"] = True

publish(out, write)
"""


def _publish(out: Path, marker: str) -> None:
    from pipeline.run.analyse import publish

    def write(folder: Path) -> None:
        (folder / "run.json").write_text(marker)
        (folder / "table.csv").write_text(marker * 1000)

    publish(out, write)


def _beside(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name)


def _kill_at_every_step(tmp_path: Path, mode: str, repair) -> list[int]:
    out = tmp_path / "runs" / "tiny-2016"
    _publish(out, "earlier")
    killed = []
    for k in range(12):
        done = subprocess.run([sys.executable, "-c", _CHILD, str(out), f"new-{k}", str(k), mode],
                              cwd=PROJECT, capture_output=True, text=True, timeout=60,
                              check=False)
        if done.returncode == 0:
            assert (out / "run.json").read_text() == f"new-{k}"
            assert _beside(out) == []
            return killed
        assert done.returncode == -signal.SIGKILL, done.stderr
        killed.append(k)
        repair(out, k)
        # The next publication removes whatever the killed one left beside the run folder.
        _publish(out, "earlier")
        assert (out / "run.json").read_text() == "earlier"
        assert _beside(out) == [], (k, _beside(out))
    raise AssertionError("the publication never completed")


def test_publish__killed_at_every_step__always_leaves_a_complete_run_folder(tmp_path):
    def no_gap(out: Path, k: int) -> None:
        assert (out / "run.json").exists(), f"no run folder after a kill at step {k}"
        assert (out / "run.json").read_text() in ("earlier", f"new-{k}")
        text = (out / "run.json").read_text()
        assert (out / "table.csv").read_text() == text * 1000

    killed = _kill_at_every_step(tmp_path, "exchange", no_gap)
    assert len(killed) >= 3  # inside the writing, at the switch, while removing the old run


def test_publish__without_atomic_exchange__the_next_publication_repairs_a_kill(tmp_path):
    from pipeline.run.publication import clean_stale

    def repaired(out: Path, k: int) -> None:
        clean_stale(out)
        assert (out / "run.json").read_text() in ("earlier", f"new-{k}")
        assert _beside(out) == []

    killed = _kill_at_every_step(tmp_path, "fallback", repaired)
    assert len(killed) >= 3


def test_publish__staging_of_a_live_process__is_left_alone(tmp_path):
    from pipeline.run.publication import clean_stale

    out = tmp_path / "tiny-2016"
    _publish(out, "earlier")
    live = tmp_path / f".tiny-2016.tmp-{os.getppid()}-abcd"
    dead_pid = 2 ** 22 + 12345  # above the kernel's pid_max: never a live process
    dead = tmp_path / f".tiny-2016.tmp-{dead_pid}-abcd"
    live.mkdir()
    dead.mkdir()
    (dead / "half.csv").write_text("x")
    assert clean_stale(out) == [dead]
    assert live.exists() and not dead.exists()


# --------------------------------------------------------------------------------------------
# A full disk while writing
# --------------------------------------------------------------------------------------------

def _full_disk(monkeypatch, inside: Path) -> None:
    """Every CSV written under ``inside`` fails as on a full disk."""
    original = pd.DataFrame.to_csv

    def to_csv(self, path=None, *args, **kwargs):
        if path is not None and str(Path(str(path)).resolve()).startswith(str(inside.resolve())):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return original(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)


def _tiny(tmp_path: Path) -> Path:
    return make_project(tmp_path, [row(response_id=f"R{n}", pid=f"P{n}", stage=str(1 + n % 3))
                                   for n in range(1, 6)])


def test_run__disk_full_while_writing__is_a_catalogue_message_and_leaves_no_folder(
        tmp_path, monkeypatch):
    from pipeline.cli.main import cli

    wave = _tiny(tmp_path)
    out = tmp_path / "reports" / "deep" / "tiny-2016"
    _full_disk(monkeypatch, tmp_path / "reports")
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(out)])
    assert not isinstance(result.exception, OSError), result.exception
    assert result.exit_code == 2, result.output
    assert "(RUN_002)" in result.output and "No space left on device" in result.output
    assert not (tmp_path / "reports").exists()


def test_run__disk_full_over_an_earlier_run__leaves_the_earlier_run_as_it_was(
        tmp_path, monkeypatch):
    from pipeline.cli.main import cli

    wave = _tiny(tmp_path)
    out = tmp_path / "reports" / "tiny-2016"
    assert CliRunner().invoke(cli, ["run", str(wave), "--out", str(out)]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    _full_disk(monkeypatch, tmp_path / "reports")
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(out)])
    assert result.exit_code == 2 and "(RUN_002)" in result.output, result.output
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert _beside(out) == []


@pytest.mark.parametrize("damage", ["file", "file-parent"])
def test_run__out_that_is_a_file__is_refused_before_the_export_is_read(tmp_path, monkeypatch,
                                                                        damage):
    from pipeline.cli.main import cli

    wave = _tiny(tmp_path)
    (tmp_path / "occupied").write_text("keep me\n")
    out = tmp_path / "occupied" if damage == "file" else tmp_path / "occupied" / "run"

    def never(*args, **kwargs):
        raise AssertionError("the export was read before --out was checked")

    monkeypatch.setattr("pipeline.ingest.wave_folder.read_export", never)
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(out)])
    assert result.exit_code == 2 and "(CLI_002)" in result.output, result.output
    assert (tmp_path / "occupied").read_text() == "keep me\n"
