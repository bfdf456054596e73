"""Loading the site configuration, with every problem reported as `FILE:LINE: key.path: message`.

The YAML is parsed once into a node tree (for line numbers and duplicate keys, which PyYAML would silently
collapse to the last one) and then constructed into plain data for pydantic. All problems found are
reported together, sorted by line, so an installer fixes a file in one pass instead of one error per run.

The schema itself lives in `edge.config_schema`; its models are re-exported here so callers need one import.
"""

import difflib
import os
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from edge import config_schema
from edge.config_schema import *  # noqa: F403  (re-exported: callers need one import)
from edge.config_schema import Config, PlateListConfig

__all__ = [*config_schema.__all__, "ConfigError", "Problem", "load_config", "validate_files"]

Loc = tuple[str | int, ...]

# Pydantic's wording names Python types and our class names; installers edit YAML, so say it in YAML terms.
_MESSAGES = {
    "model_type": "expected a mapping of keys",
    "model_attributes_type": "expected a mapping of keys",
    "dict_type": "expected a mapping of keys",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config: dotted key path (`cameras[1].url`, empty for the whole file),
    what is wrong, and the 1-based YAML line (the parent's line for a missing key; None when unknown)."""

    path: str
    message: str
    line: int | None = None

    def format(self, file: str | os.PathLike[str]) -> str:
        """`FILE:LINE: key.path: message`, the compiler-style line editors and CI logs can jump to."""
        where = f"{file}:{self.line}" if self.line is not None else str(file)
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(Exception):
    """A config that cannot be used; `problems` lists everything found, not just the first."""

    def __init__(self, problems: list[Problem], file: str | os.PathLike[str]) -> None:
        self.problems = problems
        self.file = file
        super().__init__("\n".join(problem.format(file) for problem in problems))


def load_config(path: str | os.PathLike[str], *, check_files: bool = False) -> Config:
    """Read, parse and validate a YAML config; raise ConfigError listing every problem.

    check_files=True also runs `validate_files` (with line numbers): what the daemon does at startup and
    `check-config --strict` does. Off by default so a config can be checked away from the gate box.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem("", f"cannot read the config file: {exc.strerror or exc}")], path) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem("", f"not UTF-8 text (bad byte at offset {exc.start})")], path) from exc
    try:
        data, lines, problems = _parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = f"YAML syntax error: {exc.problem or exc.context}"
        raise ConfigError([Problem("", message, line)], path) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([Problem("", f"YAML error: {exc}")], path) from exc
    if data is None:
        raise ConfigError(
            [Problem("", "the file is empty; expected a mapping (site, mqtt, cameras, ...)")], path
        )
    try:
        config = Config.model_validate(data, context={"base_dir": file.resolve().parent})
    except ValidationError as exc:
        problems += [_problem(error, lines) for error in exc.errors(include_url=False)]
    else:
        if check_files and not problems:
            problems += [
                Problem(_format_loc(loc), msg, _line(loc, lines)) for loc, msg in _file_checks(config)
            ]
    if problems:
        raise ConfigError(sorted(problems, key=lambda problem: problem.line or 0), path)
    return config


def validate_files(config: Config) -> list[Problem]:
    """Problems with what the config refers to on this machine: TLS files, password file, list files,
    camera video files, the models folder, and a state_dir that exists but is not a directory.

    Separate from schema validation because example configs legitimately name files that exist only on
    the gate box. Returns problems without line numbers (a Config does not remember its YAML).
    """
    return [Problem(_format_loc(loc), message) for loc, message in _file_checks(config)]


def _list_file_problems(file: Path) -> list[str]:
    """A list file that `run` would refuse (its encoding), decoded now so `check-config --strict` says so.
    Its entries are parsed (and typos logged) once, when `run` loads the lists."""
    from edge.lists import ListFileError, list_file_text  # the lists module needs no config at import

    try:
        list_file_text(file)
    except ListFileError as e:
        return [str(e)]
    return []


def _file_checks(config: Config) -> list[tuple[Loc, str]]:
    files: list[tuple[Loc, Path]] = []
    if config.mqtt.tls is not None:
        for name in ("ca_file", "cert_file", "key_file"):
            tls_file: Path | None = getattr(config.mqtt.tls, name)
            if tls_file is not None:
                files.append((("mqtt", "tls", name), tls_file))
    if config.mqtt.password_file is not None:
        files.append((("mqtt", "password_file"), config.mqtt.password_file))
    for name in ("allow", "deny"):
        plate_list: PlateListConfig | None = getattr(config.lists, name)
        if plate_list is not None:
            files.append((("lists", name, "file"), plate_list.file))
    files += [
        (("cameras", i, "url"), Path(cam.url)) for i, cam in enumerate(config.cameras) if not cam.is_stream
    ]

    problems: list[tuple[Loc, str]] = []
    for loc, file in files:
        if not file.is_file():
            problems.append((loc, f"file not found: {file}"))
        elif not os.access(file, os.R_OK):
            problems.append((loc, f"file not readable by this user: {file}"))
        elif loc[0] == "lists":
            problems += [(loc, problem) for problem in _list_file_problems(file)]
    if not config.recognition.models_dir.is_dir():
        problems.append(
            (("recognition", "models_dir"), f"directory not found: {config.recognition.models_dir}")
        )
    state_dir = config.storage.state_dir
    if state_dir.exists() and not state_dir.is_dir():
        problems.append((("storage", "state_dir"), f"exists but is not a directory: {state_dir}"))
    return problems


def _parse_yaml(text: str) -> tuple[Any, dict[Loc, int], list[Problem]]:
    """Data, the line of every key path, and duplicate-key problems. Raises yaml.YAMLError."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        lines: dict[Loc, int] = {(): node.start_mark.line + 1}
        duplicates: list[Problem] = []
        # Index before constructing: construction flattens `<<` merges into the node, which would make a
        # legitimate override of a merged key look like a duplicate.
        _index(node, (), lines, duplicates, frozenset())
        return loader.construct_document(node), lines, duplicates
    finally:
        loader.dispose()


def _index(
    node: yaml.Node, loc: Loc, lines: dict[Loc, int], duplicates: list[Problem], above: frozenset[int]
) -> None:
    if id(node) in above:  # a recursive alias (`&a [*a]`)
        return
    above = above | {id(node)}
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            key, line = key_node.value, key_node.start_mark.line + 1
            if key in first:
                message = f"duplicate key '{key}' (first at line {first[key]}); YAML would keep only this one"
                duplicates.append(Problem(_format_loc((*loc, key)), message, line))
            first.setdefault(key, line)
            lines[(*loc, key)] = line
            _index(value_node, (*loc, key), lines, duplicates, above)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            _index(item, (*loc, index), lines, duplicates, above)


def _problem(error: ErrorDetails, lines: dict[Loc, int]) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        message = _unknown_key(loc)
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "invalid_key":  # pydantic puts the offending key itself last in loc
        loc = loc[:-1]
        message = f"keys must be names, not {_show(error.get('input'))}: quote it (YAML reads "
        message += "unquoted yes/no/on/off/null and numbers as values)"
    elif kind in ("value_error", "assertion_error"):
        # Our own validators: their message is written for the installer (pydantic would prefix it).
        message = str(error.get("ctx", {}).get("error", error["msg"]))
    else:
        message = _MESSAGES.get(kind, error["msg"])
        if not any("password" in str(part) for part in loc):  # never echo anything near a secret
            message += f" (got {_show(error.get('input'))})"
    return Problem(_format_loc(loc), message, _line(loc, lines))


def _unknown_key(loc: Loc) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    known = [name for name, field in model.model_fields.items() if not field.exclude] if model else []
    match = difflib.get_close_matches(key, known, n=1)
    if match:
        return f"unknown key '{key}' (did you mean '{match[0]}'?)"
    return f"unknown key '{key}' (known keys: {', '.join(known)})" if known else f"unknown key '{key}'"


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class that validates the mapping at `loc`, found by walking the field annotations."""
    annotation: Any = Config
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            args = get_args(annotation)  # tuple[X, ...]
            if not args:
                return None
            annotation = args[0]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            if field is None:
                return None
            annotation = field.annotation
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
        else:
            return annotation


def _show(value: object) -> str:
    """A given value in YAML words, short: `'abc'`, `3`, `true`, `null`, `a mapping`, `a list`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value)
    return f"{text[:57]}..." if len(text) > 60 else text


def _format_loc(loc: Loc) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _line(loc: Loc, lines: dict[Loc, int]) -> int | None:
    # A missing key has no line of its own: fall back to the nearest enclosing key or list item.
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc)
