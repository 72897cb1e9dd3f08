"""Resource names: CAF abbreviations, each Azure type's length and character rules checked.

Shape: ``<abbr>-<workload>-<env>-<region>[-<role>]`` where hyphens are allowed, and
``<abbr><workload><env><region><suffix>`` where they are not. Globally unique names (ACR,
storage, Key Vault, PostgreSQL) end in a short deterministic suffix derived from the
workload, stack, region and Azure subscription, so two stacks never collide, two users of the
same stack file in different subscriptions never collide, and a rerun never renames.
A stack name that is not already a short lowercase token is shortened and given a hash of
the original, so two different stacks never share a name.

Rules: https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
Abbreviations: https://learn.microsoft.com/azure/cloud-adoption-framework/ready/azure-best-practices/resource-abbreviations
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum


class NamingError(ValueError):
    """A name that cannot be made valid for its Azure type."""


class Kind(StrEnum):
    """Azure resource types the platform names."""

    RESOURCE_GROUP = "resource_group"
    VIRTUAL_NETWORK = "virtual_network"
    SUBNET = "subnet"
    NETWORK_SECURITY_GROUP = "network_security_group"
    PRIVATE_ENDPOINT = "private_endpoint"
    AKS_CLUSTER = "aks_cluster"
    AKS_DNS_PREFIX = "aks_dns_prefix"
    NODE_RESOURCE_GROUP = "node_resource_group"
    CONTAINER_REGISTRY = "container_registry"
    MANAGED_IDENTITY = "managed_identity"
    STORAGE_ACCOUNT = "storage_account"
    KEY_VAULT = "key_vault"
    POSTGRES_SERVER = "postgres_server"
    LOG_ANALYTICS = "log_analytics"
    AZURE_MONITOR_WORKSPACE = "azure_monitor_workspace"
    DATA_COLLECTION_ENDPOINT = "data_collection_endpoint"
    DATA_COLLECTION_RULE = "data_collection_rule"
    MANAGED_GRAFANA = "managed_grafana"
    ACTION_GROUP = "action_group"
    PROMETHEUS_RULE_GROUP = "prometheus_rule_group"
    NAT_GATEWAY = "nat_gateway"
    PUBLIC_IP = "public_ip"
    ROUTE_TABLE = "route_table"


@dataclass(frozen=True, kw_only=True)
class NameRule:
    """One Azure type's naming rule."""

    abbreviation: str
    min_length: int
    max_length: int
    pattern: str
    """Full-match regex for the whole name."""
    hyphens: bool
    """Whether segments are joined with hyphens (else concatenated)."""
    globally_unique: bool = False
    description: str


