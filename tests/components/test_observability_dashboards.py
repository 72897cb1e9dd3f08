"""Dashboards as code: the Grafana provider (Entra token, never fetched offline) and one
dashboard per JSON file. The JSON here is a tiny fixture; the real dashboards live in
dashboards/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.observability import grafana_auth
from components.observability.dashboards import (
    GrafanaDashboards,
    GrafanaDashboardsArgs,
    load_dashboards,
)
from components.observability.grafana import ManagedGrafana, ManagedGrafanaArgs
from infra.observability import _build_dashboards
from offline.runner import MASK
from tests.components.helpers import ADMIN_GROUP, RG, SUB

AMW_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Monitor/accounts/amw-unit"
FIXTURE = {"id": 12, "uid": "unit-fleet", "title": "Unit fleet", "panels": [], "schemaVersion": 39}


@pytest.fixture
def dashboards_dir(tmp_path: Path) -> Path:
    (tmp_path / "unit-fleet.json").write_text(json.dumps(FIXTURE))
    (tmp_path / "README.md").write_text("not a dashboard")
    return tmp_path


@pytest.fixture
def azure_must_not_be_called(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to build Azure's credential chain fails the test."""

    def _refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an offline run asked Azure for a token")

    monkeypatch.setattr("azure.identity.DefaultAzureCredential", _refuse)


def test_load_dashboards_keys_by_file_stem_and_drops_instance_ids(dashboards_dir) -> None:
    boards = load_dashboards(dashboards_dir)
    assert list(boards) == ["unit-fleet"]
    model = json.loads(boards["unit-fleet"])
    assert model["title"] == "Unit fleet"
    assert "id" not in model


def test_load_dashboards_names_the_bad_file(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"dashboard broken\.json is not valid JSON"):
        load_dashboards(tmp_path)
    (tmp_path / "broken.json").write_text(json.dumps({"title": "no panels"}))
    with pytest.raises(ValueError, match=r"broken\.json must be a JSON object with title"):
        load_dashboards(tmp_path)


def test_load_dashboards_missing_folder_means_none(tmp_path: Path) -> None:
    assert load_dashboards(tmp_path / "absent") == {}


def test_dashboards_use_their_own_provider_with_a_secret_token(
    run_components, dashboards_dir
) -> None:
    run = run_components(
        lambda: GrafanaDashboards(
            "dash",
            GrafanaDashboardsArgs(
                url="https://amg-unit-abc.weu.grafana.azure.com",
                auth="token-for-unit",
                dashboards=load_dashboards(dashboards_dir),
            ),
        )
    )
    provider = run.named("dash-provider")
    assert provider.type == "pulumi:providers:grafana"
    assert provider.inputs["url"] == "https://amg-unit-abc.weu.grafana.azure.com"
    assert provider.inputs["auth"] == MASK
    board = run.named("dash-unit-fleet")
    assert board.type == "grafana:oss/dashboard:Dashboard"
    assert json.loads(board.inputs["configJson"])["uid"] == "unit-fleet"
    assert board.inputs["overwrite"] is True
    assert board.inputs["message"] == "Provisioned by Pulumi (aks-mlops)"
    assert board.provider.startswith(provider.urn)


def test_stack_dashboards_wait_for_grafana_admin_and_never_ask_azure_offline(
    run_components, dashboards_dir, azure_must_not_be_called
) -> None:
    def body() -> None:
        grafana = ManagedGrafana(
            "grafana",
            ManagedGrafanaArgs(
                resource_group_name=RG,
                location="westeurope",
                grafana_name="amg-unit",
                azure_monitor_workspace_resource_id=AMW_ID,
                admin_group_object_ids=[ADMIN_GROUP],
            ),
        )
        _build_dashboards(grafana, dashboards_dir)

    run = run_components(body)
    grafana = run.named("grafana-grafana")
    provider = run.named("dashboards-provider")
    assert provider.inputs["url"] == grafana.outputs["properties"]["endpoint"]
    assert provider.inputs["url"].startswith("https://amg-unit-")
    assert provider.inputs["auth"] == MASK
    admin = run.named(f"grafana-admin-{ADMIN_GROUP}")
    # Writing dashboards needs the deployer's Grafana Admin grant to exist first.
    assert admin.urn in provider.dependencies


def test_no_dashboards_means_no_provider_and_no_token(
    run_components, tmp_path: Path, azure_must_not_be_called
) -> None:
    def body() -> None:
        grafana = ManagedGrafana(
            "grafana",
            ManagedGrafanaArgs(
                resource_group_name=RG,
                location="westeurope",
                grafana_name="amg-unit",
                azure_monitor_workspace_resource_id=AMW_ID,
                admin_group_object_ids=[ADMIN_GROUP],
            ),
        )
        assert _build_dashboards(grafana, tmp_path) is None

    run = run_components(body)
    assert run.of_type("pulumi:providers:grafana") == []


def test_entra_token_asks_for_the_managed_grafana_audience(monkeypatch) -> None:
    scopes: list[str] = []

    class FakeToken:
        token = "entra-access-token"

    class FakeCredential:
        def get_token(self, *requested: str) -> FakeToken:
            scopes.extend(requested)
            return FakeToken()

    monkeypatch.setattr("azure.identity.DefaultAzureCredential", FakeCredential)
    assert grafana_auth.entra_token() == "entra-access-token"
    # Audience of Azure Managed Grafana's data-plane API:
    # https://learn.microsoft.com/azure/managed-grafana/how-to-authenticate-data-plane-api
    assert scopes == ["https://dashboard.azure.com/.default"]


def test_token_source_seam_restores_the_previous_source() -> None:
    before = grafana_auth._source[-1]
    with grafana_auth.use_token_source(lambda: "inner"):
        assert grafana_auth._source[-1]() == "inner"
    assert grafana_auth._source[-1] is before
    assert before is grafana_auth.entra_token
