"""Literal inputs for component tests (realistic Azure ids, as the mocks produce)."""

from __future__ import annotations

SUB = "00000000-0000-4000-8000-000000000001"
RG = "rg-mlops-unit-weu"
VNET_ID = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/"
    "virtualNetworks/vnet-unit"
)
NODES_SUBNET_ID = f"{VNET_ID}/subnets/snet-nodes"
PEP_SUBNET_ID = f"{VNET_ID}/subnets/snet-pep"
API_SUBNET_ID = f"{VNET_ID}/subnets/snet-api"
TENANT = "00000000-0000-4000-8000-000000000002"
ADMIN_GROUP = "11111111-1111-4111-8111-111111111111"
ZONE_ID = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/"
    "privateDnsZones/privatelink.azurecr.io"
)
