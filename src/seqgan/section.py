"""The base of every config section, and the error every bad setting raises. Below both the
config (`seqgan.config`) and the methods' own option sections (`seqgan/methods/options/`), so
that a method can declare its section without importing the config that collects them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigError(ValueError):
    """A configuration problem; the message says where it is and what to change."""


class Section(BaseModel):
    """A config section: strict types, no unknown keys, attribute docstrings as descriptions.

    `problems()` returns the section's range and cross-field problems, each a sentence naming
    the key (`section.key=value must be ...`); the config's validator collects them."""

    model_config = ConfigDict(strict=True, extra="forbid", use_attribute_docstrings=True)

    def problems(self, prefix: str) -> list[str]:
        return []


def positive(section: Section, prefix: str, *keys: str) -> list[str]:
    """'prefix.key=v must be > 0' for each of `keys` that is not."""
    return [f"{prefix}.{k}={getattr(section, k)} must be > 0" for k in keys if not getattr(section, k) > 0]


def in_unit_interval(section: Section, prefix: str, *keys: str, open_low: bool = False) -> list[str]:
    """'prefix.key=v must be in [0, 1]' (or (0, 1]) for each of `keys` that is not."""
    out = []
    for k in keys:
        v = getattr(section, k)
        if not ((0.0 < v) if open_low else (0.0 <= v)) or not v <= 1.0:
            out.append(f"{prefix}.{k}={v} must be in {'(' if open_low else '['}0, 1]")
    return out
