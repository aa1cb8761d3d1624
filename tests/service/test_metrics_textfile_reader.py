"""The node_exporter textfile as node_exporter sees it: written by a real `burnin run`, read by
another user (issue 14 item 10: it was mode 0600, `node_textfile_scrape_error 1`)."""

from __future__ import annotations

import os
import pwd
import re
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.config import MetricsCfg
from daemon.service.metrics import MetricsExporter
from tests.service.sample_status import sample_status

REPO = Path(__file__).parents[2]


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder other users may enter (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="burnin-textfile-"))
    path.chmod(0o755)
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


def read_as_nobody(path: Path) -> subprocess.CompletedProcess[str]:
    nobody = pwd.getpwnam("nobody")

    def drop() -> None:
        os.setgid(nobody.pw_gid)
        os.setgroups([])
        os.setuid(nobody.pw_uid)

    return subprocess.run(["cat", str(path)], capture_output=True, text=True, timeout=30,
                          preexec_fn=drop)


def test_textfile_is_world_readable_after_a_write(tmp_path: Path) -> None:
    """Mode 0644 whatever the umask (systemd's UMask=0077 included)."""
    target = tmp_path / "burnin.prom"
    old = os.umask(0o077)
    try:
        MetricsExporter(MetricsCfg(textfile=str(target))).update(sample_status())
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to read as another user")
def test_real_daemon_textfile_is_readable_by_another_user(seed_tree: Path,
                                                          shared_dir: Path) -> None:
    """`burnin run` writes the textfile; `nobody` reads it, and build_info carries the
    configured system name."""
    prom = shared_dir / "burnin.prom"
    cfg = shared_dir / "burnin.toml"
    cfg.write_text(f"[system]\nname = 'ledger-eu1'\n[checks]\ndisabled = ['host']\n"
                   f"[metrics]\ntextfile = '{prom}'\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "daemon", "run", "--config", str(cfg), "--root", str(seed_tree),
         "--window", "1h", "--time-scale", "3600"], cwd=shared_dir, env=env,
        capture_output=True, text=True, timeout=60, preexec_fn=lambda: os.umask(0o077))
    assert done.returncode == 0, done.stderr
    seen = read_as_nobody(prom)
    assert seen.returncode == 0, seen.stderr
    info = re.search(r"^burnin_build_info\{([^}]*)\} 1", seen.stdout, re.M)
    assert info and 'system="ledger-eu1"' in info.group(1)
