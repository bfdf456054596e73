"""Logging setup: human-readable text or one JSON object per line, standard library only.

Logs go to stderr, not stdout: commands such as `analyze` and `check-config` print their result on stdout
and must stay pipeable (`plate-edge analyze car.jpg | jq`). Under systemd both streams reach journald, so
the daemon loses nothing. Fields passed with `extra=` appear as JSON keys (or `key=value` in text), so
call sites log `log.info("plate read", extra={"camera": "entry", "plate": "12가3456"})`.
"""

import json
import logging
import sys
from datetime import datetime
from typing import Any, Literal, TextIO

__all__ = ["JsonFormatter", "TextFormatter", "setup_logging"]

# Attributes every LogRecord has; anything else on a record came from `extra=`. uvicorn adds
# `color_message` (the message with terminal colour codes) to its records: never a field of ours.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}

_handler: logging.Handler | None = None


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS and not k.startswith("_")}


def _timestamp(record: logging.LogRecord) -> str:
    # Local time with its UTC offset: unambiguous across DST changes and readable at the gate.
    return datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", ...extras, "exc"?}` on one line, Hangul unescaped.

    Values that are not JSON types are logged with str(); extras never overwrite the four fixed keys.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in _extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`2024-05-01T08:00:00.123+09:00 INFO    edge.camera: stream opened camera=entry fps=10`."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{key}={value}" for key, value in extras.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class _StdStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stdout``/``sys.stderr`` as they are when a record is emitted, not when configured:
    whoever swaps them later (pytest's capture, a daemon redirecting output) must not leave the handler
    writing to a closed stream."""

    def __init__(self, name: str) -> None:
        self._sys_attr = name
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        stream: TextIO = getattr(sys, self._sys_attr)
        return stream

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass  # always the current sys stream


def setup_logging(fmt: Literal["text", "json"], level: str | int, stream: TextIO | None = None) -> None:
    """Send all logging to `stream` (default stderr) in the given format at `level` (name or number).

    Calling it again replaces the handler it installed before (the daemon reconfigures once the config is
    read) but leaves other handlers on the root logger alone, such as pytest's capture handler.
    Raises ValueError for an unknown format or level name.
    """
    global _handler
    if fmt not in ("text", "json"):
        raise ValueError(f"unknown log format {fmt!r}: use 'text' or 'json'")
    if isinstance(level, str):
        levels = logging.getLevelNamesMapping()
        if level.upper() not in levels:
            raise ValueError(f"unknown log level {level!r}")
        level = levels[level.upper()]
    handler: logging.Handler
    if stream is None or stream is sys.stderr:
        handler = _StdStreamHandler("stderr")
    elif stream is sys.stdout:
        handler = _StdStreamHandler("stdout")
    else:
        handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    root.addHandler(handler)
    root.setLevel(level)
    _handler = handler
