"""The promotion tool's rules that need no tracking server: stage order, approval, hand edits.

Every refusal exits with status 2 and names the argument or the file; none needs MLflow.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.config.release import ReleaseModel
from promote import cli, stackfile
from promote.record import (
    RECORD_DIR,
    hand_edit_problem,
    new_record,
    pins_digest,
    pins_of,
    read_record,
    record_path,
)
from promote.stages import PromotionError, check_approval, check_order, load_stack

ROOT = Path(__file__).resolve().parents[2]


def _strip_pins(path: Path) -> None:
    """Remove ``models`` from the stack file's release block (its images stay)."""
    doc = stackfile.load(path.read_text())
    doc["config"][stackfile.RELEASE_KEY].pop("models", None)
    path.write_text(stackfile.dump(doc))


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """A copy of the project's stack files as shipped (pins included), with no records."""
    for path in ROOT.glob("Pulumi.*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


@pytest.fixture
def root(shipped: Path) -> Path:
    """The stack files with no model pinned and no promotion record (the tool never touches
    the real ones here)."""
    for path in shipped.glob("Pulumi.*.yaml"):
        _strip_pins(path)
    return shipped


def _args(root: Path, *extra: str) -> list[str]:
    return ["--root", str(root), *extra]


def _append_pin(path: Path, name: str, version: int) -> None:
    """Pin ``name`` at ``version`` as the only model of the existing release block."""
    doc = stackfile.load(path.read_text())
    doc["config"][stackfile.RELEASE_KEY]["models"] = [{"name": name, "version": version}]
    path.write_text(stackfile.dump(doc))


@pytest.mark.parametrize(("source", "target"), [("dev", "test"), ("test", "prod")])
def test_promote_order_allows_the_next_stage(root: Path, source: str, target: str) -> None:
    check_order(load_stack(source, "--from", root), load_stack(target, "--to", root))


@pytest.mark.parametrize(
    ("source", "target", "rule"),
    [
        ("dev", "prod", "--to (prod, environment prod) skips the test stage: from dev "
         "(environment dev) the next stage is test (order: dev -> test -> prod)"),
        ("test", "dev", "--to (dev, environment dev) goes backwards: from test "
         "(environment test) the next stage is prod"),
        ("test", "test", "--to (test, environment test) stays in the same stage"),
        ("prod", "dev", "the next stage is none"),
    ],
)  # fmt: skip
def test_promote_order_refuses_when_not_the_next_stage(
    root: Path, source: str, target: str, rule: str
) -> None:
    with pytest.raises(PromotionError) as raised:
        check_order(load_stack(source, "--from", root), load_stack(target, "--to", root))
    assert rule in str(raised.value)


def test_promote_order_follows_environment_tag_not_stack_name(root: Path) -> None:
    # A second test-like stack: its stage is its tags.environment, whatever its name.
    (root / "Pulumi.qa.yaml").write_text((root / "Pulumi.test.yaml").read_text())
    qa = load_stack("qa", "--to", root)

    check_order(load_stack("dev", "--from", root), qa)
    check_order(qa, load_stack("prod", "--to", root))
    (root / "Pulumi.live.yaml").write_text((root / "Pulumi.prod.yaml").read_text())
    with pytest.raises(PromotionError, match=r"^--to \(live, environment prod\) skips the test"):
        check_order(load_stack("dev", "--from", root), load_stack("live", "--to", root))


@pytest.mark.parametrize("argument", ["--from", "--to"])
def test_promote_unknown_stack_refused_naming_the_argument(
    root: Path, argument: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = {"--from": "dev", "--to": "test", argument: "staging"}

    code = cli.main(_args(root, "--from", stacks["--from"], "--to", stacks["--to"]))

    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"promotion refused: {argument} (staging): no stack file Pulumi.staging.yaml "
        "(stacks: dev, prod, test)"
    )


def test_promote_invalid_stack_config_refused_naming_the_argument(root: Path) -> None:
    path = root / "Pulumi.test.yaml"
    path.write_text(path.read_text().replace("environment: test", "environment: staging"))

    with pytest.raises(PromotionError, match=r"^--to \(test\): Pulumi.test.yaml is invalid: "):
        load_stack("test", "--to", root)


@pytest.mark.parametrize("approver", [None, "", "   "])
def test_promote_into_prod_refused_without_approval(root: Path, approver: str | None) -> None:
    with pytest.raises(PromotionError, match=r"^--approved-by is required: prod is a prod"):
        check_approval(load_stack("prod", "--to", root), approver)


def test_promote_approval_needed_only_into_prod(root: Path) -> None:
    check_approval(load_stack("prod", "--to", root), "alice@example.com")
    check_approval(load_stack("test", "--to", root), None)


def test_promote_cli_refuses_prod_without_approval_before_any_server(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No tracking URI at all: the approval rule is checked first and alone decides.
    code = cli.main(_args(root, "--from", "test", "--to", "prod", "--model", "m"))

    assert code == 2
    assert "promotion refused: --approved-by is required" in capsys.readouterr().err


def test_promote_cli_refuses_dev_to_prod_even_with_approval(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(_args(root, "--from", "dev", "--to", "prod", "--approved-by", "alice"))

    assert code == 2
    assert "skips the test stage" in capsys.readouterr().err


def test_promote_cli_requires_the_tracking_uris(root: Path) -> None:
    args = cli._parser().parse_args(_args(root, "--from", "dev", "--to", "test", "--model", "m"))

    with pytest.raises(PromotionError, match=r"^--from-tracking-uri is required: .*port-forward"):
        cli.promote(args, emit=lambda _line: None)


def test_promote_cli_rejects_a_tracking_uri_that_is_not_http(root: Path) -> None:
    args = cli._parser().parse_args(
        _args(root, "--from", "dev", "--to", "test", "--model", "m",
              "--from-tracking-uri", "postgresql://db/mlflow", "--to-tracking-uri", "http://x")
    )  # fmt: skip

    with pytest.raises(PromotionError, match=r"^--from-tracking-uri \(postgresql://db/mlflow\)"):
        cli.promote(args, emit=lambda _line: None)


def test_promote_needs_a_model_name_when_no_release_block_names_one(root: Path) -> None:
    args = cli._parser().parse_args(_args(root, "--from", "dev", "--to", "test"))

    with pytest.raises(PromotionError, match=r"^--model is required"):
        cli.check(args)


def test_promote_model_defaults_to_the_one_pinned_model(root: Path) -> None:
    _append_pin(root / "Pulumi.dev.yaml", "churn", 4)

    plan = cli.check(cli._parser().parse_args(_args(root, "--from", "dev", "--to", "test")))

    assert plan.model == "churn"


def test_promote_first_promotion_into_an_unpinned_stack_passes(root: Path) -> None:
    plan = cli.check(cli._parser().parse_args(_args(root, "--from", "dev", "--to", "test",
                                                    "--model", "churn")))  # fmt: skip
    assert plan.pins == []


def test_promote_refused_when_pins_exist_without_a_record(shipped: Path) -> None:
    # The shipped pins, without the shipped record beside them.
    args = cli._parser().parse_args(_args(shipped, "--from", "dev", "--to", "test", "--model", "m"))

    with pytest.raises(PromotionError) as raised:
        cli.check(args)
    assert str(raised.value).startswith(
        "Pulumi.test.yaml pins [{'name': 'churn', 'version': 1}] in release.models but "
        "promotions/test.json records no promotion: the pins were written by hand"
    )


@pytest.mark.parametrize(("source", "target"), [("dev", "test"), ("test", "prod")])
def test_promote_shipped_pins_match_the_shipped_records(
    shipped: Path, source: str, target: str
) -> None:
    # The shipped promotions/<stack>.json record the shipped pins: `make promote` works on the
    # files as they are, and a pin edited by hand (without the tool) fails here too.
    shutil.copytree(ROOT / RECORD_DIR, shipped / RECORD_DIR)
    pins = pins_of(load_stack(target, "--to", shipped).config.release.models)
    assert pins, f"Pulumi.{target}.yaml ships no pins: remove {RECORD_DIR}/{target}.json"

    plan = cli.check(
        cli._parser().parse_args(_args(shipped, "--from", source, "--to", target,
                                       "--approved-by", "alice"))
    )  # fmt: skip

    assert plan.pins == pins


def test_promote_every_shipped_record_names_a_stack_with_pins() -> None:
    for path in sorted((ROOT / RECORD_DIR).glob("*.json")):
        stack = path.stem
        record = read_record(ROOT, stack)
        assert record is not None
        assert record["stack"] == stack
        pins = pins_of(load_stack(stack, "--to", ROOT).config.release.models)
        assert hand_edit_problem(stack, pins, record) is None


def _write_record(root: Path, pins: list[dict[str, object]]) -> None:
    path = record_path(root, "test")
    path.parent.mkdir(exist_ok=True)
    path.write_text(new_record("test", pins, {"source-stack": "dev"}))


def test_promote_passes_when_pins_match_the_record(root: Path) -> None:
    _append_pin(root / "Pulumi.test.yaml", "churn", 3)
    _write_record(root, [{"name": "churn", "version": 3}])

    plan = cli.check(cli._parser().parse_args(_args(root, "--from", "dev", "--to", "test")))

    assert plan.pins == [{"name": "churn", "version": 3}]


def test_promote_refused_when_a_pin_was_edited_by_hand(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _append_pin(root / "Pulumi.test.yaml", "churn", 5)
    _write_record(root, [{"name": "churn", "version": 3}])
    before = (root / "Pulumi.test.yaml").read_bytes()

    code = cli.main(_args(root, "--from", "dev", "--to", "test"))

    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "promotion refused: release.models of Pulumi.test.yaml was edited by hand since its "
        "last promotion: it pins [{'name': 'churn', 'version': 5}], promotions/test.json "
        "recorded [{'name': 'churn', 'version': 3}] (restore the recorded pins: pins are "
        "changed by promoting)"
    )
    assert (root / "Pulumi.test.yaml").read_bytes() == before


def test_promote_record_digest_ignores_entry_order_but_not_versions() -> None:
    a, b = ReleaseModel(name="a", version=1), ReleaseModel(name="b", version=2)

    assert pins_digest(pins_of([a, b])) == pins_digest(pins_of([b, a]))
    assert pins_digest(pins_of([a, b])) != pins_digest(
        pins_of([a, ReleaseModel(name="b", version=3)])
    )


def test_promote_refused_version_zero() -> None:
    args = cli._parser().parse_args(["--from", "dev", "--to", "test", "--version", "0"])

    with pytest.raises(PromotionError, match=r"^--version \(0\) must be a positive integer"):
        cli.check(args)


def test_promote_lineage_carries_the_approval_into_prod(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTOR", "release-bot")
    args = cli._parser().parse_args(
        _args(root, "--from", "test", "--to", "prod", "--model", "churn",
              "--approved-by", " alice@example.com ")
    )  # fmt: skip
    plan = cli.check(args)

    tags = cli._lineage(plan, 4, "run-123", args.approved_by)

    assert tags["aks-mlops.promotion.approved-by"] == "alice@example.com"
    assert tags["aks-mlops.promotion.source-stack"] == "test"
    assert tags["aks-mlops.promotion.source-version"] == "4"
    assert tags["aks-mlops.promotion.source-run-id"] == "run-123"
    assert tags["aks-mlops.promotion.promoted-by"] == "release-bot"
    assert tags["aks-mlops.promotion.promoted-at"].endswith("+00:00")


def test_promote_model_name_the_config_rejects_is_refused_before_any_copy(root: Path) -> None:
    args = cli._parser().parse_args(
        _args(root, "--from", "dev", "--to", "test", "--model", "bad name",
              "--from-tracking-uri", "http://127.0.0.1:9", "--to-tracking-uri", "http://127.0.0.1:9")
    )  # fmt: skip

    # Port 9 (discard) has no MLflow: reaching a server would fail differently.
    with pytest.raises(PromotionError, match=r'^--to \(test\): .*release.models\[0\].name \("bad'):
        cli.promote(args, emit=lambda _line: None)
