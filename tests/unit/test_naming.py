"""Names: every generated name satisfies its Azure type's rule, for any workload and stack."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.kit.naming import (
    RULES,
    Kind,
    Namer,
    NamingError,
    check,
    environment_token,
    region_code,
)

workloads = st.from_regex(r"[a-z][a-z0-9]{1,9}", fullmatch=True)
# Pulumi stack names: alphanumerics, hyphens, underscores, periods.
stacks = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,40}", fullmatch=True)
locations = st.sampled_from(["westeurope", "eastus2", "swedencentral", "newregion9", "uksouth"])
SUB = "00000000-0000-4000-8000-000000000001"
roles = st.sampled_from([None, "nodes", "pep", "apiserver", "psql", "aks", "acr"])


@settings(max_examples=300, deadline=None)
@given(workload=workloads, stack=stacks, location=locations, role=roles)
def test_naming_every_kind_satisfies_its_rule_for_any_input(
    workload: str, stack: str, location: str, role: str | None
) -> None:
    namer = Namer(workload=workload, stack=stack, location=location, subscription_id=SUB)
    for kind, rule in RULES.items():
        name = namer.name(kind, role)
        assert rule.min_length <= len(name) <= rule.max_length, (kind, name)
        assert re.fullmatch(rule.pattern, name), (kind, name)


@settings(max_examples=200, deadline=None)
@given(workload=workloads, a=stacks, b=stacks, location=locations)
def test_naming_different_stacks_never_share_a_globally_unique_name(
    workload: str, a: str, b: str, location: str
) -> None:
    if a == b:
        return
    first = Namer(workload=workload, stack=a, location=location, subscription_id=SUB)
    second = Namer(workload=workload, stack=b, location=location, subscription_id=SUB)
    for kind, rule in RULES.items():
        if rule.globally_unique or kind is Kind.RESOURCE_GROUP:
            assert first.name(kind) != second.name(kind), (kind, a, b)


@given(workload=workloads, stack=stacks, location=locations)
def test_naming_is_deterministic_for_the_same_stack(
    workload: str, stack: str, location: str
) -> None:
    one = Namer(workload=workload, stack=stack, location=location, subscription_id=SUB)
    two = Namer(workload=workload, stack=stack, location=location, subscription_id=SUB)
    assert [one.name(k) for k in Kind] == [two.name(k) for k in Kind]


def test_naming_uses_caf_abbreviations_for_a_plain_stack() -> None:
    namer = Namer(
        workload="mlops", stack="dev", location="westeurope", subscription_id=SUB, suffix="ab12"
    )
    assert namer.name(Kind.RESOURCE_GROUP) == "rg-mlops-dev-weu"
    assert namer.name(Kind.AKS_CLUSTER) == "aks-mlops-dev-weu"
    assert namer.name(Kind.SUBNET, "nodes") == "snet-mlops-dev-weu-nodes"
    assert namer.name(Kind.CONTAINER_REGISTRY) == "crmlopsdevweuab12"
    assert namer.name(Kind.STORAGE_ACCOUNT) == "stmlopsdevweuab12"
    assert namer.name(Kind.KEY_VAULT) == "kv-mlops-dev-weu-ab12"


def test_naming_suffix_override_changes_only_global_names() -> None:
    default = Namer(workload="mlops", stack="dev", location="westeurope", subscription_id=SUB)
    custom = Namer(
        workload="mlops", stack="dev", location="westeurope", subscription_id=SUB, suffix="zz99"
    )
    assert custom.name(Kind.CONTAINER_REGISTRY).endswith("zz99")
    assert default.name(Kind.CONTAINER_REGISTRY) != custom.name(Kind.CONTAINER_REGISTRY)
    assert default.name(Kind.RESOURCE_GROUP) == custom.name(Kind.RESOURCE_GROUP)


def test_naming_long_inputs_are_shortened_within_limits() -> None:
    namer = Namer(
        workload="mlplatform",
        stack="feature-branch-x",
        location="germanywestcentral",
        subscription_id=SUB,
    )
    name = namer.name(Kind.STORAGE_ACCOUNT)
    assert len(name) <= 24
    assert name.startswith("st")
    kv = namer.name(Kind.KEY_VAULT)
    assert len(kv) <= 24
    assert "--" not in kv


def test_naming_reshaped_stack_names_keep_a_hash_of_the_original() -> None:
    assert environment_token("dev") == "dev"
    assert environment_token("Feature/A") != environment_token("Feature/B")
    assert re.fullmatch(r"[a-z][a-z0-9]{1,11}", environment_token("123-prod"))


def test_naming_unknown_region_gets_a_stable_short_code() -> None:
    assert region_code("westeurope") == "weu"
    code = region_code("marsnorth")
    assert code == region_code("marsnorth")
    assert len(code) == 4


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (Kind.CONTAINER_REGISTRY, "cr-with-hyphens"),
        (Kind.CONTAINER_REGISTRY, "cr1"),
        (Kind.STORAGE_ACCOUNT, "StUpper"),
        (Kind.STORAGE_ACCOUNT, "st" + "a" * 23),
        (Kind.KEY_VAULT, "kv--double"),
        (Kind.KEY_VAULT, "1kv-starts-digit"),
        (Kind.POSTGRES_SERVER, "-psql"),
        (Kind.AKS_CLUSTER, "aks-"),
    ],
)
def test_naming_check_rejects_invalid_names_with_the_rule(kind: Kind, name: str) -> None:
    with pytest.raises(NamingError) as info:
        check(kind, name)
    assert kind.value in str(info.value)
    assert repr(name) in str(info.value)
    assert RULES[kind].description in str(info.value)


def test_naming_default_suffix_differs_between_subscriptions() -> None:
    one = Namer(workload="mlops", stack="prod", location="westeurope", subscription_id=SUB)
    other = Namer(
        workload="mlops",
        stack="prod",
        location="westeurope",
        subscription_id="11111111-2222-4333-8444-555555555555",
    )
    for kind, rule in RULES.items():
        if rule.globally_unique:
            assert one.name(kind) != other.name(kind), kind
        else:
            assert one.name(kind) == other.name(kind), kind


def test_naming_suffix_override_ignores_the_subscription() -> None:
    one = Namer(
        workload="mlops", stack="prod", location="westeurope", subscription_id=SUB, suffix="keep01"
    )
    other = Namer(
        workload="mlops",
        stack="prod",
        location="westeurope",
        subscription_id="11111111-2222-4333-8444-555555555555",
        suffix="keep01",
    )
    assert (
        one.name(Kind.STORAGE_ACCOUNT) == other.name(Kind.STORAGE_ACCOUNT) == "stmlopsprodweukeep01"
    )
