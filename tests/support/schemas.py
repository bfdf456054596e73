"""Validate outputs against the JSON Schemas shipped in ``edge/schemas/``."""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from edge import jsonschemas


@cache
def _validator(name: jsonschemas.SchemaName) -> Draft202012Validator:
    schema = jsonschemas.load(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def assert_analysis(obj: Any) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``obj`` is a valid analysis object."""
    _validator("analysis").validate(obj)


def assert_error(obj: Any, status: int | None = None) -> None:
    """Raise unless ``obj`` is a valid error object (with ``status`` when given)."""
    _validator("error").validate(obj)
    if status is not None:
        assert obj["error"]["status"] == status, obj
