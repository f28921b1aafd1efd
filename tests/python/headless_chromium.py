"""Headless Chromium (Debian's `chromium` package) driven from its command line, without a CDP client.

`--dump-dom` prints the DOM once the page's scripts have run (the report writes what it drew into
`#report-status`); `--screenshot` saves a PNG. `.ci/run` installs the package when it is missing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

# Virtual time lets timers and animation frames run without waiting in real time.
VIRTUAL_TIME_BUDGET_MS = 5000


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError(
        "headless Chromium is not installed: apt-get install -y chromium (.ci/run does this)"
    )


def _run(page: Path, profile: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",  # tests run as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
        *flags,
        page.resolve().as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    if result.returncode != 0:
        raise AssertionError(f"chromium failed ({result.returncode}): {result.stderr[-3000:]}")
    return result


def dump_dom(page: Path, profile: Path) -> str:
    return _run(page, profile, "--dump-dom").stdout


def screenshot(page: Path, profile: Path, out: Path, width: int = 1400, height: int = 4000) -> Path:
    _run(page, profile, f"--screenshot={out}", f"--window-size={width},{height}")
    return out


def report_status(dom: str) -> dict[str, Any]:
    """The JSON the report wrote into #report-status after drawing."""
    match = re.search(r'<pre id="report-status"[^>]*>(.*?)</pre>', dom, re.DOTALL)
    if not match or not match.group(1).strip():
        raise AssertionError("the page wrote no #report-status: its script did not finish")
    text = (
        match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )
    return json.loads(text)


def problems(status: dict[str, Any], charts: list[str]) -> list[str]:
    """Everything a reader would see as broken: errors, charts without marks, a page that did not finish."""
    found = [f"console error: {error}" for error in status.get("errors", [])]
    if not status.get("rendered"):
        found.append("the page did not finish rendering")
    marks = status.get("marks", {})
    found += [f"{chart} drew no marks" for chart in charts if marks.get(chart, 0) <= 0]
    return found
