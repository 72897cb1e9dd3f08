"""Documentation placeholders in a stack file stop a real deployment.

The shipped stack files carry values that only document what goes there: all-ones / all-twos
object ids, a documentation IP range (RFC 5737), a runner VNet in a made-up subscription and a
workload image pinned to a made-up digest (one hex digit repeated).
They are valid config (so the offline plan and the tests run on the shipped files), but a real
``pulumi up`` or ``pulumi preview`` with any of them would create a cluster nobody can
administer, open the API server to a range nobody owns, or peer with a VNet that does not
exist. So the program refuses them, before registering any resource, unless it runs as the
offline plan (the offline runner says so, and only under Pulumi's mock runtime), where they
are listed as a warning.
"""

from __future__ import annotations

import os
import re
from ipaddress import IPv4Network
from uuid import UUID

import pulumi
from pulumi.runtime import mocks, settings

from infra.config.errors import ConfigError, show_value
from infra.config.model import PlatformConfig

OFFLINE_PLAN_ENV = "AKS_MLOPS_OFFLINE_PLAN"
"""Set to ``1`` by the offline runner for the duration of a run (ignored outside mocks)."""

# RFC 5737 documentation ranges: never routed on the internet.
DOCUMENTATION_RANGES = (
    IPv4Network("192.0.2.0/24"),
    IPv4Network("198.51.100.0/24"),
    IPv4Network("203.0.113.0/24"),
)
# A random GUID has 30 random hex digits (the version and variant nibbles are fixed); one with
# at most two distinct digits is made up (11111111-1111-4111-8111-111111111111, the mock
# subscription 00000000-0000-4000-8000-000000000001, the nil GUID).
_MAX_PLACEHOLDER_DIGITS = 2
_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)/", re.IGNORECASE)
# A real sha256 digest of 64 hex digits never repeats one digit throughout; the stack files
# document where the CI-built image's digest goes with `@sha256:000…0`.
_DIGEST = re.compile(r"@sha256:([0-9a-f]{64})$")


def is_placeholder_digest(image: str) -> bool:
    """True for an image pinned to a made-up digest (one hex digit repeated)."""
    match = _DIGEST.search(image)
    return match is not None and len(set(match.group(1))) == 1


class PlaceholderError(ConfigError):
    """A real deployment was asked for with documentation placeholders in the stack file."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        self.args = (
            f"the stack file still has {len(self.problems)} documentation placeholder(s); "
            f"replace them before a real deployment:\n{lines}",
        )

    def __str__(self) -> str:
        return str(self.args[0])


def is_placeholder_guid(value: str | UUID) -> bool:
    """True for a GUID with at most two distinct random digits (a made-up one)."""
    digits = str(value).replace("-", "").lower()
    if len(digits) != 32:
        return False
    random_part = digits[:12] + digits[13:16] + digits[17:]
    return len(set(random_part)) <= _MAX_PLACEHOLDER_DIGITS


def find_placeholders(cfg: PlatformConfig) -> list[str]:
    """One line per placeholder: the key, the value and what to put there."""
    found: list[str] = []

    def add(key: str, value: object, what: str) -> None:
        found.append(f"{key} ({show_value(value)}) is a documentation placeholder: {what}")

    for i, group in enumerate(cfg.cluster.admin_group_object_ids):
        if is_placeholder_guid(group):
            add(
                f"cluster.adminGroupObjectIds[{i}]",
                str(group),
                "put the object id of your Entra group of cluster admins there "
                "(az ad group show --group <name> --query id -o tsv)",
            )
    admin = cfg.postgres.entra_admin
    if admin is not None and is_placeholder_guid(admin.object_id):
        add(
            "postgres.entraAdmin.objectId",
            str(admin.object_id),
            "put the object id of the Entra group that administers PostgreSQL there "
            "(and its name in postgres.entraAdmin.principalName)",
        )
    for i, net in enumerate(cfg.cluster.api_server.authorized_ip_ranges):
        if any(net.subnet_of(doc) for doc in DOCUMENTATION_RANGES):
            add(
                f"cluster.apiServer.authorizedIpRanges[{i}]",
                str(net),
                "a documentation range (RFC 5737); put the public CIDRs your admins and CI "
                "reach the API server from there",
            )
    for key, vnet_id in sorted(cfg.network.peerings.items()):
        match = _SUBSCRIPTION.match(vnet_id)
        if match and is_placeholder_guid(match.group(1)):
            add(
                f"network.peerings.{key}",
                vnet_id,
                "the VNet is in a made-up subscription; put the resource id of your CI "
                "runners' VNet there",
            )
    image = cfg.release.images.workloads
    if image is not None and is_placeholder_digest(image):
        add(
            "release.images.workloads",
            image,
            "a made-up digest; put the digest CI pushed to this stack's registry there "
            "(make promote writes it)",
        )
    return found


def offline_plan_active() -> bool:
    """True only when the offline runner asked for it and the mock runtime is in use."""
    if os.environ.get(OFFLINE_PLAN_ENV) != "1":
        return False
    # A real engine never has a mock monitor: the variable alone cannot let placeholders
    # through a real `pulumi up`.
    return isinstance(settings.get_monitor(), mocks.MockMonitor)


def enforce_no_placeholders(cfg: PlatformConfig) -> list[str]:
    """Fail a real deployment on placeholders; in the offline plan, warn and return them."""
    found = find_placeholders(cfg)
    if found and not offline_plan_active():
        raise PlaceholderError(found)
    if found:
        keys = ", ".join(line.split(" ", 1)[0] for line in found)
        pulumi.log.warn(
            f"offline plan: {len(found)} documentation placeholder(s) a real deployment "
            f"refuses: {keys}"
        )
    return found
