"""Dataclass <-> plain-JSON dict, with one rule for unknown keys and schema versions.

Every saved result, config and record of ``hardware`` and ``qaoa_meta`` is a dataclass whose
``to_dict``/``to_json`` and ``from_dict``/``from_json`` call :func:`to_dict` and
:func:`from_dict` here with a :class:`Schema` that declares what is special about the class;
most get those four methods from the mixin :class:`Serializable`.

Writing (:func:`to_dict`): one key per field, in field order, after ``schema_version`` (when
the schema writes one) and the class's tag (e.g. ``"type": "MaxCutProblem"``); nested
dataclasses are written by their own ``to_dict`` (field by field when they have none),
tuples become lists, NumPy arrays nested lists and NumPy scalars Python numbers, enums their
value and paths strings (:func:`to_json_value`).

Reading (:func:`from_dict`), the one rule:

* a tag with another value raises (the dict is some other record);
* a dict without ``schema_version`` is version 1, so files written before the key existed
  still load; a version newer than the class's :attr:`Schema.version` raises a
  :class:`ValueError` naming the class, the version found and the version supported;
* keys a class renamed are read under their new name (:attr:`Schema.renamed`), declared
  legacy keys are dropped (:attr:`Schema.legacy`, each with the records that carry it), and
  any other key that is not a field raises a :class:`ValueError` naming the unknown keys and
  the known ones; missing fields take their defaults, and a missing required field raises;
* values are decoded from the field's annotation: nested dataclasses through their
  ``from_dict``, lists, tuples and dicts element by element, ints into float fields as
  floats, lists into ``np.ndarray`` fields as arrays, enum values and paths into their types;
  a field with a :attr:`Schema.decode` hook is decoded by that hook instead. The class's
  constructor then validates the values as usual.

Standard library and NumPy only: no Cirq, so ``qaoa_meta`` reads its records without it.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import json
import os
import pathlib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal, Self, TypeVar

import numpy as np

SCHEMA_KEY = "schema_version"
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Schema:
    """What is special about how one dataclass is saved and read.

    Attributes:
        version: the schema version this code writes and reads (>= 1); dicts without
            ``schema_version`` are version 1, newer ones are refused.
        write_version: write ``schema_version`` into the dict. False for classes whose dicts
            sit inside a record that carries the version, or whose files never had one.
        tag: ``(key, value)`` written into every dict (e.g. ``("type", "MaxCutProblem")``);
            a dict without the key is accepted, one with another value is refused.
        renamed: old key -> field name, so files written before a rename keep loading.
        legacy: key -> the committed records that carry it: keys that are accepted and
            dropped (settings that no longer exist).
        derived: key -> function of the object: values written for readers (a summary, a
            rate) that are computed from the fields; dropped when reading.
        encode: field -> function giving the field's JSON value (for values
            :func:`to_json_value` cannot write, e.g. Cirq objects).
        decode: field -> function reading the field's JSON value back (custom decoding:
            Cirq objects, older forms of a value, an array's dtype: :func:`array`); a null
            value is read as None without it.
        defaults: field -> factory for the value of a key the dict lacks, where the
            dataclass default describes a new object and not an old record (e.g. the
            package versions at creation).
        hint: appended to every error message: where such files come from.
    """

    version: int = 1
    write_version: bool = True
    tag: tuple[str, str] | None = None
    renamed: Mapping[str, str] = dataclasses.field(default_factory=dict)
    legacy: Mapping[str, str] = dataclasses.field(default_factory=dict)
    derived: Mapping[str, Callable[[Any], Any]] = dataclasses.field(default_factory=dict)
    encode: Mapping[str, Callable[[Any], Any]] = dataclasses.field(default_factory=dict)
    decode: Mapping[str, Callable[[Any], Any]] = dataclasses.field(default_factory=dict)
    defaults: Mapping[str, Callable[[], Any]] = dataclasses.field(default_factory=dict)
    hint: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValueError(f"Schema version must be an integer >= 1, got {self.version!r}.")


PLAIN = Schema(write_version=False)
"""Version 1, no ``schema_version`` written, no hooks: the schema of a plain dataclass."""


# --- writing ---------------------------------------------------------------------------------
def to_json_value(value: Any) -> Any:
    """A value as plain JSON types (dict, list, str, int, float, bool, None).

    Args:
        value: a JSON value, a dataclass (written by its ``to_dict`` when it has one, else
            field by field), a mapping, list or tuple (element by element), a NumPy array or
            scalar, an enum member (its value) or a path (its string).

    Returns:
        The JSON-ready value.

    Raises:
        TypeError: for any other type (give the field an :attr:`Schema.encode` hook).
    """
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        writer = getattr(value, "to_dict", None)
        return writer() if callable(writer) else to_dict(value)
    if isinstance(value, enum.Enum):
        return to_json_value(value.value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {key: to_json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(item) for item in value]
    raise TypeError(
        f"Cannot write a {type(value).__name__} as JSON: {value!r}; give its field an "
        "encode hook in the class's Schema."
    )


def to_dict(obj: Any, schema: Schema = PLAIN) -> dict[str, Any]:
    """A dataclass instance as a JSON-ready dict.

    Args:
        obj: the dataclass instance.
        schema: the class's :class:`Schema`.

    Returns:
        ``schema_version`` (when ``schema.write_version``), the tag, then one key per field in
        field order (a ``schema_version`` field is written once, as the schema's version),
        then the derived keys.

    Raises:
        TypeError: for a value :func:`to_json_value` cannot write.
    """
    data: dict[str, Any] = {}
    if schema.write_version:
        data[SCHEMA_KEY] = schema.version
    if schema.tag is not None:
        data[schema.tag[0]] = schema.tag[1]
    for field in dataclasses.fields(obj):
        if field.name == SCHEMA_KEY:
            continue
        value = getattr(obj, field.name)
        encode = schema.encode.get(field.name, to_json_value)
        data[field.name] = encode(value)
    for key, compute in schema.derived.items():
        data[key] = to_json_value(compute(obj))
    return data


def to_json(obj: Any, schema: Schema = PLAIN, **dumps: Any) -> str:
    """:func:`to_dict` as JSON text.

    Args:
        obj: the dataclass instance.
        schema: the class's :class:`Schema`.
        **dumps: options passed to :func:`json.dumps` (e.g. ``indent``).

    Returns:
        The JSON text.
    """
    return json.dumps(to_dict(obj, schema), **dumps)


# --- reading ---------------------------------------------------------------------------------
def schema_version(name: str, data: Mapping[str, Any], supported: int, hint: str = "") -> int:
    """The ``schema_version`` of a dict (1 when absent), checked against ``supported``.

    Args:
        name: what the dict holds, for the message (e.g. the class name).
        data: the dict.
        supported: the newest version the reader knows.
        hint: appended to the messages.

    Returns:
        The version.

    Raises:
        ValueError: for a version that is not an integer >= 1, or one newer than
            ``supported``.
    """
    version = data.get(SCHEMA_KEY, 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(
            f"{name} schema_version must be an integer >= 1, got {version!r}{_hint(hint)}."
        )
    if version > supported:
        raise ValueError(
            f"{name} schema_version {version} is newer than the version this code reads "
            f"({supported}); a newer version wrote it: upgrade to read it{_hint(hint)}."
        )
    return version


def from_dict(cls: type[T], data: Mapping[str, Any], schema: Schema = PLAIN) -> T:
    """A dataclass from a dict written by :func:`to_dict` (or an older version of it).

    Args:
        cls: the dataclass.
        data: the dict (parsed JSON or YAML).
        schema: the class's :class:`Schema`.

    Returns:
        ``cls(**fields)``, the values decoded as the module docstring says.

    Raises:
        ValueError: for a non-dict, a newer or invalid ``schema_version``, another tag,
            unknown keys (the message names them, close matches and the known keys), missing
            required fields, or anything the constructor refuses.
        TypeError: for what the constructor refuses as a type.
    """
    name = cls.__name__
    if not isinstance(data, Mapping):
        raise ValueError(
            f"A {name} record must be a JSON object of its fields, got "
            f"{type(data).__name__}{_hint(schema.hint)}."
        )
    data = dict(data)
    if schema.tag is not None:
        key, expected = schema.tag
        found = data.pop(key, expected)
        if found != expected:
            raise ValueError(
                f"Not a {name} record: {key} is {found!r}, expected {expected!r}"
                f"{_hint(schema.hint)}."
            )
    schema_version(name, data, schema.version, schema.hint)
    data.pop(SCHEMA_KEY, None)
    for old, new in schema.renamed.items():
        if old in data:
            if new in data:
                raise ValueError(
                    f"A {name} record has both {old!r} and its new name {new!r}; keep one"
                    f"{_hint(schema.hint)}."
                )
            data[new] = data.pop(old)
    for key in (*schema.legacy, *schema.derived):
        data.pop(key, None)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and f.name != SCHEMA_KEY}
    unknown = sorted((key for key in data if key not in fields), key=str)
    if unknown:
        known = list(fields)
        hints = [
            f"{key!r} -> {close[0]!r}"
            for key in unknown
            if (close := difflib.get_close_matches(str(key), known, n=1))
        ]
        raise ValueError(
            f"Unknown {name} keys {unknown}"
            + (f" (did you mean {', '.join(hints)}?)" if hints else "")
            + f"; expected some of {known}{_hint(schema.hint)}."
        )
    for key, factory in schema.defaults.items():
        if key not in data:
            data[key] = factory()
    missing = [
        f.name
        for f in fields.values()
        if f.name not in data
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ValueError(
            f"A {name} record needs the keys {missing}; got {sorted(data, key=str)}"
            f"{_hint(schema.hint)}."
        )
    types_ = _field_types(cls)
    values = {}
    for key, value in data.items():
        decode = schema.decode.get(key)
        if decode is not None and value is not None:
            values[key] = decode(value)
        else:
            values[key] = _decode(types_.get(key, Any), value)
    return cls(**values)


def array(dtype: Any) -> Callable[[Any], np.ndarray]:
    """A :attr:`Schema.decode` hook reading nested lists as an array of ``dtype``.

    Args:
        dtype: the NumPy dtype (e.g. ``float``).

    Returns:
        ``lambda value: np.asarray(value, dtype)``.
    """
    return functools.partial(np.asarray, dtype=dtype)


def from_json(cls: type[T], text: str | bytes, schema: Schema = PLAIN) -> T:
    """:func:`from_dict` of JSON text.

    Args:
        cls: the dataclass.
        text: the JSON text.
        schema: the class's :class:`Schema`.

    Returns:
        ``cls(**fields)``, as :func:`from_dict`.

    Raises:
        ValueError: for invalid JSON (:class:`json.JSONDecodeError`) or as :func:`from_dict`.
    """
    return from_dict(cls, json.loads(text), schema)


class Serializable:
    """Mixin giving a dataclass ``to_dict``/``from_dict``/``to_json``/``from_json`` by its schema.

    The dataclass sets the class attribute ``_schema`` (a ``ClassVar``, so not a field) to its
    :class:`Schema`, ``_json_sort_keys`` to True where its JSON files should list keys
    sorted, and ``_json_indent`` to the indentation of its JSON files (None: one line).
    """

    _schema: ClassVar[Schema] = PLAIN
    _json_sort_keys: ClassVar[bool] = False
    _json_indent: ClassVar[int | None] = None

    def to_dict(self) -> dict[str, Any]:
        """This object as plain JSON types (:func:`to_dict` with the class's schema).

        Returns:
            A dict of the fields (after ``schema_version`` and the tag, where the schema
            writes them); :meth:`from_dict` reads it back.
        """
        return to_dict(self, self._schema)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of :meth:`to_dict` (:func:`from_dict` with the class's schema).

        Args:
            data: a mapping written by :meth:`to_dict`; missing keys with a default take it.

        Returns:
            The object.

        Raises:
            ValueError: for a newer ``schema_version``, another tag, an unknown key (the
                message names the known ones), a missing required key, or a value the
                constructor refuses.
        """
        return from_dict(cls, data, cls._schema)

    def to_json(self, indent: int | None | Literal["class"] = "class") -> str:
        """This object as JSON text.

        Args:
            indent: ``json.dumps`` indentation (None: one line); ``"class"`` for the class's
                ``_json_indent``.

        Returns:
            The JSON of :meth:`to_dict`; :meth:`from_json` reads it back.
        """
        indent = self._json_indent if indent == "class" else indent
        return json.dumps(self.to_dict(), indent=indent, sort_keys=self._json_sort_keys)

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """Inverse of :meth:`to_json`.

        Args:
            text: JSON written by :meth:`to_json`.

        Returns:
            The object.

        Raises:
            ValueError: for invalid JSON (:class:`json.JSONDecodeError`), or as
                :meth:`from_dict`.
        """
        return cls.from_dict(json.loads(text))


def _hint(hint: str) -> str:
    return f"; {hint}" if hint else ""


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except NameError:  # an annotation only importable for type checkers: read as Any
        return {}


def _decode(hint: Any, value: Any) -> Any:
    """``value`` read for a field annotated ``hint`` (unchanged where the shapes differ:
    the constructor then says what is wrong)."""
    if value is None or hint is Any:
        return value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = [arg for arg in args if arg is not type(None)]
        return _decode(options[0], value) if len(options) == 1 else value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        reader = getattr(hint, "from_dict", None)
        return reader(value) if callable(reader) else from_dict(hint, value)
    if origin in (list, Sequence) and isinstance(value, list):
        return [_decode(args[0], item) for item in value] if args else list(value)
    if origin is tuple and isinstance(value, list | tuple):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in value)
        if args and len(args) == len(value):
            return tuple(_decode(arg, item) for arg, item in zip(args, value, strict=True))
        return tuple(value)
    if origin in (dict, Mapping) and isinstance(value, Mapping):
        item_type = args[1] if len(args) == 2 else Any
        return {key: _decode(item_type, item) for key, item in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is np.ndarray and isinstance(value, list | int | float):
        return np.asarray(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if isinstance(hint, type) and issubclass(hint, pathlib.PurePath) and isinstance(value, str):
        return hint(value)
    return value


__all__ = [
    "PLAIN",
    "SCHEMA_KEY",
    "Schema",
    "Serializable",
    "array",
    "from_dict",
    "from_json",
    "schema_version",
    "to_dict",
    "to_json",
    "to_json_value",
]
