"""The TOML config: strict models with built-in defaults equal to SPEC §2 (STYLE.md §5).

The models are `daemon.configmodel.Section`s: a valid config is checked without importing
pydantic; one the fast path does not accept goes through the pydantic model of the same
declaration, whose messages are the errors (see that module).

Layers: TOML syntax -> schema (unknown keys, types, durations) -> cross-references and secrets.
Every failure becomes one `ConfigError` naming file, key path and problem. Nothing is written
while loading. Relative paths written in a config file resolve against that file's folder;
observed paths resolve against `system.root`; defaults that are not written resolve against
the working directory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from daemon.configmodel import Duration, Field, Section, SeverityName, validate
from daemon.errors import ConfigError
from daemon.model import Severity


def _positive(v: float) -> float:
    if v <= 0:
        raise ValueError("must be longer than 0s")
    return v


def _regex(v: str) -> str:
    return _valid_regex(v)


def _optional_regex(v: str) -> str:
    return _valid_regex(v) if v else v


def _http(v: str) -> str:
    if not re.match(r"^https?://[^/\s]+", v):
        raise ValueError(f"not an http(s) URL: {v!r}")
    return v


class SystemCfg(Section):
    root: str = "."
    name: str = "system"
    host: str = ""  # the fleet's name for this host (alerts, metrics); "" = the hostname


class WindowCfg(Section):
    duration: Duration = Field(72 * 3600.0, check=_positive)
    time_scale: float = Field(1.0, gt=0, le=1_000_000)
    spot_check_every: Duration = 8 * 3600.0
    stop_on_red: bool = False
    on_end: Literal["exit", "continue"] = "exit"
    end_drain: Duration = 60.0  # real seconds: pending deliveries' last chance at the end


class ScheduleCfg(Section):
    health: Duration = 60.0
    position: Duration = 600.0
    integrity: Duration = 3600.0
    min_interval: Duration = 0.25  # real seconds: cadences never run faster than this
    min_timeout: Duration = 10.0  # real seconds: a check may always run this long


class JobsCfg(Section):
    pending: str = "data/webrelay_out/*.job.json"
    claims: str = "data/webrelay_out/*.claimed"
    results: str = "data/webrelay_in/*.result.json"
    failed: str = "data/failed_reports/*.failed_notify.txt"
    created_field: str = "created_at"
    claimed_field: str = "claimed_at"
    completed_field: str = "completed_at"
    result_id_field: str = "job_id"
    stale_claim_after: Duration = 300.0
    pending_after: Duration = 900.0
    settle: Duration = 2.0  # real seconds
    rescan_every: Duration = 60.0  # real seconds


class JournalCfg(Section):
    path: str = "storage/events/credits.jsonl"
    id_field: str = "idempotency_key"
    account_field: str = "agent_id"
    delta_field: str = "delta"
    correlation_field: str = "correlation_id"
    type_field: str = "event_type"
    sequence_field: str = ""
    request_field: str = "request_id"
    request_type: str = "approval.requested"
    decision_types: list[str] = Field(["approval.approved", "approval.rejected"])
    snapshot: str = "runtime/balances.json"
    max_line_bytes: int = Field(1 << 20, ge=64)
    torn_tail_grace: Duration = 60.0  # real seconds


class LedgerCfg(Section):
    allow_negative: bool = False
    drift_tolerance: float = Field(0.000001, ge=0)


class StateCfg(Section):
    file: str = "runtime/system_state.json"
    state_field: str = "state"
    states: list[str] = Field([])
    transitions: str = "logs/state_transitions.jsonl"
    transition_id_field: str = "transition_id"
    from_field: str = "from_state"
    to_field: str = "to_state"
    timestamp_field: str = "timestamp"
    settle: Duration = 0.2  # real seconds: a mismatch is looked at again after this


class LogsCfg(Section):
    paths: list[str] = Field(["logs/*.log"])
    lock_timeout_pattern: str = Field("Lock timeout", check=_regex)
    error_pattern: str = Field(r"\bERROR\b", check=_regex)
    max_errors_per_hour: float = Field(60, ge=0)
    max_line_bytes: int = Field(65536, ge=256)


def _one_matcher(p: ProcessCfg) -> None:
    if bool(p.pidfile) == bool(p.cmdline):
        raise ValueError("give exactly one of pidfile or cmdline")


class ProcessCfg(Section):
    name: str
    pidfile: str = ""
    cmdline: str = Field("", check=_optional_regex)
    idle_cpu_max: float = Field(2.0, ge=0)
    cpu_max: float = Field(80.0, ge=0)

    after = _one_matcher


class HeartbeatCfg(Section):
    path: str = ""
    max_age: Duration = 120.0


class ThresholdsCfg(Section):
    latency_p95_high_ms: float = 500.0
    latency_p95_critical_ms: float = 1000.0
    latency_min_samples: int = 20
    failed_notify_high: float = 0.001
    failed_notify_critical: float = 0.01
    lock_timeout_high: float = 0.01
    lock_timeout_critical: float = 0.05
    memory_growth_high_mb_min: float = 0.1
    memory_growth_critical_mb_min: float = 1.0
    memory_min_span: Duration = 1800.0
    memory_min_rise_mb: float = Field(1.0, ge=0)  # a trend must also have grown this much
    cpu_samples: int = Field(5, ge=1)
    host_high_percent: float = 80.0
    host_critical_percent: float = 95.0
    stale_claims_excessive: int = Field(5, ge=1)
    # real seconds (SPEC §4): a condition on a real measurement (host, process CPU, loop lag)
    # fires only after holding this long, repeats no faster, and escalates only after holding
    # `sample_escalate_min` in its tier (as well as its scaled tier period)
    sample_for_min: Duration = 30.0
    sample_escalate_min: Duration = 600.0
    environment_yellow_share: float = Field(0.10, ge=0, le=1)  # host saturated this share: YELLOW


class DaemonCfg(Section):
    runtime_dir: str = "runtime"
    log_dir: str = "logs"
    log_level: Literal["debug", "info", "warning", "error"] = "info"


class EmailCfg(Section):
    host: str
    port: int = Field(587, ge=1, le=65535)
    tls: Literal["starttls", "implicit", "none"] = "starttls"
    username: str = ""
    password_env: str = ""
    password_file: str = ""
    from_: str = Field("burnin@localhost", alias="from")
    to: list[str] = Field(min_length=1)
    min_severity: SeverityName = "HIGH"
    timeout: Duration = 30.0
    ca_file: str = ""
    _password: str | None = None

    populate_by_name = True

    @property
    def password(self) -> str | None:
        return self._password


class WebhookCfg(Section):
    url: str = Field(check=_http)
    name: str = ""
    format: Literal["burnin", "alertmanager", "slack"] = "burnin"
    secret_env: str = ""
    secret_file: str = ""
    min_severity: SeverityName = "HIGH"
    timeout: Duration = 10.0
    _secret: str | None = None

    @property
    def secret(self) -> str | None:
        return self._secret

    @property
    def label(self) -> str:
        return self.name or re.sub(r"^https?://", "", self.url).split("/")[0]


class DeadmanCfg(Section):
    url: str
    interval: Duration = 300.0


class AlertsCfg(Section):
    group_wait: Duration = 30.0
    retry_base: Duration = 1.0  # real seconds: first retry delay, doubled per attempt
    retry_max: Duration = 5.0  # real seconds: longest retry delay (a receiver back is found fast)
    max_subjects_per_code: int = Field(100, ge=1)  # beyond: one aggregated alert per code
    max_db_bytes: int = Field(256 << 20, ge=1 << 20)  # runtime/alerts.sqlite3 at most
    email: EmailCfg | None = None
    webhook: list[WebhookCfg] = Field([])
    deadman: DeadmanCfg | None = None


class MetricsCfg(Section):
    listen: str = ""  # "127.0.0.1:9464"; loopback only unless allow_remote
    textfile: str = ""  # node_exporter textfile, must end in .prom
    allow_remote: bool = False


class ChecksCfg(Section):
    disabled: list[str] = Field([])


class Config(Section):
    system: SystemCfg = SystemCfg()
    window: WindowCfg = WindowCfg()
    schedule: ScheduleCfg = ScheduleCfg()
    jobs: JobsCfg = JobsCfg()
    journal: JournalCfg = JournalCfg()
    ledger: LedgerCfg = LedgerCfg()
    state: StateCfg = StateCfg()
    logs: LogsCfg = LogsCfg()
    process: list[ProcessCfg] = Field([])
    heartbeat: HeartbeatCfg = HeartbeatCfg()
    thresholds: ThresholdsCfg = ThresholdsCfg()
    daemon: DaemonCfg = DaemonCfg()
    alerts: AlertsCfg = AlertsCfg()
    metrics: MetricsCfg = MetricsCfg()
    checks: ChecksCfg = ChecksCfg()

    _source: str = "<defaults>"
    _base: str = "."

    @property
    def source(self) -> str:
        """The config file this came from, or `<defaults>`."""
        return self._source

    @property
    def root(self) -> Path:
        return Path(self.system.root)

    def observed(self, relative: str) -> Path:
        """A path of the observed tree (SPEC §2), resolved against `system.root`."""
        return self.root / relative

    @property
    def runtime_dir(self) -> Path:
        return Path(self.daemon.runtime_dir)

    @property
    def log_dir(self) -> Path:
        return Path(self.daemon.log_dir)

    def min_severity(self, name: str) -> Severity:
        return Severity.parse(name)


def _valid_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
    return pattern


def load_config(
    path: str | Path | None = None,
    *,
    root: str | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    env: dict[str, str] | None = None,
    secrets: bool = True,
) -> Config:
    """Read, validate and resolve a config; `root` and `overrides` come from the command line.

    `secrets=False` is for commands that only read or edit burnin's own state (status, report,
    ack, silence, reload, config): the secret sources are checked for form but not read, so an
    unset `secret_env` is no error there (SPEC §7). `resolve_secrets` reads them later."""
    file = str(path) if path is not None else "<defaults>"
    data = _read_toml(Path(path)) if path is not None else {}
    for table, values in (overrides or {}).items():
        data.setdefault(table, {}).update(values)
    cfg = _validated(data, file)
    cfg._source = file
    base = Path(path).resolve().parent if path is not None else Path.cwd()
    _resolve_paths(cfg, data, base, root)
    _check_references(cfg, file)
    cfg._base = str(base)
    if secrets:
        resolve_secrets(cfg, env)
    else:
        _load_secrets(cfg, file, base, {}, read=False)
    return cfg


def resolve_secrets(cfg: Config, env: dict[str, str] | None = None) -> None:
    """Read every channel secret (env var or file); a missing one is a ConfigError."""
    env = dict(os.environ) if env is None else env
    _load_secrets(cfg, cfg.source, Path(cfg._base), env)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None


def _validated(data: dict[str, Any], file: str) -> Config:
    """The config model of `data`; a refusal is one ConfigError (file, key, problem)."""
    try:
        return validate(Config, data)
    except Exception as exc:
        from pydantic import ValidationError  # only a refused config gets here

        if not isinstance(exc, ValidationError):
            raise
        raise _config_error(file, exc) from None


def _config_error(file: str, exc: Any) -> ConfigError:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"] if p != "from_") or "(top level)"
    if err["type"] == "extra_forbidden":
        problem = "unknown key"
    elif err["type"] == "missing":
        problem = "required key is missing"
    else:
        problem = str(err["msg"]).removeprefix("Value error, ")
        if "input" in err and err["type"] != "value_error":
            problem += f" (got {err['input']!r})"
    return ConfigError(file, key, problem)


def _resolve_paths(cfg: Config, data: dict[str, Any], base: Path, root: str | None) -> None:
    if root is not None:
        cfg.system.root = str(Path(root).resolve())
    elif not Path(cfg.system.root).is_absolute():
        cfg.system.root = str((base / cfg.system.root).resolve())
    written = data.get("daemon", {})
    for key in ("runtime_dir", "log_dir"):
        value = Path(getattr(cfg.daemon, key))
        if not value.is_absolute():
            anchor = base if key in written else Path.cwd()
            setattr(cfg.daemon, key, str((anchor / value).resolve()))


def _check_references(cfg: Config, file: str) -> None:
    # `checks.disabled` names rules: the rule registry checks it (checks/registry.py).
    names = [p.name for p in cfg.process]
    for i, name in enumerate(names):
        if names.index(name) != i:
            raise ConfigError(file, f"process[{i}].name", f"duplicate process name {name!r}")
    _check_job_globs(cfg, file)
    th = cfg.thresholds
    if th.latency_p95_critical_ms < th.latency_p95_high_ms:
        raise ConfigError(file, "thresholds.latency_p95_critical_ms", "must be >= the high one")


def _check_job_globs(cfg: Config, file: str) -> None:
    from daemon.jobglob import split_pattern

    for kind in ("pending", "claims", "results", "failed"):
        try:
            split_pattern(kind, getattr(cfg.jobs, kind))
        except ValueError as exc:
            raise ConfigError(file, f"jobs.{kind}", str(exc).split(": ", 1)[-1]) from None


def _secret(file: str, key: str, env_name: str, secret_file: str, base: Path,
            env: dict[str, str], read: bool = True) -> str | None:
    if env_name and secret_file:
        raise ConfigError(file, key, "give either the _env or the _file form, not both")
    if not read:
        return None
    if env_name:
        if env_name not in env:
            raise ConfigError(file, key + "_env", f"environment variable {env_name} is not set")
        return env[env_name]
    if secret_file:
        target = Path(secret_file)
        target = target if target.is_absolute() else base / target
        try:
            return target.read_text(encoding="utf-8").strip()
        except OSError as exc:
            problem = f"cannot read {target}: {exc.strerror}"
            raise ConfigError(file, key + "_file", problem) from None
    return None


def _load_secrets(cfg: Config, file: str, base: Path, env: dict[str, str],
                  read: bool = True) -> None:
    email = cfg.alerts.email
    if email is not None:
        email._password = _secret(file, "alerts.email.password", email.password_env,
                                  email.password_file, base, env, read)
    for i, hook in enumerate(cfg.alerts.webhook):
        hook._secret = _secret(file, f"alerts.webhook[{i}].secret", hook.secret_env,
                               hook.secret_file, base, env, read)
        if hook._secret is not None:
            _check_webhook_secret(file, f"alerts.webhook[{i}].secret", hook)


def _check_webhook_secret(file: str, key: str, hook: WebhookCfg) -> None:
    """Standard Webhooks secrets are base64 (optionally `whsec_`-prefixed); never echoed."""
    from daemon.whsec import secret_key

    try:
        secret_key(hook._secret or "")
    except ValueError as exc:
        raise ConfigError(file, key + ("_env" if hook.secret_env else "_file"), str(exc)) from None


MASK = "********"


def effective(cfg: Config) -> dict[str, Any]:
    """The effective config as plain data; secrets never appear (only their sources), and
    webhook / dead-man URLs show only scheme and host (`daemon.masking`)."""
    from daemon.masking import mask_url
    data = cfg.model_dump(mode="json", by_alias=True, exclude_none=True)
    if cfg.alerts.email is not None and cfg.alerts.email.password:
        data["alerts"]["email"]["password"] = MASK
    for i, hook in enumerate(cfg.alerts.webhook):
        if hook.secret:
            data["alerts"]["webhook"][i]["secret"] = MASK
        data["alerts"]["webhook"][i]["url"] = mask_url(hook.url)  # tokens live in URLs
    if cfg.alerts.deadman is not None:
        data["alerts"]["deadman"]["url"] = mask_url(cfg.alerts.deadman.url)
    return data


def to_toml(data: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer for the effective config (tables, arrays of tables, scalars, lists)."""
    lines: list[str] = []
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict) and not _is_table_list(v)}
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in data.items():
        name = f"{prefix}.{_key(key)}" if prefix else _key(key)
        if isinstance(value, dict):
            lines.append(f"\n[{name}]")
            lines.append(to_toml(value, name))
        elif _is_table_list(value):
            for item in value:
                lines.append(f"\n[[{name}]]")
                lines.append(to_toml(item, name))
    return "\n".join(line for line in lines if line != "")


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _value(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'
