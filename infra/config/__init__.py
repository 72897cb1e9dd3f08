"""Typed stack config (pydantic v2), validated before any resource is registered."""

from infra.config.errors import ConfigError
from infra.config.loader import from_pulumi_config, known_keys, parse_config
from infra.config.model import PlatformConfig

__all__ = ["ConfigError", "PlatformConfig", "from_pulumi_config", "known_keys", "parse_config"]
