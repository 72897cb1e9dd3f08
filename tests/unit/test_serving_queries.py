"""The serving request-rate PromQL and the shared KEDA Prometheus trigger."""

from __future__ import annotations

import promql_parser
import pytest

from components.serving.keda import azure_monitor_prometheus_trigger
from contract.queries import serving_request_rate_query


def test_serving_rate_query_filters_exact_model_version() -> None:
    query = serving_request_rate_query("churn_v2", 12)

    promql_parser.parse(query)
    assert query == 'sum(rate(serving_requests_total{model="churn_v2",version="12"}[2m]))'


@pytest.mark.parametrize(("model", "version"), [('churn"}', 1), ("churn", 0)])
def test_serving_rate_query_rejects_unsafe_label_or_alias(model: str, version: int) -> None:
    with pytest.raises(ValueError, match="model"):
        serving_request_rate_query(model, version)


def test_keda_trigger_metadata_strings_and_optional_activation() -> None:
    plain = azure_monitor_prometheus_trigger(
        query_endpoint="https://amw.westeurope.prometheus.monitor.azure.com",
        query="up",
        threshold=20.0,
        auth_name="azure-monitor-prometheus",
    )
    activated = azure_monitor_prometheus_trigger(
        query_endpoint="https://amw.westeurope.prometheus.monitor.azure.com",
        query="up",
        threshold=0.5,
        auth_name="azure-monitor-prometheus",
        activation_threshold=0.5,
    )

    # https://keda.sh/docs/2.16/scalers/prometheus/: type prometheus, metadata as strings.
    assert plain == {
        "type": "prometheus",
        "metadata": {
            "serverAddress": "https://amw.westeurope.prometheus.monitor.azure.com",
            "query": "up",
            "threshold": "20",
        },
        "authenticationRef": {"name": "azure-monitor-prometheus"},
    }
    assert activated["metadata"]["activationThreshold"] == "0.5"
    assert activated["metadata"]["threshold"] == "0.5"
