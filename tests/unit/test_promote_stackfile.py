"""Writing the release block: round-trip fidelity, only the pin changes, atomic replacement."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from promote import cli, stackfile
from promote.record import record_path

ROOT = Path(__file__).resolve().parents[2]
STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))


def _comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


def _without_pins(text: str, *, release: bool = False) -> str:
    """``text`` with the release block's ``models`` removed (or, with ``release``, the block)."""
    doc = stackfile.load(text)
    if release:
        del doc["config"][stackfile.RELEASE_KEY]
    else:
        doc["config"][stackfile.RELEASE_KEY].pop("models", None)
    return stackfile.dump(doc)


def _diff_lines(diff: str, sign: str) -> list[str]:
    return [
        line[1:]
        for line in diff.splitlines()
        if line.startswith(sign) and not line.startswith(sign * 3)
    ]


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_stackfile_round_trip_is_byte_identical(path: Path) -> None:
    text = path.read_text()

    assert stackfile.dump(stackfile.load(text)) == text


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_stackfile_new_pin_adds_only_the_release_block(path: Path) -> None:
    # A stack file with no release block at all gets one at the end of config.
    old = _without_pins(path.read_text(), release=True)

    new = stackfile.with_model_pin(old, "churn", 7)
    diff = stackfile.unified_diff(old, new, path.name)

    assert _diff_lines(diff, "-") == []
    added = _diff_lines(diff, "+")
    assert [line for line in added if not line.lstrip().startswith("#")] == [
        "  aks-mlops:release:",
        "    models:",
        "      - name: churn",
        "        version: 7",
    ]
    assert set(_comments(old)) <= set(_comments(new))
    assert yaml.safe_load(new)["config"]["aks-mlops:release"] == {
        "models": [{"name": "churn", "version": 7}]
    }
    # Everything else reads back the same.
    before, after = yaml.safe_load(old), yaml.safe_load(new)
    after["config"].pop("aks-mlops:release")
    assert after == before


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_stackfile_new_pin_adds_only_models_to_an_existing_release_block(path: Path) -> None:
    # The shipped release block without its models: the images stay, models are added.
    old = _without_pins(path.read_text())

    new = stackfile.with_model_pin(old, "churn", 7)
    diff = stackfile.unified_diff(old, new, path.name)

    assert _diff_lines(diff, "-") == []
    assert _diff_lines(diff, "+") == [
        "    models:",
        "      - name: churn",
        "        version: 7",
    ]
    assert _comments(old) == _comments(new)
    before, after = yaml.safe_load(old), yaml.safe_load(new)
    assert after["config"]["aks-mlops:release"] == {
        **before["config"]["aks-mlops:release"],
        "models": [{"name": "churn", "version": 7}],
    }
    # Everything else reads back the same.
    after["config"]["aks-mlops:release"].pop("models")
    assert after == before


def test_stackfile_existing_pin_changes_only_its_version_and_keeps_other_keys() -> None:
    text = (
        "# header comment\n"
        "config:\n"
        "  aks-mlops:tags: {environment: test, owner: me, workload: mlops}  # flow stays\n"
        "  aks-mlops:release:\n"
        "    images:\n"
        '      workloads: "aks-mlops/workloads:1.2.3"\n'
        "    models:\n"
        "      # the churn model\n"
        "      - name: churn\n"
        "        version: 3  # pinned\n"
        "        serving: {minReplicas: 2, maxReplicas: 4}\n"
        "      - name: fraud\n"
        "        version: 9\n"
    )

    new = stackfile.with_model_pin(text, "churn", 4)

    assert new == text.replace("version: 3  # pinned", "version: 4  # pinned")
    assert stackfile.pinned_version(stackfile.load(new), "churn") == 4
    assert stackfile.pinned_version(stackfile.load(new), "fraud") == 9
    assert stackfile.pinned_version(stackfile.load(new), "absent") is None


def test_stackfile_new_model_appended_after_existing_entries() -> None:
    text = "config:\n  aks-mlops:release:\n    models:\n      - name: fraud\n        version: 9\n"

    new = stackfile.with_model_pin(text, "churn", 1)

    assert new == text + "      - name: churn\n        version: 1\n"


def test_stackfile_rewrite_checked_against_the_config_model(tmp_path: Path) -> None:
    text = _without_pins((ROOT / "Pulumi.test.yaml").read_text())

    models = stackfile.check_renders_valid(
        stackfile.with_model_pin(text, "churn", 2), "test", "churn", 2
    )
    assert [(m.name, m.version) for m in models] == [("churn", 2)]
    with pytest.raises(ValueError, match=re.escape('release.models[0].name ("bad name")')):
        stackfile.check_renders_valid(
            stackfile.with_model_pin(text, "bad name", 2), "test", "bad name", 2
        )


def test_stackfile_atomic_write_failure_leaves_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "Pulumi.test.yaml"
    path.write_bytes(b"config: {}\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(stackfile.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        stackfile.atomic_write(path, b"config: {x: 1}\n")

    assert path.read_bytes() == b"config: {}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.test.yaml"]


def test_stackfile_atomic_write_keeps_the_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text("config: {}\n")
    path.chmod(0o640)

    stackfile.atomic_write(path, b"config: {x: 1}\n")

    assert path.read_text() == "config: {x: 1}\n"
    assert path.stat().st_mode & 0o777 == 0o640


def test_stackfile_commit_restores_the_first_file_when_the_second_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "Pulumi.test.yaml", tmp_path / "promotions" / "test.json"
    first.write_bytes(b"config: {}  # comment\n")
    real_replace = os.replace
    calls: list[str] = []

    def replace_then_fail(src: str, dst: str) -> None:
        calls.append(str(dst))
        if str(dst) == str(second):
            raise OSError("no space left")
        real_replace(src, dst)

    monkeypatch.setattr(stackfile.os, "replace", replace_then_fail)
    with pytest.raises(OSError, match="no space left"):
        stackfile.commit([(first, "config: {x: 1}\n"), (second, "{}\n")])

    # The first file was replaced, then put back byte for byte; the second never appeared.
    assert calls[:2] == [str(first), str(second)]
    assert first.read_bytes() == b"config: {}  # comment\n"
    assert not second.exists()


def test_promote_failure_while_writing_leaves_stack_file_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI's last step (after the copy): the stack file is written, then the record fails.
    # A first promotion: the target has no pins and no record yet.
    for path in STACK_FILES:
        (tmp_path / path.name).write_text(_without_pins(path.read_text()))
    before = (tmp_path / "Pulumi.test.yaml").read_bytes()
    record = record_path(tmp_path, "test")
    real_replace = os.replace

    def fail_on_record(src: str, dst: str) -> None:
        if str(dst) == str(record):
            raise OSError("interrupted")
        real_replace(src, dst)

    monkeypatch.setattr(stackfile.os, "replace", fail_on_record)
    text = stackfile.with_model_pin(before.decode(), "churn", 2)
    with pytest.raises(OSError, match="interrupted"):
        stackfile.commit([(tmp_path / "Pulumi.test.yaml", text), (record, "{}\n")])

    assert (tmp_path / "Pulumi.test.yaml").read_bytes() == before
    assert not record.exists()
    assert (
        cli.check(
            cli._parser().parse_args(
                ["--root", str(tmp_path), "--from", "dev", "--to", "test", "--model", "churn"]
            )
        ).pins
        == []
    )
