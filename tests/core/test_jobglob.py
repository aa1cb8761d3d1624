"""daemon/jobglob.py: a job glob split into its literal folder and file-name pattern."""

from __future__ import annotations

import pytest

from daemon.jobglob import Pattern, split_pattern
from daemon.sources import jobs_parse


def test_windows_separators_and_edges_are_normalised() -> None:
    """Backslashes and leading/trailing slashes do not change the split."""
    assert split_pattern("failed", "\\data\\failed\\*.txt/") == Pattern(
        "failed", "data/failed", "*.txt", ".txt")


def test_a_wildcard_folder_is_refused_naming_the_key() -> None:
    """A wildcard in the folder part is refused with the jobs key it came from."""
    with pytest.raises(ValueError, match=r"jobs.results = .*folder part must be a literal"):
        split_pattern("results", "data/in*/x.json")


def test_the_jobs_source_uses_the_same_split() -> None:
    """`daemon.sources.jobs_parse` keeps its names: they are these."""
    assert (jobs_parse.Pattern, jobs_parse.split_pattern) == (Pattern, split_pattern)
