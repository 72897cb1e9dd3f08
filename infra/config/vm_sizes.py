"""What a VM size's name says about it: vCPU count and the burstable (B) series.

Azure size names read ``Standard_<family><vCPUs><features>[_<accelerator>][_v<version>]``,
e.g. ``Standard_D4ds_v5`` (4 vCPUs) or ``Standard_NC24ads_A100_v4`` (24). Two old families
number their sizes differently; their vCPU counts come from a table (Learn, "Dv2 and DSv2-series"
https://learn.microsoft.com/azure/virtual-machines/dv2-dsv2-series, and "G-series"):
Dv1/Dv2 (``D1``..``D5``, ``D11``..``D15``, also ``DS``) and G/GS. A name that matches no
known shape yields ``None``: the rules then leave it to Azure rather than guess.
"""

from __future__ import annotations

import re

_SIZE = re.compile(
    r"^Standard_(?P<family>[A-Z]+)(?P<number>\d+)(?P<features>[a-z]*)(?:_(?P<rest>[A-Za-z0-9_]+))?$"
)
_VERSION = re.compile(r"(?:^|_)v(?P<version>\d+)(?:_|$)")
# Dv1/Dv2 and DSv1/DSv2: size number -> vCPUs (D3_v2 has 4, D11_v2 has 2, ...).
_DV2_VCPUS = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16, 11: 2, 12: 4, 13: 8, 14: 16, 15: 20}
# G and GS (G1 has 2 vCPUs ... G5 has 32).
_G_VCPUS = {1: 2, 2: 4, 3: 8, 4: 16, 5: 32}
_FIRST_SELF_NUMBERED_D_VERSION = 3


def vcpus(size: str) -> int | None:
    """vCPUs of ``size`` from its name, or None when the name has an unknown shape."""
    match = _SIZE.match(size)
    if not match:
        return None
    family, number = match["family"], int(match["number"])
    version_match = _VERSION.search(match["rest"] or "")
    version = int(version_match["version"]) if version_match else 1
    if family in ("D", "DS") and version < _FIRST_SELF_NUMBERED_D_VERSION:
        return _DV2_VCPUS.get(number)
    if family in ("G", "GS"):
        return _G_VCPUS.get(number)
    return number


def is_burstable(size: str) -> bool:
    """A B-series (burstable, CPU-credit) size such as ``Standard_B2s`` or ``Standard_B4als_v2``."""
    match = _SIZE.match(size)
    return match is not None and match["family"] == "B"
