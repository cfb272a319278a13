"""Screenshot a run's HTML reports with headless Chromium, for a person to review.

Optional (not part of ``make test``): needs a ``chromium`` (or ``chromium-browser``/
``google-chrome``) on the PATH. Writes one PNG per page into ``--out``.

    .venv/bin/python reports/checks/screenshot_reports.py reports/out/pulse_check-2016 \
        --out reports/out/screenshots
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PAGES = ("funder_summary.html", "analyst.html", "overview.html")


def browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def screenshot(page: Path, png: Path, width: int, height: int) -> None:
    command = browser()
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([command, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--no-first-run", "--hide-scrollbars",
                        f"--user-data-dir={profile}", f"--window-size={width},{height}",
                        f"--screenshot={png}", page.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=1800)
    args = parser.parse_args()
    if browser() is None:
        print("no chromium on the PATH; install it to take screenshots", file=sys.stderr)
        return 2
    out = args.out or args.run_dir / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    # A run folder keeps what may leave the team in published/ and the rest in internal/.
    folders = [args.run_dir / "published", args.run_dir / "internal", args.run_dir]
    pages = [next(f / name for f in folders if (f / name).exists()) for name in PAGES
             if any((f / name).exists() for f in folders)]
    pages += sorted(p for f in folders for p in (f / "partners").glob("*.html"))[:3]
    for page in pages:
        png = out / f"{page.stem}.png"
        screenshot(page, png, args.width, args.height)
        print(f"{png}  ({png.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
