"""A configured job glob split into its literal folder and its file-name pattern (SPEC §2).

Pure and below `daemon.config`, which refuses a glob whose folder part is not literal; the jobs
source (`daemon.sources.jobs_parse` re-exports both names) watches the folders it names.
"""

from __future__ import annotations

from typing import NamedTuple


class Pattern(NamedTuple):
    """One configured glob split into a literal folder and a file-name pattern."""

    kind: str
    folder: str  # relative to the root, '/'-separated, '' for the root itself
    glob: str
    suffix: str  # the literal tail after the last wildcard, stripped to get a job id


def split_pattern(kind: str, pattern: str) -> Pattern:
    """`data/webrelay_out/*.job.json` -> folder `data/webrelay_out`, glob, suffix `.job.json`."""
    text = pattern.replace("\\", "/").strip("/")
    folder, _, glob = text.rpartition("/")
    if not glob or any(c in folder for c in "*?["):
        raise ValueError(f"jobs.{kind} = {pattern!r}: the folder part must be a literal path")
    last = max(glob.rfind(c) for c in "*?]")
    return Pattern(kind, folder, glob, glob[last + 1:] if last >= 0 else "")