RULES: dict[Kind, NameRule] = {
    Kind.RESOURCE_GROUP: NameRule(
        abbreviation="rg",
        min_length=1,
        max_length=90,
        hyphens=True,
        pattern=r"[A-Za-z0-9._()-]*[A-Za-z0-9_()-]",
        description="1-90 alphanumerics, underscores, hyphens, periods, parentheses; "
        "not ending in a period",
    ),
    Kind.VIRTUAL_NETWORK: NameRule(
        abbreviation="vnet",
        min_length=2,
        max_length=64,
        hyphens=True,
        pattern=r"[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9_]",
        description="2-64 alphanumerics, underscores, periods, hyphens; start alphanumeric",
    ),
    Kind.SUBNET: NameRule(
        abbreviation="snet",
        min_length=1,
        max_length=80,
        hyphens=True,
        pattern=r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9_])?",
        description="1-80 alphanumerics, underscores, periods, hyphens",
    ),
    Kind.NETWORK_SECURITY_GROUP: NameRule(
        abbreviation="nsg",
        min_length=1,
        max_length=80,
        hyphens=True,
        pattern=r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9_])?",
        description="1-80 alphanumerics, underscores, periods, hyphens",
    ),
    Kind.PRIVATE_ENDPOINT: NameRule(
        abbreviation="pep",
        min_length=2,
        max_length=64,
        hyphens=True,
        pattern=r"[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9_]",
        description="2-64 alphanumerics, underscores, periods, hyphens",
    ),
    Kind.AKS_CLUSTER: NameRule(
        abbreviation="aks",
        min_length=1,
        max_length=63,
        hyphens=True,
        pattern=r"[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?",
        description="1-63 alphanumerics, underscores, hyphens; start and end alphanumeric",
    ),
    Kind.AKS_DNS_PREFIX: NameRule(
        abbreviation="aks",
        min_length=1,
        max_length=54,
        hyphens=True,
        pattern=r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?",
        description="1-54 alphanumerics and hyphens; start and end alphanumeric",
    ),
    Kind.NODE_RESOURCE_GROUP: NameRule(
        abbreviation="rg",
        min_length=1,
        max_length=80,
        hyphens=True,
        pattern=r"[A-Za-z0-9._()-]*[A-Za-z0-9_()-]",
        description="1-80 characters (AKS limit on the node resource group)",
    ),
    Kind.CONTAINER_REGISTRY: NameRule(
        abbreviation="cr",
        min_length=5,
        max_length=50,
        hyphens=False,
        globally_unique=True,
        pattern=r"[a-z0-9]+",
        description="5-50 lowercase alphanumerics, globally unique",
    ),
    Kind.MANAGED_IDENTITY: NameRule(
        abbreviation="id",
        min_length=3,
        max_length=128,
        hyphens=True,
        pattern=r"[A-Za-z0-9][A-Za-z0-9_-]*",
        description="3-128 alphanumerics, hyphens, underscores; start alphanumeric",
    ),
    Kind.STORAGE_ACCOUNT: NameRule(
        abbreviation="st",
        min_length=3,
        max_length=24,
        hyphens=False,
        globally_unique=True,
        pattern=r"[a-z0-9]+",
        description="3-24 lowercase letters and digits, globally unique",
    ),
    Kind.KEY_VAULT: NameRule(
        abbreviation="kv",
        min_length=3,
        max_length=24,
        hyphens=True,
        globally_unique=True,
        pattern=r"[A-Za-z](?!.*--)[A-Za-z0-9-]*[A-Za-z0-9]",
        description="3-24 alphanumerics and hyphens; start with a letter, end alphanumeric, "
        "no consecutive hyphens; globally unique",
    ),
    Kind.POSTGRES_SERVER: NameRule(
        abbreviation="psql",
        min_length=3,
        max_length=63,
        hyphens=True,
        globally_unique=True,
        pattern=r"[a-z0-9]([a-z0-9-]*[a-z0-9])?",
        description="3-63 lowercase letters, digits, hyphens; not starting or ending with a "
        "hyphen; globally unique",
    ),
    Kind.NAT_GATEWAY: NameRule(
        abbreviation="ng",
        min_length=1,
        max_length=80,
        hyphens=True,
        pattern=r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9_])?",
        description="1-80 alphanumerics, underscores, periods, hyphens; start alphanumeric, "
        "end alphanumeric or underscore",
    ),
    Kind.PUBLIC_IP: NameRule(
        abbreviation="pip",
        min_length=1,
        max_length=80,
        hyphens=True,
        pattern=r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9_])?",
        description="1-80 alphanumerics, underscores, periods, hyphens; start alphanumeric, "
        "end alphanumeric or underscore",
    ),
    Kind.ROUTE_TABLE: NameRule(
        abbreviation="rt",
        min_length=1,
        max_length=80,
        hyphens=True,
        pattern=r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9_])?",
        description="1-80 alphanumerics, underscores, periods, hyphens; start alphanumeric, "
        "end alphanumeric or underscore",
    ),
    Kind.LOG_ANALYTICS: NameRule(
        abbreviation="log",
        min_length=4,
        max_length=63,
        hyphens=True,
        pattern=r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?",
        description="4-63 alphanumerics and hyphens; start and end alphanumeric",
    ),
    # Not in CAF's list; "amw" is the abbreviation Azure's own samples use.
    Kind.AZURE_MONITOR_WORKSPACE: NameRule(
        abbreviation="amw",
        min_length=4,
        max_length=44,
        hyphens=True,
        pattern=r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?",
        description="4-44 alphanumerics and hyphens; start and end alphanumeric",
    ),
    Kind.DATA_COLLECTION_ENDPOINT: NameRule(
        abbreviation="dce",
        min_length=3,
        max_length=44,
        hyphens=True,
        pattern=r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?",
        description="3-44 alphanumerics and hyphens; start and end alphanumeric",
    ),
    Kind.DATA_COLLECTION_RULE: NameRule(
        abbreviation="dcr",
        min_length=3,
        max_length=64,
        hyphens=True,
        pattern=r"[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?",
        description="3-64 alphanumerics, underscores, periods, hyphens; start and end alphanumeric",
    ),
    Kind.MANAGED_GRAFANA: NameRule(
        abbreviation="amg",
        min_length=2,
        max_length=23,
        hyphens=True,
        pattern=r"[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]",
        description="2-23 alphanumerics and hyphens; start with a letter, end alphanumeric",
    ),
    Kind.ACTION_GROUP: NameRule(
        abbreviation="ag",
        min_length=1,
        max_length=260,
        hyphens=True,
        pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]",
        description="1-260 alphanumerics, underscores, periods, hyphens; not ending in a period",
    ),
    Kind.PROMETHEUS_RULE_GROUP: NameRule(
        abbreviation="prg",
        min_length=1,
        max_length=260,
        hyphens=True,
        pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]",
        description="1-260 alphanumerics, underscores, periods, hyphens; not ending in a period",
    ),
}

