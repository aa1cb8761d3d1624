"""daemon/severity.py: alert tiers and finding kinds."""

from __future__ import annotations

import pytest

from daemon import model
from daemon.severity import Kind, Severity


@pytest.mark.parametrize(("text", "tier"), [
    ("critical", Severity.CRITICAL), (" High ", Severity.HIGH), ("MEDIUM", Severity.MEDIUM),
    ("info", Severity.INFO)])
def test_parse_ignores_case_and_spaces(text: str, tier: Severity) -> None:
    """A tier name parses whatever its case and surrounding spaces."""
    assert Severity.parse(text) is tier


def test_max_gives_the_worst_tier() -> None:
    """Tiers are ordered so that max() is the worst and str() its name."""
    assert str(max(Severity.MEDIUM, Severity.CRITICAL, Severity.INFO)) == "CRITICAL"


def test_model_re_exports_the_same_types() -> None:
    """`daemon.model` keeps its public names: they are the same objects."""
    assert model.Severity is Severity and model.Kind is Kind
    assert Kind("event") is Kind.EVENT
