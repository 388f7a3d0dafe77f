"""Load any YAML file into a pydantic model strictly: every problem at once, with line and fix.

The catalog is loaded this way, and so is any other YAML the workbench reads (extract
policies, settings). One call does it all:

    policy = load_yaml_model("policy.yml", Policy, what="policy")

A loader that adds checks of its own (files exist, names refer to each other) passes them as
`checks`, or uses the steps one by one: `read_yaml` (the mapping and its line index),
`validate_model` (pydantic problems, translated), then its own problems made with
`YamlDocument.problem`, which names the line of any path in the file.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from dsar.errors import ConfigError, ConfigProblem

__all__ = [
    "Loc",
    "YamlDocument",
    "load_yaml_model",
    "read_yaml",
    "suggest",
    "validate_model",
]

M = TypeVar("M", bound=BaseModel)

Loc = tuple[str | int, ...]
"""A path into the file: mapping keys and list positions, e.g. `("rules", 0, "column")`."""

_SYNTAX_FIX = "fix the YAML syntax (indentation, a missing ':' or quote)"
_TOO_DEEP = "the file nests lists or mappings too deeply to be read"
_TOO_DEEP_FIX = "write it with the structure the documentation shows (a few levels deep)"


@dataclass(frozen=True)
class YamlDocument:
    """A YAML file read as a mapping, with the node tree that knows each key's line.

    Attributes:
        source: The file, as given.
        what: The kind of file, as messages name it ("catalog", "policy").
        data: The mapping, as PyYAML's safe loader builds it.
        node: The composed node tree; `line` and `where` look paths up in it.
        problems: Problems found while reading that do not stop validation (a key given
            twice). `validate_model` reports them first.
    """

    source: str
    what: str
    data: dict[str, Any]
    node: yaml.Node
    problems: tuple[ConfigProblem, ...] = ()

    def line(self, loc: Loc) -> int | None:
        """The 1-based line of the deepest key of `loc` present in the file (None for `()`)."""
        return _line_of(loc, self.node)

    def where(self, loc: Loc) -> str:
        """`loc` as messages show it: `tables.users.path (line 12)`."""
        dotted = ".".join(str(p) for p in loc) or self.what
        line = self.line(loc)
        return f"{dotted} (line {line})" if line is not None else dotted

    def problem(self, loc: Loc, message: str, fix: str) -> ConfigProblem:
        """A problem at `loc`, located by its line, for a caller's own checks."""
        return ConfigProblem(self.where(loc), message, fix)


