"""The JSON Schemas shipped with the package (``edge/schemas/*.json``): what integrators validate against.

``analysis``: the analysis object of design.md (``plate-edge/analysis/1``); ``error``: the error object of
the HTTP API and of `plate-edge analyze`. Loaded through importlib.resources so they work from a wheel.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any, Literal

SchemaName = Literal["analysis", "error"]


@cache
def load(name: SchemaName) -> dict[str, Any]:
    """The parsed schema ``edge/schemas/<name>.schema.json`` (cached; do not mutate it)."""
    text = files("edge").joinpath("schemas", f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
