"""The config models' machinery: strict validation without importing pydantic on the way in.

A `Section` is declared like a pydantic model (annotated fields, `Field(default, gt=…)`,
`check=` functions for field validators, `after` for a whole-table one). Loading a config
tries the fast path first: exact types only (str is str, a float field takes int or float, a
duration goes through `parse_duration`), the declared bounds and checks, no unknown key, no
missing required key. What the fast path accepts is valid by the pydantic model built from
the same declaration (`pydantic_model`), with the same values. Anything it does not accept —
an error, or a lax form such as `"5"` for a number — is handed to that pydantic model, which
either refuses it with exactly the messages it always gave, or accepts and coerces it; so
validation is as strict and as lenient as before, and a valid config never imports pydantic
(it costs more than the whole one-shot check of a small tree).
"""

from __future__ import annotations

import json
import sys
import typing
from collections.abc import Callable
from types import UnionType
from typing import Any, Literal, get_args, get_origin

from daemon.durations import format_duration, parse_duration

_MISSING: Any = object()


class Duration(float):
    """Annotation marker: seconds, written `90s`, `5m`, `1h`, `3d` (or bare seconds)."""


SeverityName = Literal["INFO", "MEDIUM", "HIGH", "CRITICAL"]


class _Refused(Exception):
    """The fast path does not accept this input (pydantic decides)."""


class FieldInfo:
    """One declared field: its default and the bounds pydantic's `Field` would carry."""

    __slots__ = ("alias", "check", "default", "ge", "gt", "kind", "le", "min_length", "name")

    def __init__(self, default: Any = _MISSING, *, gt: float | None = None,
                 ge: float | None = None, le: float | None = None,
                 min_length: int | None = None, alias: str | None = None,
                 check: Callable[[Any], Any] | None = None) -> None:
        self.default, self.gt, self.ge, self.le = default, gt, ge, le
        self.min_length, self.alias, self.check = min_length, alias, check
        self.name = ""
        self.kind: Any = None

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    def bounds(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("gt", "ge", "le", "min_length")
                if getattr(self, k) is not None}


def Field(default: Any = _MISSING, **kw: Any) -> Any:
    return FieldInfo(default, **kw)


class Section:
    """A config table: strict, unknown keys refused, defaults from the declaration."""

    model_fields: typing.ClassVar[dict[str, FieldInfo]] = {}
    populate_by_name: typing.ClassVar[bool] = False
    frozen: typing.ClassVar[bool] = False  # True: no assignment after validation, hashable
    after: typing.ClassVar[Callable[[Any], Any] | None] = None

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        names = sys.modules[cls.__module__].__dict__
        fields: dict[str, FieldInfo] = dict(cls.model_fields)  # a subclass extends its base
        for name, text in cls.__annotations__.items():  # this class's own (3.10+)
            if name.startswith("_") or "ClassVar" in str(text):
                continue
            raw = cls.__dict__.get(name, _MISSING)
            info = raw if isinstance(raw, FieldInfo) else FieldInfo(raw)
            info.name, info.kind = name, eval(text, names) if isinstance(text, str) else text
            if info.kind is float and type(info.default) is int:  # `= 60` on a float field
                info.default = float(info.default)
            fields[name] = info
            if name in cls.__dict__:
                delattr(cls, name)
        cls.model_fields = fields

    def __init__(self, **data: Any) -> None:
        self.__dict__.update(validate(type(self), data).__dict__)

    # -- the parts of pydantic's model API the daemon and its tests use --------------------

    @classmethod
    def model_validate(cls, data: Any) -> Any:
        return validate(cls, data)

    @property
    def model_fields_set(self) -> set[str]:
        return self.__dict__["_fields_set"]

    def model_dump(self, *, mode: str = "python", by_alias: bool = False,
                   exclude_none: bool = False, include: set[str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, info in self.model_fields.items():
            if include is not None and name not in include:
                continue
            value = _dump(getattr(self, name), info.kind, mode, by_alias, exclude_none)
            if value is None and exclude_none:
                continue
            out[(info.alias or name) if by_alias else name] = value
        return out

    def model_dump_json(self) -> str:
        """Compact JSON as pydantic wrote it (floats in Python's spelling: `1e-06`, where
        pydantic wrote `1e-6`; the journal's signature, its one use, holds no float)."""
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"),
                          ensure_ascii=False)

    def __iter__(self) -> typing.Iterator[tuple[str, Any]]:
        """(name, value) of every field, as iterating a pydantic model gives (`dict(model)`)."""
        return ((name, getattr(self, name)) for name in self.model_fields)

    def __setattr__(self, name: str, value: Any) -> None:
        if self.frozen and name in self.model_fields:
            raise TypeError(f"{type(self).__name__} is frozen: {name} cannot be assigned")
        super().__setattr__(name, value)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return _state(self) == _state(other)

    def __hash__(self) -> int:
        if not self.frozen:  # mutable, like a pydantic model
            raise TypeError(f"unhashable type: {type(self).__name__!r}")
        return hash((type(self), tuple(repr(v) for _, v in self)))

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.model_fields)
        return f"{type(self).__name__}({inner})"


