"""Read settings from the environment; a bad value stops start-up with a clear message."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no, got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_minutes_by_name(name: str, default: dict[str, int]) -> dict[str, int]:
    """ "vip:15, enterprise:10" → {"vip": 15, "enterprise": 10}; fails loudly on anything else."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    result = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key, _, minutes = item.partition(":")
        try:
            result[key.strip().lower()] = int(minutes)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: give name:minutes pairs, e.g. vip:15, got {item!r}"
            ) from None
    return result


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).resolve() if raw else default
