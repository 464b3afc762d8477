"""Site profiles shipped with snipe, plus the user's own in `<data dir>/profiles/`."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from snipe.domain.site import SiteProfile
from snipe.errors import ConfigError

DEFAULT_PROFILE = "x-tudelft"


def builtin_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".json")
        for p in resources.files(__package__).iterdir()
        if p.name.endswith(".json")
    )


def _raw(name: str, user_dir: Path | None) -> dict[str, Any]:
    candidates = []
    if user_dir is not None:
        candidates.append(user_dir / f"{name}.json")
    for path in candidates:
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    resource = resources.files(__package__) / f"{name}.json"
    if not resource.is_file():
        known = ", ".join(builtin_names())
        raise ConfigError(f"unknown site profile {name!r} (known: {known})")
    return json.loads(resource.read_text(encoding="utf-8"))


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_profile_data(name: str, user_dir: Path | None = None) -> dict[str, Any]:
    data = _raw(name, user_dir)
    seen = {name}
    while parent := data.pop("extends", None):
        if parent in seen:
            raise ConfigError(f"site profile {name!r} extends itself through {parent!r}")
        seen.add(parent)
        data = _merge(_raw(parent, user_dir), data)
    return data


@cache
def _builtin(name: str) -> SiteProfile:
    return SiteProfile.from_dict(load_profile_data(name))


def load_profile(
    name: str = DEFAULT_PROFILE, base_url: str | None = None, user_dir: Path | None = None
) -> SiteProfile:
    """The profile called `name`, optionally moved to another base URL."""
    try:
        if user_dir is not None and (user_dir / f"{name}.json").is_file():
            profile = SiteProfile.from_dict(load_profile_data(name, user_dir))
        else:
            profile = _builtin(name)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"site profile {name!r} is malformed: {exc}") from None
    return profile.with_base_url(base_url) if base_url else profile
