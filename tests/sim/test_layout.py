"""The reference tree is laid out exactly as SPEC §2's defaults."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

from daemon.config import Config
from daemon.sim.layout import Tree


def test_paths_match_the_config_defaults(tmp_path: Path) -> None:
    """Journal, snapshot, state and transitions sit where burnin looks by default."""
    cfg, tree = Config(), Tree(tmp_path)
    assert tree.journal == tmp_path / cfg.journal.path
    assert tree.snapshot == tmp_path / cfg.journal.snapshot
    assert tree.state == tmp_path / cfg.state.file
    assert tree.transitions == tmp_path / cfg.state.transitions


def test_job_files_match_the_default_globs(tmp_path: Path) -> None:
    """Job, claim and result names match the default patterns of [jobs]."""
    cfg, tree = Config(), Tree(tmp_path)
    assert fnmatch(str((tree.outbox / "a.job.json").relative_to(tmp_path)), cfg.jobs.pending)
    assert fnmatch(str((tree.outbox / "a.job.json.claimed").relative_to(tmp_path)),
                   cfg.jobs.claims)
    assert fnmatch(str((tree.inbox / "a.result.json").relative_to(tmp_path)), cfg.jobs.results)


def test_worker_log_is_scanned_by_default(tmp_path: Path) -> None:
    """logs/worker.log matches the default logs.paths pattern."""
    tree = Tree(tmp_path)
    assert fnmatch(str(tree.worker_log.relative_to(tmp_path)), Config().logs.paths[0])


def test_private_records_are_not_scanned(tmp_path: Path) -> None:
    """The simulator's fault log is outside every observed pattern."""
    rel = str(Tree(tmp_path).fault_log.relative_to(tmp_path))
    assert not fnmatch(rel, Config().logs.paths[0]) and not rel.startswith("data/")


def test_create_makes_every_folder(tmp_path: Path) -> None:
    """create() makes the job folders, journal, logs and private folder."""
    tree = Tree(tmp_path / "t").create()
    for path in (tree.outbox, tree.inbox, tree.failed, tree.journal, tree.transitions,
                 tree.private):
        assert path.exists()
