"""Site profiles shipped with snipe, plus the user's own in `<data dir>/profiles/`."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from snipe.domain.site import SiteProfile
from snipe.errors import ConfigError

DEFAULT_PROFILE = "x-tudelft"
NAME = re.compile(r"^[A-Za-z0-9-]{1,60}$")


def check_name(name: str) -> str:
    """A profile is named, never a path: letters, digits and '-'."""
    if not isinstance(name, str) or not NAME.match(name):
        raise ConfigError(f"site profile name {str(name)[:80]!r} is not a name (letters, digits "
                          "and '-' only)")
    return name


def builtin_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".json")
        for p in resources.files(__package__).iterdir()
        if p.name.endswith(".json")
    )


def _raw(name: str, user_dir: Path | None) -> dict[str, Any]:
    check_name(name)
    if user_dir is not None and (user_dir / f"{name}.json").is_file():
        path = user_dir / f"{name}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"site profile {path} is not readable JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"site profile {path} is not a JSON object")
        return data
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
    """The profile called `name` (the user's own in `user_dir` first, e.g. `<data dir>/profiles`),
    optionally moved to another base URL."""
    check_name(name)
    try:
        if user_dir is not None and _has_own(user_dir, name):
            profile = SiteProfile.from_dict(load_profile_data(name, user_dir))
        else:
            profile = _builtin(name)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"site profile {name!r} is malformed: {exc}") from None
    return profile.with_base_url(base_url) if base_url else profile


def _has_own(user_dir: Path, name: str) -> bool:
    """Does the user's folder hold this profile, or one it extends?"""
    seen: set[str] = set()
    while name and name not in seen:
        seen.add(name)
        path = user_dir / f"{name}.json"
        if path.is_file():
            return True
        resource = resources.files(__package__) / f"{name}.json"
        if not resource.is_file():
            return False
        name = json.loads(resource.read_text(encoding="utf-8")).get("extends") or ""
    return False
