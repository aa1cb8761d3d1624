"""The shipped Prometheus rules: valid, and their unit tests pass in the real promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import require_binary

RULES = Path(__file__).resolve().parents[2] / "config" / "prometheus"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_binary("promtool"), *args], capture_output=True, text=True,
                          timeout=60, cwd=RULES)


def test_shipped_rules_are_valid() -> None:
    """promtool check rules accepts config/prometheus/burnin.rules.yml."""
    result = _promtool("check", "rules", "burnin.rules.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 rules found" in result.stdout


def test_shipped_rules_pass_their_unit_tests() -> None:
    """Fleet verdict (worst host wins), stale burnin and lagging host behave as documented."""
    result = _promtool("test", "rules", "burnin.rules.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    """The unit tests can fail: expecting the fleet GREEN while host b is RED is refused."""
    text = (RULES / "burnin.rules.test.yml").read_text()
    bad = text.replace("value: 2}]", "value: 0}]", 1)
    assert bad != text
    (tmp_path / "burnin.rules.yml").write_text((RULES / "burnin.rules.yml").read_text())
    (tmp_path / "t.yml").write_text(bad)
    result = subprocess.run([require_binary("promtool"), "test", "rules", "t.yml"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode != 0
