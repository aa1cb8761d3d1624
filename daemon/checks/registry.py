"""The rule registry: modules in `daemon.checks` register their rules by name on import.

`Units.build` is the one factory of what rules run with: the `Env` (config, clock, shared
sources, log, state folder) and the rules of each check built on it, for the daemon's
`RuleSet` and for the one-shot `burnin check` alike. It refuses a `checks.disabled` entry
that names no registered rule.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from daemon.errors import ConfigError
from daemon.sources.registry import SourceHub
from daemon.unit import Env

if TYPE_CHECKING:
    from daemon.clock import Clock
    from daemon.config import Config
    from daemon.unit import Rule

_RULES: dict[str, type[Rule]] = {}
_LOADED = False
R = TypeVar("R", bound="type[Rule]")


def register(cls: R) -> R:
    """Class decorator: make a rule known under `cls.name`."""
    if cls.name in _RULES and _RULES[cls.name] is not cls:
        raise RuntimeError(f"two rules named {cls.name!r}")
    _RULES[cls.name] = cls
    return cls


def _discover() -> None:
    global _LOADED
    if _LOADED:
        return
    import daemon.checks as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name not in ("base", "registry"):
            importlib.import_module(f"daemon.checks.{mod.name}")
    _LOADED = True


def rule_names() -> list[str]:
    _discover()
    return sorted(_RULES)


def rules_for(check: str, disabled: list[str] | tuple[str, ...] = ()) -> list[type[Rule]]:
    """The enabled rule classes of one check, in name order."""
    _discover()
    return [cls for name, cls in sorted(_RULES.items())
            if cls.check == check and name not in disabled]


def check_disabled(cfg: Config) -> None:
    """Refuse a `checks.disabled` entry that names no registered rule (a config error)."""
    known = rule_names()
    for i, name in enumerate(cfg.checks.disabled):
        if name not in known:
            raise ConfigError(cfg.source, f"checks.disabled[{i}]",
                              f"unknown rule {name!r} (known: {', '.join(known)})")


@dataclass
class Units:
    """The `Env` of one run and the shared sources behind it; `rules(check)` builds on it."""

    env: Env
    hub: SourceHub

    @classmethod
    def build(cls, cfg: Config, clock: Clock, log: Any, *, oneshot: bool = False,
              state_dir: Path | None = None, window_id: str | None = None,
              progress: Callable[[str, int, int], None] | None = None) -> Units:
        """The units of `cfg`: the daemon passes its state folder and window, `burnin check`
        `oneshot=True` (and a progress callback). Raises ConfigError on an unknown
        `checks.disabled` name."""
        check_disabled(cfg)
        hub = SourceHub()
        env = Env(cfg=cfg, clock=clock, sources=hub, log=log, oneshot=oneshot,
                  state_dir=state_dir, progress=progress, window_id=window_id)
        hub.bind(env)
        return cls(env, hub)

    def rules(self, check: str) -> list[Rule]:
        """A fresh instance of each enabled rule of `check`, in name order."""
        return [cls(self.env) for cls in rules_for(check, self.env.cfg.checks.disabled)]

    def close(self) -> None:
        """Close the shared sources (each rule closes itself)."""
        self.hub.close()
