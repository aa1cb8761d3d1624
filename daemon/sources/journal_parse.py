"""Parse one journal line into the few fields burnin reads (pure; table-tested).

Fast path: msgspec decodes the line into a generated Struct holding only the configured fields
(the delta and key as `Raw`, so their exact text is kept). Any line the fast path refuses goes
through the slow path (stdlib json, which also accepts Python's `NaN`/`Infinity` tokens) that
classifies it: an event, or a corrupt line with its reason. Both paths yield the same `Flat` view.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Raw

from daemon.jsondepth import MAX_DEPTH, too_deep

PLAIN = b"0123456789-.,"  # the only bytes of comma-joined JSON numbers without exponents
ROLES = ("a", "d", "k", "c", "t", "s", "r")  # account delta key correlation type sequence request
# RecursionError: a safety net only; lines nested deeper than jsondepth.MAX_DEPTH never reach
# a decoder (the book refuses them first), so no decoder recurses near the interpreter's limit.
FAST_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)


class Marker:
    """A named sentinel (printable in evidence)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


DEEP = f"nested deeper than {MAX_DEPTH} levels"
NON_FINITE = Marker("non-finite")
INVALID = Marker("invalid")


class Flat:
    """The configured fields of one event; absent ones are `UNSET`."""

    __slots__ = ROLES

    def __init__(self, **values: Any) -> None:
        for role in ROLES:
            setattr(self, role, values.get(role, UNSET))


class Corrupt(Exception):
    """A complete line that is not a JSON object; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Fields:
    """Configured field paths by role; '' means the role is unused."""

    account: str
    delta: str
    key: str
    correlation: str
    type: str
    sequence: str
    request: str

    def paths(self) -> dict[str, tuple[str, ...]]:
        names = (self.account, self.delta, self.key, self.correlation, self.type,
                 self.sequence, self.request)
        return {role: tuple(name.split(".")) for role, name in zip(ROLES, names, strict=True)
                if name}


# The delta and the key are kept as raw JSON text: the delta is turned into an exact Decimal
# (a whole batch at once by the book), the key is hashed without decoding.
_TYPES: dict[str, Any] = {"a": str | int, "d": Raw, "k": Raw}
# The strict decoder also requires a non-empty correlation id (when one is configured).
_STRICT: dict[str, Any] = {**_TYPES, "c": Annotated[str, msgspec.Meta(min_length=1)]}


# A string delta (SPEC §2: `"10.50"`): an optional sign, ASCII digits with an optional fraction
# and exponent; no spaces, no `NaN`/`Infinity`, no `_` (which `Decimal()` would accept).
DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_STRING = msgspec.json.Decoder(str).decode


def decimal_text(text: str) -> Any:
    """The exact Decimal a string delta holds, or INVALID when it is not a finite decimal."""
    return Decimal(text) if DECIMAL_TEXT.fullmatch(text) else INVALID


def raw_number(raw: Raw) -> Any:
    """The exact Decimal of a raw JSON number or of a string holding a decimal, else INVALID."""
    text = bytes(raw)
    first = text[:1]
    if first == b'"':
        return decimal_text(_STRING(text))
    if first != b"-" and not first.isdigit():
        return INVALID
    return Decimal(text.decode("ascii"))


class Parser:
    """Builds the decoder for a field configuration; `decode(line)` returns a Flat-like view."""

    def __init__(self, fields: Fields) -> None:
        self.paths = fields.paths()
        self.flat = all(len(p) == 1 for p in self.paths.values()) and len(
            {p for p in self.paths.values()}) == len(self.paths)
        self.struct = _build(self.paths) if self.flat else _build_nested(self.paths)
        self._decoder = msgspec.json.Decoder(self.struct)
        self.decode = self._decoder.decode if self.flat else self._decode_nested
        # (decode a whole body of lines in one call, whether its events are all clean): flat
        # fields only. The strict decoder requires an account, a delta, a key and a correlation
        # id in every event.
        self.line_decoders: list[tuple[Any, bool]] = []
        if self.flat:
            if {"a", "d", "k"} <= self.paths.keys():
                strict = msgspec.json.Decoder(_build(self.paths, strict=True))
                self.line_decoders.append((strict.decode_lines, True))
            self.line_decoders.append((self._decoder.decode_lines, False))

    def _decode_nested(self, line: bytes) -> Flat:
        obj = self._decoder.decode(line)
        return Flat(**{role: _dig_struct(obj, path) for role, path in self.paths.items()})

    def slow(self, line: bytes) -> Flat:
        """Classify a line the fast path refused; raises Corrupt when it is not an event."""
        obj = parse_object(line)
        values = {role: _dig(obj, path) for role, path in self.paths.items()}
        if "a" in values and not _is_id(values["a"]):
            values["a"] = INVALID
        if "k" in values:
            values["k"] = _raw_key(values["k"])
        if "d" in values:
            values["d"] = _number(values["d"])
        return Flat(**values)


def parse_object(line: bytes) -> dict[str, Any]:
    """The JSON object on a line, or Corrupt(reason)."""
    if b"\x00" in line:
        raise Corrupt("NUL bytes")
    if too_deep(line):
        raise Corrupt(DEEP)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Corrupt(f"invalid UTF-8 at byte {exc.start}") from None
    try:
        obj = json.loads(text, parse_float=Decimal, parse_constant=lambda _: NON_FINITE)
    except (ValueError, RecursionError) as exc:
        raise Corrupt(f"not JSON: {str(exc)[:80]}") from None
    if not isinstance(obj, dict):
        raise Corrupt(f"a JSON {type(obj).__name__}, not an object")
    return obj


def _is_id(value: Any) -> bool:
    return value is UNSET or isinstance(value, str) or (
        isinstance(value, int) and not isinstance(value, bool))


def _raw_key(value: Any) -> Any:
    if value is UNSET or not _is_id(value):
        return value if value is UNSET else INVALID
    return Raw(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _number(value: Any) -> Any:
    if value is UNSET or value is NON_FINITE:
        return value
    if isinstance(value, str):
        return decimal_text(value)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return INVALID
    return Decimal(value)


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return UNSET
        obj = obj[part]
    return obj


def _dig_struct(obj: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        obj = getattr(obj, _ident(part), UNSET)
        if obj is UNSET:
            return UNSET
    return obj


def _ident(name: str) -> str:
    return "f_" + name.encode().hex()


def _build(paths: dict[str, tuple[str, ...]], *, strict: bool = False) -> type:
    """The event Struct; `strict`: the account, delta, key and correlation id are required."""
    fields = [(role, _STRICT[role]) if strict and role in _STRICT else
              (role, _TYPES.get(role, Any), UNSET) for role in paths]
    rename = {role: path[0] for role, path in paths.items()}
    return msgspec.defstruct("Event", fields, rename=rename, gc=False, kw_only=True)


def _build_nested(paths: dict[str, tuple[str, ...]]) -> type:
    tree: dict[str, Any] = {}
    for role, path in paths.items():
        node = tree
        for part in path[:-1]:
            child = node.setdefault(part, {})
            node = child if isinstance(child, dict) else node
        node.setdefault(path[-1], _TYPES.get(role, Any))
    return _struct_of(tree, "Event")


def _struct_of(tree: dict[str, Any], name: str) -> type:
    fields = []
    for i, (part, sub) in enumerate(tree.items()):
        kind = _struct_of(sub, f"{name}_{i}") if isinstance(sub, dict) else sub
        fields.append((_ident(part), kind, UNSET))
    rename = {_ident(part): part for part in tree}
    return msgspec.defstruct(name, fields, rename=rename, gc=False)
