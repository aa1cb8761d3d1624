"""The config's fast path (daemon/configmodel.py): a valid config is checked without pydantic,
and never differently from the pydantic model of the same declaration — which still gives
every refusal its message (pinned below as pydantic worded them)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from daemon import config as config_module
from daemon.config import Config, EmailCfg, JournalCfg, ThresholdsCfg, load_config
from daemon.configmodel import Section, _fast, _from_model, _Refused, pydantic_model
from daemon.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "burnin.example.toml"

VALUES: list[Any] = [
    "", "x", "5", "5.5", "yes", "72h", "1h30m", "-1", "(", "http://h", "ftp://h",
    0, 1, -1, 5, 63, 64, 255, 256, 65535, 65536, 1_000_000, 1_000_001,
    0.0, 0.5, 1.0, -0.5, 5.0, 1.5, math.inf, math.nan,
    True, False, None, [], ["a"], ["a", 1], [{}], {}, {"x": 1},
]


def _tables() -> list[tuple[str, str | None, type[Section]]]:
    out: list[tuple[str, str | None, type[Section]]] = []
    for table, info in Config.model_fields.items():
        kind = info.kind if isinstance(info.kind, type) else None
        out.append((table, None, Config))
        if kind is not None and issubclass(kind, Section):
            out += [(table, f.alias or name, kind) for name, f in kind.model_fields.items()]
    return out


def _slow(data: dict[str, Any]) -> Any:
    """The pydantic path, forced."""
    return _from_model(Config, pydantic_model(Config).model_validate(data))


def _same(a: Config, b: Config) -> bool:
    return repr(a) == repr(b) and all(  # repr: every value, types too (1 vs 1.0), nan == nan
        getattr(a, t).model_fields_set == getattr(b, t).model_fields_set
        for t in Config.model_fields if isinstance(getattr(a, t), Section))


def _cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for table, key, _kind in _tables():
        cases += [{table: v} if key is None else {table: {key: v}} for v in VALUES]
    email, hook = {"host": "h", "to": ["a@b"]}, {"url": "http://h/x"}
    for key in ("host", "port", "tls", "to", "from", "from_", "timeout", "min_severity"):
        cases += [{"alerts": {"email": {**email, key: v}}} for v in VALUES]
    for key in ("url", "format", "secret_env", "timeout", "name"):
        cases += [{"alerts": {"webhook": [{**hook, key: v}]}} for v in VALUES]
    for key in ("name", "pidfile", "cmdline", "cpu_max"):
        cases += [{"process": [{"name": "w", "pidfile": "p", key: v}]} for v in VALUES]
    cases += [{"alerts": {"email": {**email, "from": "a", "from_": "b"}}},
              {"process": [{"name": "w"}]}, {"process": [{"name": "w", "pidfile": "p",
                                                          "cmdline": "x"}]}]
    return cases


def test_fast_path_never_accepts_what_pydantic_refuses_nor_reads_it_differently() -> None:
    """Every input the fast path accepts, the pydantic model accepts with the same values and
    the same keys counted as given; every input it refuses goes to pydantic unchanged."""
    accepted = refused = 0
    for data in _cases():
        try:
            fast = _fast(Config, data)
        except _Refused:
            refused += 1
            continue
        accepted += 1
        assert _same(fast, _slow(data)), data
    assert accepted > 500 and refused > 500  # both sides of the table are exercised


@pytest.mark.parametrize(("data", "message"), [
    ({"window": {"time_scale": 0}},
     "window.time_scale: Input should be greater than 0 (got 0)"),
    ({"window": {"stop_on_red": "maybe"}}, "window.stop_on_red: Input should be a valid "
                                           "boolean, unable to interpret input (got 'maybe')"),
    ({"window": {"on_end": "stop"}},
     "window.on_end: Input should be 'exit' or 'continue' (got 'stop')"),
    ({"window": {"duration": "0s"}}, "window.duration: must be longer than 0s"),
    ({"window": {"duration": math.inf}}, "window.duration: bad duration inf: not a finite number"),
    ({"window": {"duration": math.nan}}, "window.duration: bad duration nan: not a finite number"),
    ({"jobs": {"stale_claim_after": 1e300}},
     "jobs.stale_claim_after: bad duration 1e+300: longer than 100 years"),
    ({"journal": {"max_line_bytes": 10}},
     "journal.max_line_bytes: Input should be greater than or equal to 64 (got 10)"),
    ({"journal": {"decision_types": "approval.approved"}},
     "journal.decision_types: Input should be a valid list (got 'approval.approved')"),
    ({"logs": {"error_pattern": "("}}, "logs.error_pattern: bad regular expression '(': "
                                      "missing ), unterminated subpattern at position 0"),
    ({"alerts": {"email": {"host": "h"}}}, "alerts.email.to: required key is missing"),
    ({"alerts": {"email": {"host": "h", "to": [], "port": 0}}},
     "alerts.email.port: Input should be greater than or equal to 1 (got 0)"),
    ({"alerts": {"webhook": [{"url": "ftp://x"}]}},
     "alerts.webhook.0.url: not an http(s) URL: 'ftp://x'"),
    ({"alerts": {"webhook": [{"url": "http://x", "format": "teams"}]}},
     "alerts.webhook.0.format: Input should be 'burnin', 'alertmanager' or 'slack' "
     "(got 'teams')"),
    ({"system": {"root": 5}}, "system.root: Input should be a valid string (got 5)"),
    ({"thresholds": {"cpu_samples": 1.5}}, "thresholds.cpu_samples: Input should be a valid "
                                           "integer, got a number with a fractional part "
                                           "(got 1.5)"),
    ({"process": [{"name": "w", "pidfile": "p", "extra": 1}]}, "process.0.extra: unknown key"),
    ({"window": []},
     "window: Input should be a valid dictionary or instance of WindowCfg (got [])"),
    ({"nosuch": {}}, "nosuch: unknown key"),
])
def test_refusals_keep_their_messages(data: dict[str, Any], message: str) -> None:
    """The messages a bad config got from the pydantic models, word for word."""
    with pytest.raises(ConfigError) as err:
        config_module._validated(data, "burnin.toml")
    assert str(err.value) == f"config error: burnin.toml: {message}"


def test_lax_forms_are_still_accepted_through_pydantic() -> None:
    """What pydantic coerced before, it still coerces (the fast path only hands it over)."""
    cfg = config_module._validated({"window": {"stop_on_red": "yes", "time_scale": "2.5"},
                                    "thresholds": {"cpu_samples": 3.0}}, "f")
    assert (cfg.window.stop_on_red, cfg.window.time_scale) == (True, 2.5)
    assert cfg.thresholds.cpu_samples == 3 and type(cfg.thresholds.cpu_samples) is int
    assert cfg.window.model_fields_set == {"stop_on_red", "time_scale"}


def test_model_api_used_by_the_daemon() -> None:
    """Constructors, dumps (durations spelled as written), fields set, equality."""
    assert ThresholdsCfg(lock_timeout_high=0.02).lock_timeout_high == 0.02
    email = EmailCfg.model_validate({"host": "h", "to": ["a@b"], "from": "me@h"})
    assert email.from_ == "me@h" and email.password is None
    assert email.model_dump(by_alias=True)["from"] == "me@h"
    journal = JournalCfg(torn_tail_grace="90s")
    assert journal.torn_tail_grace == 90.0 and journal.model_fields_set == {"torn_tail_grace"}
    assert '"torn_tail_grace":"1m30s"' in journal.model_dump_json()
    assert Config() == Config() and Config().window is not Config().window
    assert Config(window={"duration": "24h"}) != Config()
    with pytest.raises(Exception, match="greater than or equal to 1"):
        ThresholdsCfg(cpu_samples=0)


def test_a_valid_config_does_not_import_pydantic() -> None:
    """Loading the example config (every table) stays on the fast path."""
    probe = ("import sys\nfrom daemon.config import load_config\n"
             f"cfg = load_config({str(EXAMPLE)!r}, env={{'BURNIN_SMTP_PASSWORD': 'x', "
             "'BURNIN_WEBHOOK_SECRET': 'eQ=='})\n"
             "print(sorted(m for m in sys.modules if m.startswith('pydantic')))\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, timeout=60, check=True).stdout.strip()
    assert out == "[]"


def test_example_config_reads_the_same_on_both_paths() -> None:
    """The example config, through the fast path and through pydantic: the same config."""
    import tomllib

    data = tomllib.loads(EXAMPLE.read_text())
    assert _same(_fast(Config, data), _slow(data))
    assert load_config(EXAMPLE, env={"BURNIN_SMTP_PASSWORD": "x",
                                     "BURNIN_WEBHOOK_SECRET": "eQ=="}).window.duration == 259200


def test_a_subclass_extends_its_table_and_can_be_frozen() -> None:
    """`window.verdict.Thresholds` is ThresholdsCfg plus one field, frozen and hashable;
    `dict(model)` gives its fields as iterating a pydantic model did."""
    from daemon.window.verdict import Thresholds

    th = Thresholds.from_config(ThresholdsCfg(host_high_percent=70))
    assert th.host_high_percent == 70 and th.coverage_min == 0.999
    assert dict(th) == {**dict(ThresholdsCfg(host_high_percent=70)), "coverage_min": 0.999}
    assert hash(th) == hash(Thresholds.from_config(ThresholdsCfg(host_high_percent=70)))
    with pytest.raises(TypeError, match="frozen"):
        th.host_high_percent = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError, match="unhashable"):
        hash(ThresholdsCfg())


def test_float_fields_dump_as_floats() -> None:
    """A float field written `= 60` in the declaration is 60.0, and `burnin config` prints it
    as pydantic serialized it (`max_errors_per_hour = 60.0`)."""
    from daemon.config import LogsCfg, effective, to_toml

    assert type(LogsCfg().max_errors_per_hour) is float
    assert "max_errors_per_hour = 60.0" in to_toml(effective(load_config(None)))
