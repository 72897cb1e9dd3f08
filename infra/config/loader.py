"""Read ``aks-mlops:*`` config into :class:`PlatformConfig`, or fail with every problem.

Works the same under ``pulumi up`` (values from the engine), under the offline plan and in
tests (values from ``pulumi.runtime.set_all_config``). Unknown keys are errors, so a typo
in a stack file never silently falls back to a default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi.runtime import config as runtime_config
from pydantic import ValidationError

from infra.config.errors import ConfigError, format_validation_error, show_value
from infra.config.model import PlatformConfig

PROJECT = "aks-mlops"
# Keys whose value is a plain string even when it parses as JSON (e.g. a version "1.35").
_STRING_KEYS = frozenset({"workload", "location", "nameSuffix"})


def known_keys() -> set[str]:
    """The top-level config keys (camelCase) a stack file may set."""
    return {f.alias or name for name, f in PlatformConfig.model_fields.items()}


def _decode(key: str, raw: Any) -> Any:
    if not isinstance(raw, str) or key in _STRING_KEYS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_config(raw: Mapping[str, Any]) -> PlatformConfig:
    """Validate a mapping of ``aks-mlops:<key>`` (or bare ``<key>``) to values.

    Structured values may be JSON strings (as the Pulumi engine passes them) or already
    decoded. Raises :class:`ConfigError` listing every problem.
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    allowed = known_keys()
    for full_key, value in raw.items():
        namespace, _, key = full_key.rpartition(":")
        if namespace and namespace != PROJECT:
            continue
        if key not in allowed:
            problems.append(
                f"{key} ({show_value(_decode(key, value))[:60]}) is not a known key "
                f"(known: {', '.join(sorted(allowed))})"
            )
            continue
        values[key] = _decode(key, value)
    try:
        model = PlatformConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(problems + format_validation_error(exc)) from exc
    if problems:
        raise ConfigError(problems)
    return model


def from_pulumi_config() -> PlatformConfig:
    """The stack's config as the running Pulumi program sees it."""
    # Pulumi's Python SDK has no public way to list config keys; the engine's values are in
    # the runtime's CONFIG map (and, for older engines, the PULUMI_CONFIG environment bag).
    merged: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return parse_config({k: v for k, v in merged.items() if k.startswith(f"{PROJECT}:")})
