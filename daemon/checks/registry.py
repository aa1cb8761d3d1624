"""The rule registry: modules in `daemon.checks` register their rules by name on import."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, TypeVar

from daemon.errors import ConfigError

if TYPE_CHECKING:
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