def _state(obj: Section) -> dict[str, Any]:
    return {k: v for k, v in obj.__dict__.items() if k != "_fields_set"}


def _dump(value: Any, kind: Any, mode: str, by_alias: bool, exclude_none: bool) -> Any:
    if isinstance(value, Section):
        return value.model_dump(mode=mode, by_alias=by_alias, exclude_none=exclude_none)
    if isinstance(value, list):
        item = _item_kind(kind)
        return [_dump(v, item, mode, by_alias, exclude_none) for v in value]
    if kind is Duration and isinstance(value, float):
        return format_duration(value)  # pydantic's PlainSerializer: in every mode
    if kind is float and type(value) is int:
        return float(value)  # serialized by the field's type, as pydantic did
    return value


def _item_kind(kind: Any) -> Any:
    args = get_args(kind)
    return args[0] if get_origin(kind) is list and args else None


# -- validation ---------------------------------------------------------------------------------

def validate(cls: type[Section], data: Any) -> Any:
    """`data` as a `cls`, or pydantic's ValidationError (the messages it always gave)."""
    try:
        return _fast(cls, data)
    except _Refused:
        pass
    model = pydantic_model(cls).model_validate(data)  # raises ValidationError if invalid
    return _from_model(cls, model)


def _fast(cls: type[Section], data: Any) -> Section:
    if isinstance(data, cls):
        return data
    if type(data) is not dict:
        raise _Refused
    given = dict(data)
    obj = cls.__new__(cls)
    seen: set[str] = set()
    for name, info in cls.model_fields.items():
        keys = [k for k in {info.alias or name, *([name] if cls.populate_by_name else [])}
                if k in given]
        if len(keys) > 1:
            raise _Refused
        if keys:
            obj.__dict__[name] = _value(info, given.pop(keys[0]))
            seen.add(name)
        elif info.required:
            raise _Refused
        else:
            obj.__dict__[name] = _default(info.default)
    if given:
        raise _Refused
    obj.__dict__["_fields_set"] = seen
    if cls.after is not None:
        _checked(cls.after, obj)
    return obj


def _checked(check: Callable[[Any], Any], value: Any) -> Any:
    try:
        return check(value)
    except ValueError:
        raise _Refused from None


def _default(value: Any) -> Any:
    if isinstance(value, Section):
        return _copy(value)
    return list(value) if isinstance(value, list) else value


def _copy(obj: Section) -> Section:
    new = type(obj).__new__(type(obj))
    new.__dict__.update({k: _default(v) if k != "_fields_set" else set(v)
                         for k, v in obj.__dict__.items()})
    return new


def _value(info: FieldInfo, raw: Any) -> Any:
    value = _typed(info.kind, raw)
    if info.min_length is not None and len(value) < info.min_length:
        raise _Refused
    for bound, ok in ((info.gt, lambda v, b: v > b), (info.ge, lambda v, b: v >= b),
                      (info.le, lambda v, b: v <= b)):
        if bound is not None and not ok(value, bound):
            raise _Refused
    return _checked(info.check, value) if info.check is not None else value


def _typed(kind: Any, raw: Any) -> Any:
    """`raw` if it is exactly of `kind` (ints widen to floats); else refused."""
    t = type(raw)
    if kind is str or kind is bool:
        if t is not kind:
            raise _Refused
        return raw
    if kind is int:
        if t is not int:
            raise _Refused
        return raw
    if kind is float:
        if t is not float and t is not int:
            raise _Refused
        return float(raw)
    if kind is Duration:
        return _typed(float, _checked(parse_duration, raw))
    return _typed_composite(kind, raw)


