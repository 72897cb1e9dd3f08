"""Upgrades never replace what users deployed: every stack's URNs and physical identities are
pinned in ``identities/<stack>.yaml``, and a change to them must be explained.

The stack tests compare the real program's offline run with the checked-in files; the rest
exercise the rules of the update path on small programs (an alias covers a move, a reason
marks an intentional change, anything else is refused) and the errors on bad golden files.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import pytest
import yaml

from offline import identities
from offline.runner import ROOT, OfflineRun, run_callable

Runner = Callable[[Callable[[], object]], OfflineRun]
STACK_FILES = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))


@pytest.mark.parametrize("stack", STACK_FILES)
def test_stack_identities_match_golden_file(stack: str, stack_runs: dict[str, OfflineRun]) -> None:
    golden = identities.load_golden(stack)
    current = identities.identities_of(stack_runs[stack])
    diff = identities.compare(golden.identities, current)
    assert not diff, (
        f"stack {stack}: resource identities differ from identities/{stack}.yaml — an upgrade "
        f"would create, delete or replace these:\n{diff.render()}\n"
        "If intended: `make identities` (aliases for moved resources, or REASON=...)."
    )
    # The comparison saw the real program: a stack has a cluster and a storage account.
    types = {urn.split("::")[2].rsplit("$", 1)[-1] for urn in golden.identities}
    assert "azure-native:containerservice:ManagedCluster" in types
    assert "azure-native:storage:StorageAccount" in types


@pytest.mark.parametrize("stack", STACK_FILES)
def test_stack_identity_history_still_honoured(
    stack: str, stack_runs: dict[str, OfflineRun]
) -> None:
    golden = identities.load_golden(stack)
    assert identities.history_problems(golden.history, stack_runs[stack]) == []


def test_identities_physical_ids_unique_within_stack(stack_runs: dict[str, OfflineRun]) -> None:
    # Two resources with one Azure id would be one resource in Azure: the pinning would be blind.
    for stack, run in stack_runs.items():
        physical = [i.physical for i in identities.identities_of(run).values() if i.physical]
        dupes = {p for p in physical if physical.count(p) > 1}
        assert not dupes, f"stack {stack}: physical identities shared: {sorted(dupes)}"


def _program(name: str, length: int = 16, alias_from: str | None = None) -> Callable[[], object]:
    def body() -> object:
        opts = pulumi.ResourceOptions(
            aliases=[pulumi.Alias(name=alias_from)] if alias_from else None
        )
        return random.RandomString(name, length=length, special=False, opts=opts)

    return body


def _golden(tmp_path: Path, run: OfflineRun, stack: str = "unit") -> identities.GoldenFile:
    identities.write_golden(stack, run, None, tmp_path)
    return identities.load_golden(stack, tmp_path)


def test_identities_rename_without_alias_refused(run_components: Runner, tmp_path: Path) -> None:
    before = _golden(tmp_path, run_components(_program("old-name")))
    after = run_components(_program("new-name"))
    with pytest.raises(identities.UnexplainedChangeError, match="old-name: no resource declares"):
        identities.updated_history(before, after, None)


def test_identities_rename_with_alias_recorded_as_successor(
    run_components: Runner, tmp_path: Path
) -> None:
    before = _golden(tmp_path, run_components(_program("old-name")))
    after = run_components(_program("new-name", alias_from="old-name"))
    history = identities.updated_history(before, after, None)
    urn = "urn:pulumi:unit::aks-mlops::random:index/randomString:RandomString::"
    assert history == [{"removed": f"{urn}old-name", "successor": f"{urn}new-name"}]
    # The same history is a problem once the alias is dropped from the program.
    dropped = run_components(_program("new-name"))
    assert identities.history_problems(history, after) == []
    assert "must keep its alias" in identities.history_problems(history, dropped)[0]


def test_identities_removal_with_reason_accepted(run_components: Runner, tmp_path: Path) -> None:
    before = _golden(tmp_path, run_components(_program("old-name")))
    after = run_components(_program("other"))
    history = identities.updated_history(before, after, "retired: nothing stateful")
    assert history[0]["reason"] == "retired: nothing stateful"
    assert history[0]["removed"].endswith("::old-name")


def test_identities_compare_reports_added_removed_renamed() -> None:
    golden = {
        "urn:a": identities.Identity("urn:a", "/x/a"),
        "urn:b": identities.Identity("urn:b", "/x/b"),
    }
    current = {
        "urn:a": identities.Identity("urn:a", "/x/a2"),
        "urn:c": identities.Identity("urn:c", None),
    }
    diff = identities.compare(golden, current)
    assert diff.added == ["urn:c"]
    assert diff.removed == ["urn:b"]
    assert diff.renamed == [("urn:a", "/x/a", "/x/a2")]
    assert "renamed: urn:a" in diff.render()


def _config_map(physical_name: str) -> Callable[[], object]:
    def body() -> object:
        return k8s.core.v1.ConfigMap(
            "settings", metadata={"name": physical_name, "namespace": "mlflow"}, data={"a": "1"}
        )

    return body


def test_identities_physical_rename_needs_reason(tmp_path: Path) -> None:
    # Same URN, new name in the cluster: Kubernetes replaces the object. (A program of one
    # object at the stack's root, not a component: run without the component harness.)
    before = _golden(tmp_path, run_callable(_config_map("settings-v1"), stack="unit"))
    after = run_callable(_config_map("settings-v2"), stack="unit")
    with pytest.raises(identities.UnexplainedChangeError, match="settings-v1 -> v1/ConfigMap"):
        identities.updated_history(before, after, None)
    history = identities.updated_history(before, after, "config maps are stateless")
    assert history == [
        {
            "renamed": "urn:pulumi:unit::aks-mlops::kubernetes:core/v1:ConfigMap::settings",
            "from": "v1/ConfigMap mlflow/settings-v1",
            "to": "v1/ConfigMap mlflow/settings-v2",
            "reason": "config maps are stateless",
        }
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "is missing"),
        ("stack: unit\nresources: [\n", "not valid YAML"),
        ("stack: other\nresources: []\n", "must be a mapping with `stack: unit`"),
        ("stack: unit\nresources: {}\n", "`resources` and `history` must be lists"),
        ("stack: unit\nresources:\n- physical: /x\n", r"resources\[0\] must have a string `urn`"),
        ("stack: unit\nresources:\n- urn: u\n  physical: 3\n", "physical must be a string"),
        ("stack: unit\nresources:\n- urn: u\n- urn: u\n", r"resources\[1\] repeats u"),
        ("stack: unit\nresources: []\nhistory:\n- [1]\n", r"history\[0\] must map"),
    ],
)
def test_identities_bad_golden_file_names_file(
    tmp_path: Path, text: str | None, message: str
) -> None:
    if text is not None:
        (tmp_path / "unit.yaml").write_text(text)
    with pytest.raises(identities.IdentityFileError, match=message) as info:
        identities.load_golden("unit", tmp_path)
    assert str(tmp_path / "unit.yaml") in str(info.value)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "offline.cli", "identities", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_identities_cli_check_fails_on_drift(tmp_path: Path) -> None:
    golden = identities.load_golden("dev")
    dropped, *kept = sorted(golden.identities.values(), key=lambda i: i.urn)
    doc = {"stack": "dev", "resources": [{"urn": i.urn, "physical": i.physical} for i in kept]}
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump(doc))
    result = _cli("--check", "--stack", "dev", "--dir", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"added:   {dropped.urn}" in result.stderr


def test_identities_cli_rewrite_refuses_unexplained_removal(tmp_path: Path) -> None:
    doc = {"stack": "dev", "resources": [{"urn": "urn:pulumi:dev::aks-mlops::x:y:Z::gone"}]}
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump(doc))
    result = _cli("--stack", "dev", "--dir", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "x:y:Z::gone: no resource declares an alias from it" in result.stderr
    # Refused means nothing written: the file still holds the old identity only.
    assert yaml.safe_load((tmp_path / "dev.yaml").read_text()) == doc
