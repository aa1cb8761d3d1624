"""The operator text: its Prometheus rules are valid for the real promtool."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.conftest import require_binary

DOC = Path(__file__).resolve().parents[2] / "docs" / "service.md"


def test_documented_prometheus_rules_are_valid(tmp_path: Path) -> None:
    """promtool check rules accepts the rules shown in docs/service.md."""
    block = re.search(r"```yaml\n(groups:.*?)```", DOC.read_text(), re.S)
    assert block is not None
    rules = tmp_path / "burnin.rules.yml"
    rules.write_text(block.group(1))
    result = subprocess.run([require_binary("promtool"), "check", "rules", str(rules)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
