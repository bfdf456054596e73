"""Building blocks of the config schema: the frozen, extra-forbidding base model, path and id types,
and the reconnect backoff shared by the broker and the cameras.

Relative paths resolve against the YAML file's folder (validation context ``base_dir``), so a site folder
can be moved whole; ids become MQTT topic levels and file names, hence the restricted character set.
"""

import os
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, model_validator

_SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")


def resolve_path(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    if base is None or value.is_absolute():
        return value
    return Path(os.path.normpath(Path(base) / value))


def check_slug(value: str) -> str:
    # Ids become MQTT topic levels and file names: keep them to a set that is safe in both.
    if not value or value[0] in "_-" or not set(value) <= _SLUG_CHARS:
        raise ValueError(
            f"'{value}' is not a valid id: use lower-case letters, digits, '-' and '_', "
            "starting with a letter or digit"
        )
    return value


ConfigPath = Annotated[Path, AfterValidator(resolve_path)]
Slug = Annotated[str, Field(max_length=64), AfterValidator(check_slug)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Backoff(StrictModel):
    """Reconnect backoff: wait `initial_s`, double after each failed attempt, never more than `max_s`."""

    initial_s: float = Field(
        default=1.0, gt=0, le=3600, description="Delay before the first reconnect attempt."
    )
    max_s: float = Field(default=30.0, gt=0, le=3600, description="Upper bound for the doubling delay.")

    @model_validator(mode="after")
    def _ordered(self) -> "Backoff":
        if self.max_s < self.initial_s:
            raise ValueError(f"max_s ({self.max_s}) must not be below initial_s ({self.initial_s})")
        return self
