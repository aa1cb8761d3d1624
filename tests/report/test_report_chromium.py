"""final.html opened in headless Chromium: charts drawn, no console error, not blank."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import require_binary

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--window-size=1200,1600"]


def chromium(tmp_path: Path, page: Path, *action: str) -> subprocess.CompletedProcess:
    binary = require_binary("chromium")
    args = [binary, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *action, page.as_uri()]
    return subprocess.run(args, capture_output=True, text=True, timeout=90, cwd=tmp_path)


def console_errors(stderr: str) -> list[str]:
    """Console messages of the page that report an error."""
    lines = [ln for ln in stderr.splitlines() if ":CONSOLE" in ln]
    return [ln for ln in lines if re.search(r"Uncaught|Error|Refused", ln)]


def test_the_error_detector_sees_a_broken_page(tmp_path):
    """Control: a page that throws is caught by console_errors()."""
    page = tmp_path / "bad.html"
    page.write_text("<html><body><script>throw new Error('boom')</script></body></html>")
    run = chromium(tmp_path, page, f"--screenshot={tmp_path / 'bad.png'}")
    assert any("boom" in line for line in console_errors(run.stderr))


@pytest.mark.slow
def test_charts_render_without_console_errors(finished, tmp_path):
    """All five charts are drawn and the page logs no error."""
    run = chromium(tmp_path, finished / "final.html", "--dump-dom")
    assert console_errors(run.stderr) == []
    assert 'data-charts-rendered="5"' in run.stdout
    assert run.stdout.count("<canvas") == 5


@pytest.mark.slow
def test_screenshot_is_not_blank(finished, tmp_path):
    """The screenshot has many colours (text, badge, chart lines), not a blank page."""
    shot = tmp_path / "shot.png"
    run = chromium(tmp_path, finished / "final.html", f"--screenshot={shot}")
    assert console_errors(run.stderr) == []
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50
