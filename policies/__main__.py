"""The policy pack as Pulumi runs it: ``pulumi preview --policy-pack policies``.

Constructing ``PolicyPack`` starts the analyzer's gRPC server and never returns, so nothing
imports this module; the rules themselves live in :mod:`policies.rules`. Enforcement comes
from ``--policy-pack-config build/<stack>/policy-config.json`` (written by ``make plan`` from
the stack's ``policy`` config): advisory unless the stack says otherwise.
"""

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

from policies.rules import ALL_RULES

PolicyPack(
    name="aks-mlops",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(name=r.name, description=r.description, validate=r.validate)
        for r in ALL_RULES
    ],
)
