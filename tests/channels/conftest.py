"""Fixtures for channel tests (defined in tests/alerts/support.py)."""

from tests.alerts.support import log, make_cfg

__all__ = ["log", "make_cfg"]