def _typed_composite(kind: Any, raw: Any) -> Any:
    origin, args = get_origin(kind), get_args(kind)
    if origin is Literal:
        if type(raw) is not str or raw not in args:
            raise _Refused
        return raw
    if origin is list:
        if type(raw) is not list:
            raise _Refused
        return [_typed(args[0], item) for item in raw]
    if origin is UnionType or origin is typing.Union:
        if raw is None and type(None) in args:
            return None
        return _typed(next(a for a in args if a is not type(None)), raw)
    if isinstance(kind, type) and issubclass(kind, Section):
        return _fast(kind, raw)
    raise _Refused


def _from_model(cls: type[Section], model: Any) -> Section:
    """A `cls` holding what pydantic validated (and coerced)."""
    obj = cls.__new__(cls)
    for name, info in cls.model_fields.items():
        obj.__dict__[name] = _from_value(info.kind, getattr(model, name))
    obj.__dict__["_fields_set"] = set(model.model_fields_set)
    return obj


def _from_value(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_from_value(_item_kind(kind), v) for v in value]
    if get_origin(kind) in (UnionType, typing.Union):
        kind = next(a for a in get_args(kind) if a is not type(None))
    if isinstance(kind, type) and issubclass(kind, Section):
        return _from_model(kind, value)
    return value


# -- the same declaration as a pydantic model (imported only when the fast path refuses) -------

_PYDANTIC: dict[type, Any] = {}


def pydantic_model(cls: type[Section]) -> Any:
    """The pydantic model of `cls`'s declaration: its messages are the config's errors."""
    if cls not in _PYDANTIC:
        _PYDANTIC[cls] = _build_pydantic(cls)
    return _PYDANTIC[cls]


def _build_pydantic(cls: type[Section]) -> Any:
    import os

    # pydantic looks up plugins in every installed package's entry points on the first model
    # it builds (tens of ms); burnin uses none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from pydantic import ConfigDict, create_model, field_validator, model_validator
    from pydantic import Field as PydanticField

    fields: dict[str, Any] = {}
    validators: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        extra = {**info.bounds(), **({"alias": info.alias} if info.alias else {})}
        default = ... if info.required else _pydantic_default(info.default)
        fields[name] = (_pydantic_type(info.kind), PydanticField(default, **extra))
        if info.check is not None:
            validators[f"_check_{name}"] = field_validator(name)(_field_check(info.check))
    if cls.after is not None:
        validators["_after"] = model_validator(mode="after")(_model_check(cls.after))
    config = ConfigDict(extra="forbid", validate_assignment=True, frozen=cls.frozen,
                        populate_by_name=cls.populate_by_name)
    return create_model(cls.__name__, __config__=config, __validators__=validators, **fields)


def _field_check(check: Callable[[Any], Any]) -> Any:
    def run(cls: Any, value: Any) -> Any:
        return check(value)
    return run


def _model_check(check: Callable[[Any], Any]) -> Any:
    def run(self: Any) -> Any:
        check(self)
        return self
    return run


def _pydantic_default(value: Any) -> Any:
    if isinstance(value, Section):  # a default table (`SystemCfg()`): pydantic's own defaults
        model = pydantic_model(type(value))
        return model() if not value.model_fields_set else model.model_validate(
            value.model_dump())
    return value


def _pydantic_type(kind: Any) -> Any:
    from typing import Annotated

    from pydantic import BeforeValidator, PlainSerializer

    if kind is Duration:
        return Annotated[float, BeforeValidator(parse_duration),
                         PlainSerializer(format_duration, return_type=str)]
    origin, args = get_origin(kind), get_args(kind)
    if origin is list:
        return list[_pydantic_type(args[0])]  # type: ignore[misc]
    if origin in (UnionType, typing.Union):
        inner = [_pydantic_type(a) for a in args]
        return typing.Union[tuple(inner)]  # noqa: UP007
    if isinstance(kind, type) and issubclass(kind, Section):
        return pydantic_model(kind)
    return kind
