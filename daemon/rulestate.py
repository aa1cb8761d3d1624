"""One rule's state across restarts: a versioned file under the daemon's state folder.

Every rule that must survive a restart (`jobs_watch`, `logs`, the journal) keeps its state
through a `RuleState`, so all of them share the same three promises:

- **atomic**: the file is replaced whole (`daemon.atomic`): a kill -9 leaves the previous state;
- **versioned**: a JSON state is written as `{"version": V, "window_id": W, "data": ...}`; a
  file of another version (or of another window, for `per_window` state) is not loaded — the
  rule starts afresh, as it would on a new install;
- **loud**: a state that cannot be read or written is logged (`rule_state_discarded`,
  `rule_state_save_failed`) with the file and the reason, never silently dropped; a failed
  save never raises into the rule (the previous state stays on disk).

A one-shot `burnin check` has no state folder: `load` returns None and `save` does nothing.
Binary states (the journal's key table) use `load_bytes`/`save_bytes` and version themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from daemon import atomic


class RuleState:
    """The state file `name` of one rule in `state_dir` (None: nothing is read or written)."""

    def __init__(self, state_dir: Path | None, name: str, *, version: int, log: Any,
                 window_id: str | None = None, per_window: bool = False) -> None:
        self.path = None if state_dir is None else Path(state_dir) / name
        self.version = version
        self.log = log
        self.window_id = window_id
        self.per_window = per_window

    def load(self) -> Any | None:
        """The saved data, or None when there is none that fits (absent, other version/window,
        unreadable — the last two are logged)."""
        raw = self.load_bytes()
        if raw is None:
            return None
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return self._discard(f"not JSON: {exc}")
        return self._unwrap(doc)

    def save(self, data: Any) -> bool:
        """Write `data` (JSON-able) atomically; False (logged) when it could not be written."""
        doc = {"version": self.version, "window_id": self.window_id, "data": data}
        opts = orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
        try:
            blob = orjson.dumps(doc, option=opts)
        except TypeError as exc:
            self._failed(f"not serialisable: {exc}")
            return False
        return self.save_bytes(blob)

    def load_bytes(self) -> bytes | None:
        """The file's bytes, or None when absent or unreadable (logged)."""
        if self.path is None:
            return None
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            return self._discard(f"unreadable: {exc}")

    def save_bytes(self, blob: bytes) -> bool:
        """Replace the file with `blob` atomically; False (logged) when it could not."""
        if self.path is None:
            return False
        try:
            atomic.write_bytes(self.path, blob)
        except OSError as exc:
            self._failed(str(exc))
            return False
        return True

    def discard(self, reason: str) -> None:
        """Log that a state which loaded could not be used (the caller's own checks)."""
        self._discard(reason)

    def _unwrap(self, doc: Any) -> Any | None:
        if isinstance(doc, dict) and "version" not in doc and self.version == 1:
            # written before RuleState (burnin <= 0.x): the bare data, its window inside it
            doc = {"version": 1, "window_id": doc.get("window_id"), "data": doc}
        if not isinstance(doc, dict) or "data" not in doc:
            return self._discard("not a rule state")
        if doc.get("version") != self.version:
            return self._discard(f"version {doc.get('version')!r}, expected {self.version}")
        if self.per_window and doc.get("window_id") != self.window_id:
            return None  # a new window starts afresh: expected, not worth a warning
        return doc["data"]

    def _discard(self, reason: str) -> None:
        self.log.warning("rule_state_discarded", path=str(self.path), reason=reason)
        return None

    def _failed(self, reason: str) -> None:
        self.log.warning("rule_state_save_failed", path=str(self.path), reason=reason)
