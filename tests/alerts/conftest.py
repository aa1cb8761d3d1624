"""Fixtures for alert tests (defined in support.py, shared with tests/channels)."""

from tests.alerts.support import log, make_cfg

__all__ = ["log", "make_cfg"]
