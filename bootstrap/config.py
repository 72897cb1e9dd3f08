"""Typed config of the bootstrap stack (``aks-mlops-bootstrap:*``), validated before anything.

Same error style as the platform's config (``infra/config/errors.py``): every rejection names
the key, the value and the rule, e.g. ``stateStorageAccountName ("St-State") must be 3-24
lowercase letters or digits``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from pulumi.runtime import config as runtime_config
from pydantic import Field, ValidationError, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.errors import ConfigError, format_validation_error, rule_error, show_value

PROJECT = "aks-mlops-bootstrap"
PREVIEW = "preview"
"""Key of the read-only identity used by pull-request previews and drift detection."""

# Storage account names: 3-24 characters, numbers and lowercase letters only
# (https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftstorage).
_STORAGE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
# Container names: 3-63, lowercase letters, digits and single hyphens, start/end alphanumeric.
_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")
# Key Vault names: 3-24, alphanumerics and hyphens, start with a letter, end with a letter or
# digit, no consecutive hyphens.
_VAULT = re.compile(r"^(?=.{3,24}$)[a-zA-Z](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]$")
# Key names: 1-127 alphanumerics and hyphens.
_KEY = re.compile(r"^[a-zA-Z0-9-]{1,127}$")
# User-assigned identity names: 3-128, alphanumerics, hyphens and underscores, start alphanumeric.
_IDENTITY = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$")
_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# Azure DevOps workload-identity service connections: new connections use the Microsoft Entra
# issuer; older ones the Azure DevOps issuer, retired for single-tenant apps and managed
# identities on 2027-07-01. Subject and issuer are shown on the service connection (they are
# system generated with the Entra issuer, so they are copied, not computed):
# https://learn.microsoft.com/azure/devops/pipelines/release/convert-service-connections
_ADO_ENTRA_ISSUER = re.compile(rf"^https://login\.microsoftonline\.com/{_GUID}/v2\.0$")
_ADO_LEGACY_ISSUER = re.compile(rf"^https://vstoken\.dev\.azure\.com/{_GUID}$")


class AzureDevOpsFederation(ConfigModel):
    """The federated credential of one Azure DevOps workload-identity service connection."""

    issuer: str
    """Issuer shown on the service connection (Entra issuer, or the legacy Azure DevOps one)."""
    subject: str
    """Subject identifier shown on the service connection."""

    @model_validator(mode="after")
    def _issuer_matches_subject(self) -> AzureDevOpsFederation:
        if _ADO_ENTRA_ISSUER.match(self.issuer):
            if not self.subject.startswith("/eid1/"):
                raise rule_error(
                    "subject",
                    self.subject,
                    "must be the Entra subject shown on the service "
                    "connection (starts with /eid1/)",
                )
        elif _ADO_LEGACY_ISSUER.match(self.issuer):
            if not re.match(r"^sc://[^/]+/[^/]+/[^/]+$", self.subject):
                raise rule_error(
                    "subject", self.subject, "must be sc://<organization>/<project>/<connection>"
                )
        else:
            raise rule_error(
                "issuer",
                self.issuer,
                "must be https://login.microsoftonline.com/<tenant-id>/v2.0 or "
                "https://vstoken.dev.azure.com/<organization-id>",
            )
        return self


class IdentityConfig(ConfigModel):
    """A CI identity: a user-assigned managed identity and its federated credentials."""

    name: str
    """Azure name of the user-assigned identity."""
    azure_devops: AzureDevOpsFederation | None = Field(default=None, alias="azureDevOps")
    """The Azure DevOps service connection that signs in as this identity (None: GitHub only)."""

    @field_validator("name")
    @classmethod
    def _name_rule(cls, value: str) -> str:
        if not _IDENTITY.match(value):
            raise rule_error(
                "", value, "must be 3-128 letters, digits, '-' or '_', starting alphanumeric"
            )
        return value


class GitHubConfig(ConfigModel):
    """The GitHub repository whose workflows sign in by OIDC."""

    repository: str
    """``<owner>/<repo>``, exactly as GitHub spells it (subjects are case sensitive)."""

    @field_validator("repository")
    @classmethod
    def _repository_rule(cls, value: str) -> str:
        if not _REPOSITORY.match(value):
            raise rule_error("", value, "must be <owner>/<repo>")
        return value


class BootstrapConfig(ConfigModel):
    """Everything the bootstrap stack creates is named here; nothing is derived."""

    location: str
    resource_group_name: str
    state_storage_account_name: str
    state_storage_sku: Literal["Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_GZRS"] = (
        "Standard_ZRS"
    )
    state_container_name: str = "pulumi-state"
    blob_soft_delete_days: int = Field(default=30, ge=1, le=365)
    container_soft_delete_days: int = Field(default=30, ge=1, le=365)
    key_vault_name: str
    key_vault_soft_delete_retention_days: int = Field(default=90, ge=7, le=90)
    secrets_key_name: str = "pulumi-secrets"
    tags: dict[str, str] = Field(default_factory=dict)
    operator_group_object_ids: list[str] = Field(default_factory=list)
    """Entra groups of the people who run `pulumi` from a laptop: state and key access."""
    github: GitHubConfig
    environments: list[str] = Field(min_length=1)
    """Stacks deployed into this subscription (one bootstrap per subscription)."""
    identities: dict[str, IdentityConfig]
    """One per environment plus ``preview`` (read-only: pull requests and drift detection)."""

    @field_validator("state_storage_account_name")
    @classmethod
    def _storage_name_rule(cls, value: str) -> str:
        if not _STORAGE_ACCOUNT.match(value):
            raise rule_error("", value, "must be 3-24 lowercase letters or digits")
        return value

    @field_validator("state_container_name")
    @classmethod
    def _container_rule(cls, value: str) -> str:
        if not _CONTAINER.match(value):
            raise rule_error("", value, "must be 3-63 lowercase letters, digits, single '-'")
        return value

    @field_validator("key_vault_name")
    @classmethod
    def _vault_rule(cls, value: str) -> str:
        if not _VAULT.match(value):
            raise rule_error(
                "",
                value,
                "must be 3-24 letters, digits or single '-', starting with a letter",
            )
        return value

    @field_validator("secrets_key_name")
    @classmethod
    def _key_rule(cls, value: str) -> str:
        if not _KEY.match(value):
            raise rule_error("", value, "must be 1-127 letters, digits or '-'")
        return value

    @field_validator("operator_group_object_ids")
    @classmethod
    def _operators_rule(cls, value: list[str]) -> list[str]:
        for i, object_id in enumerate(value):
            if not re.fullmatch(_GUID, object_id):
                raise rule_error(f"[{i}]", object_id, "must be an Entra object id (a GUID)")
        return value

    @field_validator("environments")
    @classmethod
    def _environments_rule(cls, value: list[str]) -> list[str]:
        for i, env in enumerate(value):
            if not _ENVIRONMENT.match(env) or env == PREVIEW:
                raise rule_error(
                    f"[{i}]", env, f"must be a stack name (lowercase, digits, '-'), not {PREVIEW!r}"
                )
        if len(set(value)) != len(value):
            raise rule_error("", value, "must not repeat an environment")
        return value

    @model_validator(mode="after")
    def _every_environment_has_an_identity(self) -> BootstrapConfig:
        for env in [*self.environments, PREVIEW]:
            if env not in self.identities:
                raise rule_error(
                    f"identities.{env}",
                    None,
                    "is required: every environment (and the read-only preview) needs its "
                    "own deployment identity",
                )
        extra = sorted(set(self.identities) - {*self.environments, PREVIEW})
        if extra:
            raise rule_error(
                f"identities.{extra[0]}", extra[0], "is not an environment of this bootstrap"
            )
        names = [i.name for i in self.identities.values()]
        if len(set(names)) != len(names):
            raise rule_error("identities", names, "must have distinct names")
        return self


# Keys whose value stays a string even when it parses as JSON (a name of digits only).
_STRING_KEYS = frozenset(
    {
        "location",
        "resourceGroupName",
        "stateStorageAccountName",
        "stateStorageSku",
        "stateContainerName",
        "keyVaultName",
        "secretsKeyName",
    }
)


def _decode(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_bootstrap_config(raw: Mapping[str, Any]) -> BootstrapConfig:
    """Validate ``aks-mlops-bootstrap:<key>`` values; raises :class:`ConfigError` with all."""
    allowed = {f.alias or n for n, f in BootstrapConfig.model_fields.items()}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for full_key, value in raw.items():
        namespace, _, key = full_key.rpartition(":")
        if namespace and namespace != PROJECT:
            continue
        if key not in allowed:
            problems.append(f"{key} ({show_value(_decode(value))[:60]}) is not a known key")
            continue
        values[key] = value if key in _STRING_KEYS else _decode(value)
    try:
        model = BootstrapConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(problems + format_validation_error(exc)) from exc
    if problems:
        raise ConfigError(problems)
    return model


def from_pulumi_config() -> BootstrapConfig:
    """The bootstrap stack's config as the running program sees it."""
    merged: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return parse_bootstrap_config({k: v for k, v in merged.items() if k.startswith(f"{PROJECT}:")})