def read_yaml(
    path: str | Path,
    *,
    what: str = "config",
    missing_fix: str | None = None,
    shape_fix: str | None = None,
) -> YamlDocument:
    """Read a YAML file whose top level is a mapping.

    Args:
        path: The file.
        what: The kind of file, as messages name it.
        missing_fix: The fix shown when the file does not exist.
        shape_fix: The fix shown when the file is empty or not a mapping.

    Raises:
        ConfigError: The file is missing, not UTF-8, not valid YAML, empty or not a mapping.
            These stop reading at once: there is nothing further to check.
    """
    path = Path(path)
    source = str(path)
    shape_fix = shape_fix or f"write the {what} as a YAML mapping of 'key: value' lines"

    def fail(where: str, message: str, fix: str) -> ConfigError:
        return ConfigError(source, [ConfigProblem(where, message, fix)], what=what)

    if not path.is_file():
        state = "is not a file" if path.exists() else "does not exist"
        raise fail(what, f"file {source} {state}", missing_fix or f"pass the path of your {what}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise fail(what, "the file is not UTF-8 text", "save it as UTF-8") from None
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # refuses control characters here already
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
        duplicates = list(_duplicate_keys(node, (), set())) if node is not None else []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else what
        problem = getattr(exc, "problem", None) or exc
        raise fail(where, f"not valid YAML: {problem}", _SYNTAX_FIX) from None
    except RecursionError:
        raise fail(what, _TOO_DEEP, _TOO_DEEP_FIX) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise fail(what, "the file is empty", shape_fix)
    if not isinstance(data, dict):
        raise fail(what, "the file is not a YAML mapping", shape_fix)
    twice = tuple(
        ConfigProblem(
            f"{'.'.join(map(str, loc))} (line {line})",
            f"key {loc[-1]!r} is given twice (first on line {first})",
            "keep one of them; YAML would silently use the last",
        )
        for loc, first, line in duplicates
    )
    return YamlDocument(source, what, data, node, twice)


def validate_model(doc: YamlDocument, model: type[M]) -> tuple[M | None, list[ConfigProblem]]:
    """Validate `doc` against `model`: the model (None if invalid) and every problem found.

    Each pydantic error becomes a problem with the line, and a fix: a did-you-mean and the
    allowed keys for an unknown key, the allowed values for an enum or literal, the field's
    description for a missing key or a wrong type. A validator's `ValueError("what; fix")`
    is shown as that message and fix.
    """
    problems = list(doc.problems)
    try:
        return model.model_validate(doc.data), problems
    except ValidationError as exc:
        return None, problems + [_from_pydantic(err, doc, model) for err in exc.errors()]
    except RecursionError:
        return None, [*problems, ConfigProblem(doc.what, _TOO_DEEP, _TOO_DEEP_FIX)]


def load_yaml_model(
    path: str | Path,
    model: type[M],
    *,
    what: str = "config",
    checks: Callable[[M, YamlDocument], Iterable[ConfigProblem]] | None = None,
) -> M:
    """Read a YAML file into `model`, or raise every problem in it at once.

    Args:
        path: The YAML file.
        model: A pydantic model; `extra="forbid"` and a description on every field give the
            best messages.
        what: The kind of file, as messages name it ("policy").
        checks: The caller's own checks, run when the model is valid; each problem it yields
            is made with `doc.problem(loc, message, fix)`.

    Raises:
        ConfigError: Carries every problem, each with its location, line and fix.

    Examples:
        >>> policy = load_yaml_model("policy.yml", Policy, what="policy")  # doctest: +SKIP
    """
    keys = [k for k, f in model.model_fields.items() if f.is_required()] or list(model.model_fields)
    doc = read_yaml(
        path,
        what=what,
        shape_fix=f"write a mapping that starts with the keys {', '.join(map(repr, keys))}",
    )
    value, problems = validate_model(doc, model)
    if value is not None and checks is not None:
        problems += checks(value, doc)
    if problems or value is None:
        raise ConfigError(doc.source, problems, what=what)
    return value


def suggest(value: str, choices: Iterable[str], otherwise: str) -> str:
    """A did-you-mean fix naming the closest of `choices`, or `otherwise` if none is close.

    Examples:
        >>> suggest("emial", ["email", "phone"], "name a column")
        "did you mean 'email'?"
    """
    close = difflib.get_close_matches(value, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else otherwise


def _from_pydantic(err: Any, doc: YamlDocument, root: type[BaseModel]) -> ConfigProblem:
    loc: Loc = tuple(err["loc"])
    kind = err["type"]
    path, _, field = _walk(root, loc)
    where = doc.where(path)
    if kind == "invalid_key":  # YAML 1.1 read a bare null, yes/no or on/off as no name
        return ConfigProblem(
            doc.where(path[:-1]),
            f"a key YAML reads as {loc[-1]} rather than as a name",
            "put the key in quotes: YAML reads a bare null, true, false, yes, no, on or off as"
            " a value, e.g. csv: {'null': 'NULL'}",
        )
    if kind == "extra_forbidden":
        key = str(loc[-1])
        _, model, _ = _walk(root, loc[:-1])
        allowed = sorted(model.model_fields) if model is not None else []
        fix = suggest(key, allowed, "remove it")
        if " " in key.strip():  # `{criteria: for the employment, then 7 years}`: the comma
            fix = (  # split the text, and its second half became a key
                "a comma inside {...} starts a new key: put the text that holds it in quotes,"
                ' e.g. criteria: "for the employment, then 7 years"'
            )
        elif allowed:
            fix += f" (allowed keys: {', '.join(allowed)})"
        return ConfigProblem(where, f"unknown key {key!r}", fix)
    if kind == "missing":
        key = str(loc[-1])
        hint = f" ({field.description.rstrip('.')})" if field and field.description else ""
        choices = _choices(field.annotation) if field is not None else []
        example = f", one of: {', '.join(choices)}" if choices else ""
        return ConfigProblem(where, f"missing required key {key!r}", f"add '{key}:'{hint}{example}")
    if kind in ("enum", "literal_error", "union_tag_invalid"):
        ctx = err.get("ctx", {})
        if kind == "union_tag_invalid":
            tag_key = str(ctx.get("discriminator", "")).strip("'\"")
            where = doc.where((*path, tag_key))
            given, expected = str(ctx.get("tag")), str(ctx.get("expected_tags", ""))
        else:
            given, expected = str(err.get("input")), str(ctx.get("expected", ""))
        options = [o.strip(" '\"") for o in expected.replace(" or ", ",").split(",")]
        options = [o for o in options if o]
        close = difflib.get_close_matches(given, options, n=1, cutoff=0.6)
        listed = ", ".join(options)
        fix = f"did you mean {close[0]!r}? (one of: {listed})" if close else f"use one of: {listed}"
        return ConfigProblem(where, f"{given!r} is not allowed here", fix)
    if kind == "union_tag_not_found":
        tag_key = str(err.get("ctx", {}).get("discriminator", "")).strip("'\"")
        members = _union_members(_unwrap(field.annotation)) if field is not None else []
        tags = [t for m in members for t in _choices(_field_type(m, tag_key))]
        example = f", one of: {', '.join(tags)}" if tags else ""
        return ConfigProblem(
            doc.where(path), f"missing required key {tag_key!r}", f"add '{tag_key}:'{example}"
        )
    if kind == "value_error":
        message = str(err["msg"]).removeprefix("Value error, ")
        text, _, fix = message.partition("; ")
        return ConfigProblem(where, text, fix or "correct the value")
    expected = field.description if field is not None and field.description else "a valid value"
    return ConfigProblem(where, str(err["msg"]), f"expected {expected}")


def _walk(root: type[BaseModel], loc: Loc) -> tuple[Loc, type[BaseModel] | None, FieldInfo | None]:
    """Follow a pydantic error location from `root`.

    Returns the path as written in the YAML file, the model at its end (if it ends in one)
    and the last model field passed. Pydantic puts the member a union value was tried as
    into the location (a tag such as 'hash', or a type name); that names no key of the file,
    so it is dropped from the path, and the member it names is followed.
    """
    tp: Any = root
    path: list[str | int] = []
    field: FieldInfo | None = None
    for part in loc:
        tp = _unwrap(tp)
        members = _union_members(tp)
        if members:
            tp = next((m for m in members if part in _tags(m)), None)
            continue
        path.append(part)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            tp = field.annotation if field is not None else None
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        elif origin in (list, tuple, set, frozenset):
            tp = typing.get_args(tp)[0]
        else:
            tp = None
    tp = _unwrap(tp)
    model = tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None
    return tuple(path), model, field


def _union_members(tp: Any) -> list[Any]:
    """The members of a union of two or more non-None types (pydantic tags these)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [_unwrap(a) for a in typing.get_args(tp) if a is not type(None)]
    return []


def _tags(member: Any) -> set[str]:
    """What pydantic may call a union member in a location: its type name or literal tags."""
    names = {getattr(member, "__name__", str(member))}
    if isinstance(member, type) and issubclass(member, BaseModel):
        for f in member.model_fields.values():
            if typing.get_origin(f.annotation) is typing.Literal:
                names |= {str(a) for a in typing.get_args(f.annotation)}
    return names


def _field_type(model: Any, name: str) -> Any:
    """The type of `model`'s field `name`, or None."""
    if isinstance(model, type) and issubclass(model, BaseModel) and name in model.model_fields:
        return model.model_fields[name].annotation
    return None


def _choices(tp: Any) -> list[str]:
    """The allowed values of an enum or literal field, for messages."""
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return [str(m.value) for m in tp]
    if typing.get_origin(tp) is typing.Literal:
        return [str(a) for a in typing.get_args(tp)]
    return []


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional (a union with None and one other type)."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _line_of(loc: Loc, node: yaml.Node | None) -> int | None:
    """The 1-based line of the deepest YAML node on the path `loc`.

    A key given twice resolves to its last occurrence, the value PyYAML keeps.
    """
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = None
            for key, value in node.value:
                if str(key.value) == str(part):
                    line, found = key.start_mark.line + 1, value
            if found is None:
                return line
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _duplicate_keys(node: yaml.Node, loc: Loc, seen: set[int]) -> Iterator[tuple[Loc, int, int]]:
    """(path, first line, repeated line) of each key given twice in one mapping.

    `seen` holds the nodes visited, so aliases (`*name`) are walked once.
    """
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            name, line = str(key.value), key.start_mark.line + 1
            if name in first:
                yield (*loc, name), first[name], line
            first.setdefault(name, line)
            yield from _duplicate_keys(value, (*loc, name), seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*loc, i), seen)
