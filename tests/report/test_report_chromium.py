"""final.html opened in headless Chromium: charts drawn, no console error, not blank."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import require_binary
from tests.report.conftest import run_window, xss_alert

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


def long_evidence_alert() -> dict:
    """A CRITICAL whose evidence is one long unbroken token (a path, a base64 blob)."""
    blob = "x" * 900
    return {**xss_alert(), "fingerprint": "ledger.drift|acct", "code": "ledger.drift",
            "severity": "CRITICAL", "subject": "acct-" + "9" * 200,
            "message": "state RUNNING -> STOPPED " + "y" * 300,
            "evidence": {"path": "/srv/" + "/".join(["segment"] * 80), "blob": blob}}


def page_width(tmp_path: Path, page: Path, viewport: int) -> tuple[int, int]:
    """(document scrollWidth, viewport width) of `page` in Chromium at `viewport` px."""
    probe = tmp_path / "probe.html"
    script = ("<script>document.body.setAttribute('data-width', "
              "document.documentElement.scrollWidth + 'x' + window.innerWidth)</script>")
    probe.write_text(page.read_text().replace("</body>", script + "</body>"))
    run = chromium(tmp_path, probe, f"--window-size={viewport},1000", "--dump-dom")
    match = re.search(r'data-width="(\d+)x(\d+)"', run.stdout)
    assert match, run.stderr[-2000:]
    return int(match.group(1)), int(match.group(2))


@pytest.mark.slow
def test_long_evidence_stays_inside_a_1400px_window(tmp_path):
    """A 900-character evidence token wraps or scrolls inside its cell: the page is never
    wider than the window (it was 1838 px in 1400)."""
    run_window(tmp_path, [long_evidence_alert()])
    (folder,) = (tmp_path / "reports").iterdir()
    width, viewport = page_width(tmp_path, folder / "final.html", 1400)
    assert viewport > 0 and width <= viewport
    assert "RUNNING -> STOPPED" in (folder / "final.md").read_text()
