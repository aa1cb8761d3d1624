"""The operator's command line as a real `python -m daemon` process (issue 14: secrets for
state-only commands, a missing root, the run's start and end lines, ack/silence without state,
plugin output, usage errors)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
SECRETS = ("BURNIN_TEST_HOOK_SECRET", "BURNIN_TEST_SMTP_PASSWORD")


def burnin(cwd: Path, *args: str, timeout: float = 60,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in SECRETS}
    full = {**base, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "daemon", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=timeout)


def no_host(cwd: Path, extra: str = "") -> Path:
    """A config with the host rule off (it measures the shared test machine)."""
    cfg = cwd / "burnin.toml"
    cfg.write_text("[checks]\ndisabled = ['host']\n" + extra)
    return cfg


@pytest.fixture
def secret_config(tmp_path: Path) -> Path:
    """A config whose webhook and email name secret variables that are not set."""
    cfg = tmp_path / "secret.toml"
    cfg.write_text(
        "[alerts.email]\nhost = '127.0.0.1'\nto = ['ops@example.com']\n"
        f"password_env = '{SECRETS[1]}'\n\n"
        f"[[alerts.webhook]]\nurl = 'http://127.0.0.1:9/hook'\nsecret_env = '{SECRETS[0]}'\n")
    return cfg


# -- 1: state-only commands need no channel secret ------------------------------------------

@pytest.mark.parametrize("args", [
    ["status"], ["status", "--format", "json"], ["report"], ["silence", "--list"],
    ["ack", "x|y"], ["reload"], ["config"]])
def test_state_only_commands_do_not_need_secrets(tmp_path: Path, secret_config: Path,
                                                 args: list[str]) -> None:
    """With the secret variables unset, no state-only command exits 78 or names them."""
    done = burnin(tmp_path, *args, "--config", str(secret_config))
    assert done.returncode != 78, done.stderr
    assert "is not set" not in done.stderr or args == ["config"]


def test_config_masks_and_warns_about_an_unset_secret(tmp_path: Path,
                                                      secret_config: Path) -> None:
    """`burnin config` prints the config (exit 0) and warns that `run` needs the variable."""
    done = burnin(tmp_path, "config", "--config", str(secret_config))
    assert done.returncode == 0 and f'secret_env = "{SECRETS[0]}"' in done.stdout
    assert "warning" in done.stderr and "is not set" in done.stderr


@pytest.mark.parametrize("command", ["run", "check"])
def test_run_and_check_still_need_the_secrets(tmp_path: Path, secret_config: Path,
                                              command: str) -> None:
    """`run` refuses with 78 and `check` with UNKNOWN (3), naming the variable."""
    done = burnin(tmp_path, command, "--config", str(secret_config), "--root", str(tmp_path))
    assert done.returncode == (78 if command == "run" else 3)
    assert SECRETS[1] in done.stderr
    assert not (tmp_path / "runtime").exists() and not (tmp_path / "logs").exists()


def test_secrets_set_let_config_show_them_masked(tmp_path: Path, secret_config: Path) -> None:
    """With the variables set, config shows the mask and never the value."""
    done = burnin(tmp_path, "config", "--config", str(secret_config),
                  env={SECRETS[0]: "whsec_s3cr3tHook0", SECRETS[1]: "s3cr3t-mail"})
    assert done.returncode == 0 and done.stderr == ""
    assert "s3cr3t" not in done.stdout and "********" in done.stdout


# -- 3: run refuses a missing root ----------------------------------------------------------

def test_run_refuses_a_missing_root_before_writing(tmp_path: Path) -> None:
    """`run --root <missing>` exits 78 naming the root; no runtime/ or logs/ is made."""
    done = burnin(tmp_path, "run", "--root", str(tmp_path / "nope"))
    assert done.returncode == 78 and "nope" in done.stderr and "does not exist" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# -- 4: run's start and end lines -----------------------------------------------------------

@pytest.mark.slow
def test_run_prints_start_line_and_verdict_with_report(seed_tree: Path, tmp_path: Path) -> None:
    """The start line names window, root, scale, end and status path; the end line the
    verdict and the report path, which exists."""
    cfg = no_host(tmp_path)
    done = burnin(tmp_path, "run", "--config", str(cfg), "--root", str(seed_tree),
                  "--window", "1h", "--time-scale", "3600")
    assert done.returncode == 0, done.stderr
    start, end = done.stdout.splitlines()[:2]
    status = json.loads((tmp_path / "runtime/status.json").read_text())
    wid = status["window"]["id"]
    assert f"window {wid} (new, 1h)" in start and f"root {seed_tree}" in start
    assert "time scale 3600" in start and "ends at 20" in start
    assert str(tmp_path / "runtime/status.json") in start
    report = tmp_path / "runtime/reports" / wid / "final.html"
    assert "verdict GREEN (GO)" in end and str(report) in end and report.is_file()


# -- 5: ack / silence without state, unknown codes -------------------------------------------

@pytest.mark.parametrize("args", [
    ["ack", "process.down|worker"], ["silence", "--list"], ["silence", "--remove", "sil_x"],
    ["silence", "--code", "process.down", "--for", "1h", "--reason", "r"]])
def test_ack_and_silence_refuse_without_daemon_state(tmp_path: Path, args: list[str]) -> None:
    """Where no daemon ran: non-zero, says why, and creates no alerts.sqlite3."""
    done = burnin(tmp_path, *args)
    assert done.returncode == 1 and "no daemon state" in done.stderr
    assert not (tmp_path / "runtime").exists()


def _make_state(tmp_path: Path) -> None:
    from daemon.alerts import store

    store.connect(tmp_path / "runtime" / "alerts.sqlite3").close()


def test_silence_with_a_typo_suggests_the_nearest_code(tmp_path: Path) -> None:
    """`--code host.cpu_hgih` is refused (64) with host.cpu_high suggested; nothing stored."""
    _make_state(tmp_path)
    done = burnin(tmp_path, "silence", "--code", "host.cpu_hgih", "--for", "1h",
                  "--reason", "typo")
    assert done.returncode == 64 and "did you mean host.cpu_high" in done.stderr
    db = sqlite3.connect(tmp_path / "runtime/alerts.sqlite3")
    assert db.execute("SELECT count(*) FROM silences").fetchone()[0] == 0


def test_silence_with_a_known_code_is_stored(tmp_path: Path) -> None:
    """A valid code next to daemon state is stored and listed."""
    _make_state(tmp_path)
    done = burnin(tmp_path, "silence", "--code", "host.cpu_high", "--for", "1h",
                  "--reason", "load test")
    assert done.returncode == 0 and done.stdout.startswith("sil_")
    listed = burnin(tmp_path, "silence", "--list")
    assert "code=host.cpu_high" in listed.stdout and "load test" in listed.stdout


# -- 7: check as a monitoring plugin --------------------------------------------------------

PLUGIN_LINE = re.compile(r"^BURNIN (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+( \| \S.*)?$")


def _perf(line: str) -> dict[str, int]:
    return {k: int(v) for k, v in (item.split("=") for item in line.split(" | ")[1].split())}


@pytest.mark.parametrize(("plant", "code", "word"), [
    (None, 0, "OK"),
    ("transitions", 1, "WARNING"),
    ("state", 2, "CRITICAL")])
def test_check_first_line_follows_the_plugin_guidelines(
        seed_tree: Path, tmp_path: Path, plant: str | None, code: int, word: str) -> None:
    """The state word matches the exit code; MEDIUM is WARNING/1 with verdict GREEN;
    perfdata counts every tier including medium."""
    if plant == "transitions":  # a transition from a state that is not the previous to_state
        log = seed_tree / "logs/state_transitions.jsonl"
        last = json.loads(log.read_text().splitlines()[-1])
        gap = {**last, "transition_id": "t-gap", "from_state": "NOWHERE",
               "to_state": last["to_state"]}
        with log.open("a") as f:
            f.write(json.dumps(gap) + "\n")
    elif plant == "state":
        (seed_tree / "runtime/system_state.json").write_text('{"state": "RUN')
    cfg = no_host(tmp_path)
    done = burnin(tmp_path, "check", "--config", str(cfg), "--root", str(seed_tree))
    first = done.stdout.splitlines()[0]
    assert done.returncode == code, done.stdout + done.stderr
    assert PLUGIN_LINE.match(first) and first.startswith(f"BURNIN {word} - ")
    perf = _perf(first)
    assert {"findings", "critical", "high", "medium", "info"} <= perf.keys()
    if plant == "transitions":
        assert "verdict GREEN" in first and perf["medium"] >= 1 and perf["high"] == 0


def test_check_bad_config_prints_unknown_on_stdout(tmp_path: Path) -> None:
    """A config error: exit 3 and a `BURNIN UNKNOWN` line on stdout (Nagios drops stderr)."""
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[window]\nduration = 'soon'\n")
    done = burnin(tmp_path, "check", "--config", str(cfg), "--root", str(tmp_path))
    assert done.returncode == 3
    assert PLUGIN_LINE.match(done.stdout.splitlines()[0])
    assert done.stdout.startswith("BURNIN UNKNOWN - ") and "window.duration" in done.stdout


def test_check_missing_root_is_unknown(tmp_path: Path) -> None:
    done = burnin(tmp_path, "check", "--root", str(tmp_path / "gone"))
    assert done.returncode == 3 and done.stdout.startswith("BURNIN UNKNOWN - ")


# -- 8: usage errors exit 64 ----------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["run", "--window", "5 minutes"], ["check", "--only", "foo"], ["status", "--format", "xml"],
    ["frobnicate"], [], ["silence", "--for", "1h"], ["ack"], ["demo", "--window", "soon"],
    ["demo", "--time-scale", "0"], ["run", "--time-scale", "-3"]])
def test_usage_errors_exit_64(tmp_path: Path, args: list[str]) -> None:
    """Never 0/1/2 (the verdict codes) for a bad command line; nothing is written."""
    done = burnin(tmp_path, *args)
    assert done.returncode == 64, (done.returncode, done.stderr)
    assert done.stderr.strip() and list(tmp_path.iterdir()) == []


def test_only_lists_the_valid_check_names(tmp_path: Path) -> None:
    done = burnin(tmp_path, "check", "--only", "foo")
    assert "valid: health, position, integrity, jobs" in done.stderr


# -- reload: where there is no daemon, and next to a running one -----------------------------

def test_reload_refuses_where_no_daemon_ran(tmp_path: Path) -> None:
    done = burnin(tmp_path, "reload")
    assert done.returncode == 1 and "no daemon state" in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_reload_reaches_the_running_daemon(seed_tree: Path, tmp_path: Path) -> None:
    """`burnin reload` with the daemon's config: exit 0, the daemon logs config_reloaded."""
    import signal
    import time

    cfg = no_host(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "run", "--config", str(cfg),
                             "--root", str(seed_tree), "--time-scale", "60"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        log = tmp_path / "logs/burnin.jsonl"
        deadline = time.monotonic() + 30
        while not (tmp_path / "runtime/status.json").exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        done = burnin(tmp_path, "reload", "--config", str(cfg))
        assert done.returncode == 0, done.stderr
        while "config_reloaded" not in log.read_text():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "resumes at the next `burnin run`" in out


@pytest.mark.slow
def test_run_on_a_completed_window_opens_no_new_one(seed_tree: Path, tmp_path: Path) -> None:
    """A second `run` after the verdict repeats it (exit code, stderr, systemd READY+STATUS)
    and opens no window; `--new-window` opens one."""
    import socket

    cfg = no_host(tmp_path)
    args = ("run", "--config", str(cfg), "--root", str(seed_tree), "--window", "1h",
            "--time-scale", "3600")
    assert burnin(tmp_path, *args).returncode == 0
    (wid,) = [p.name for p in (tmp_path / "runtime/windows").iterdir()]
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(5)
    try:
        again = burnin(tmp_path, *args, env={"NOTIFY_SOCKET": str(sock_path)})
        message = sock.recv(4096).decode()
    finally:
        sock.close()
    assert again.returncode == 0
    assert f"window {wid} has already ended: verdict GREEN" in again.stderr
    assert "READY=1" in message and f"STATUS=window {wid} already ended" in message
    assert [p.name for p in (tmp_path / "runtime/windows").iterdir()] == [wid]
    assert burnin(tmp_path, *args, "--new-window").returncode == 0
    assert len(list((tmp_path / "runtime/windows").iterdir())) == 2


@pytest.mark.slow
def test_ack_on_a_running_daemon_suggests_the_nearest_open_fingerprint(
        seed_tree: Path, tmp_path: Path) -> None:
    """A mistyped fingerprint: exit 1 with the open one suggested; the right one: exit 0."""
    import signal
    import time

    (seed_tree / "runtime/system_state.json").write_text('{"state": "RUN')
    cfg = no_host(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "run", "--config", str(cfg),
                             "--root", str(seed_tree), "--time-scale", "60"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        fp = None
        while fp is None:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
            try:
                doc = json.loads((tmp_path / "runtime/status.json").read_text())
            except (OSError, ValueError):
                continue
            fp = next((a["fingerprint"] for a in doc["alerts"]["open"]
                       if a["code"] == "state.corrupt"), None)
        typo = fp[:-1] + ("0" if fp[-1] != "0" else "1")
        wrong = burnin(tmp_path, "ack", typo, "--config", str(cfg))
        assert wrong.returncode == 1 and f"did you mean {fp}?" in wrong.stderr
        right = burnin(tmp_path, "ack", fp, "--config", str(cfg), "--reason", "known")
        assert right.returncode == 0 and right.stdout.startswith(f"acknowledged {fp}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)


@pytest.mark.slow
def test_continuing_windows_each_print_their_verdict_and_the_next_start(
        seed_tree: Path, tmp_path: Path) -> None:
    """With window.on_end = "continue": per window an end line with its report, then a start
    line for the next one."""
    import signal

    cfg = no_host(tmp_path, "[window]\non_end = 'continue'\nduration = '1h'\n"
                            "time_scale = 3600\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "run", "--config", str(cfg),
                             "--root", str(seed_tree)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        # the third window's start line follows the second end line: wait for it too (a
        # SIGTERM sent right after the end line may otherwise beat it)
        while (sum("ended: verdict" in ln for ln in lines) < 2
               or sum("(new, 1h)" in ln for ln in lines) < 3):
            line = proc.stdout.readline()
            assert line, "the daemon exited early"
            lines.append(line)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    lines += out.splitlines()
    starts = [ln for ln in lines if "(new, 1h)" in ln]
    ends = [ln for ln in lines if "ended: verdict GREEN (GO)" in ln]
    assert len(starts) >= 3 and len(ends) >= 2
    first_id = starts[0].split("window ")[1].split()[0]
    assert f"window {first_id} ended" in ends[0] and f"{first_id}/final.html" in ends[0]