# Short region codes keep names inside the tighter limits (storage 24, Key Vault 24).
REGION_CODES: dict[str, str] = {
    "australiaeast": "aue",
    "brazilsouth": "brs",
    "canadacentral": "cac",
    "centralindia": "inc",
    "centralus": "cus",
    "eastasia": "ea",
    "eastus": "eus",
    "eastus2": "eus2",
    "francecentral": "frc",
    "germanywestcentral": "gwc",
    "italynorth": "itn",
    "japaneast": "jpe",
    "koreacentral": "krc",
    "northcentralus": "ncus",
    "northeurope": "neu",
    "norwayeast": "nwe",
    "polandcentral": "plc",
    "southafricanorth": "san",
    "southcentralus": "scus",
    "southeastasia": "sea",
    "swedencentral": "sdc",
    "switzerlandnorth": "szn",
    "uaenorth": "uan",
    "uksouth": "uks",
    "westeurope": "weu",
    "westus": "wus",
    "westus2": "wus2",
    "westus3": "wus3",
}

_TOKEN = re.compile(r"^[a-z][a-z0-9]{0,7}$")


def _hash(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def region_code(location: str) -> str:
    """A short code for the region; unknown regions get a hashed 4-character code."""
    return REGION_CODES.get(location, "r" + _hash(location, 3))


def environment_token(stack: str) -> str:
    """The stack name as a short lowercase token; reshaped names carry a hash of the original."""
    if _TOKEN.match(stack):
        return stack
    cleaned = re.sub(r"[^a-z0-9]", "", stack.lower())
    if cleaned and cleaned[0].isdigit():
        cleaned = "s" + cleaned
    return (cleaned[:4] or "s") + _hash(stack, 4)


SUFFIX_LENGTH = 6


def default_suffix(*, workload: str, stack: str, location: str, subscription_id: str) -> str:
    """The suffix of globally unique names when ``nameSuffix`` is not set.

    The subscription id is part of it: everyone deploying the shipped stack files would
    otherwise ask Azure for the same storage account, registry, vault and server names.
    """
    return _hash(f"{workload}|{stack}|{location}|{subscription_id.lower()}", SUFFIX_LENGTH)


class Namer:
    """Produces every resource name of one stack."""

    def __init__(
        self,
        *,
        workload: str,
        stack: str,
        location: str,
        subscription_id: str,
        suffix: str | None = None,
    ) -> None:
        self.workload = workload
        self.environment = environment_token(stack)
        self.region = region_code(location)
        self.suffix = suffix or default_suffix(
            workload=workload, stack=stack, location=location, subscription_id=subscription_id
        )

    def name(self, kind: Kind, role: str | None = None) -> str:
        """The name for ``kind`` (optionally for a ``role`` such as ``nodes``).

        Raises :class:`NamingError` naming the type, the value and the rule if it cannot
        be made valid.
        """
        rule = RULES[kind]
        core = [self.workload, self.environment, self.region]
        if role:
            core.append(role)
        if rule.hyphens:
            parts = [rule.abbreviation, *core]
            if rule.globally_unique:
                parts.append(self.suffix)
            candidate = "-".join(parts)
        else:
            candidate = rule.abbreviation + "".join(re.sub(r"[^a-z0-9]", "", p) for p in core)
            candidate = candidate[: rule.max_length - len(self.suffix)] + self.suffix
        if len(candidate) > rule.max_length:
            candidate = self._shorten(candidate, rule)
        return check(kind, candidate)

    def _shorten(self, candidate: str, rule: NameRule) -> str:
        # Keep the end (suffix / role) and a hash of the full name so shortened names
        # stay unique and stable.
        digest = _hash(candidate, 6)
        sep = "-" if rule.hyphens else ""
        keep = rule.max_length - len(digest) - len(sep)
        return (candidate[:keep].rstrip("-.") + sep + digest)[: rule.max_length]


def check(kind: Kind, name: str) -> str:
    """Return ``name`` if it satisfies ``kind``'s rule; raise :class:`NamingError` if not."""
    rule = RULES[kind]
    if not (rule.min_length <= len(name) <= rule.max_length) or not re.fullmatch(
        rule.pattern, name
    ):
        raise NamingError(f"{kind.value} name ({name!r}) must be {rule.description}")
    return name
