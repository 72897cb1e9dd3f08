"""scripts/ci/smoke.sh run for real against stub CLIs (az, kubelogin, kubectl, pulumi, curl).

The stubs log their arguments; the test checks the script asks for the right cluster, parses
the MLflow tracking URI from the stack outputs, and fails when /health never answers.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.pipelines.workflows import ROOT

OUTPUTS = {
    "resourceGroupName": "rg-mlops-dev-weu",
    "clusterName": "aks-mlops-dev-weu",
    "mlflowTrackingUri": "http://mlflow.mlflow.svc.cluster.local:5000",
}


def _stubs(tmp_path: Path, health_ok: bool) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    outputs = "\n".join(f'  {k}) echo "{v}" ;;' for k, v in OUTPUTS.items())
    scripts = {
        "pulumi": f'case "$5" in\n{outputs}\n  *) exit 1 ;;\nesac',
        "az": "exit 0",
        "kubelogin": "exit 0",
        "kubectl": 'if [[ "$1" == "get" ]]; then echo ok; fi\n'
        'if [[ "$3" == "port-forward" ]]; then sleep 30; fi',
        # /health answers only once the port-forward is running.
        "curl": f'grep -q "port-forward svc/mlflow" "{log}"' if health_ok else "exit 7",
    }
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text(f'#!/usr/bin/env bash\necho "{name} $*" >> "{log}"\n{body}\n')
        path.chmod(0o755)
    return bin_dir


def _smoke(tmp_path: Path, health_ok: bool) -> tuple[subprocess.CompletedProcess[str], str]:
    bin_dir = _stubs(tmp_path, health_ok)
    attempts = "5" if health_ok else "2"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SMOKE_ATTEMPTS": attempts}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ci" / "smoke.sh"), "dev"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    return result, (tmp_path / "calls.log").read_text()


def test_smoke_checks_api_server_and_mlflow_health(tmp_path: Path) -> None:
    result, calls = _smoke(tmp_path, health_ok=True)
    assert result.returncode == 0, result.stderr
    assert "API server ready" in result.stdout
    assert "MLflow /health OK" in result.stdout
    assert "az aks get-credentials --resource-group rg-mlops-dev-weu --name aks-mlops-dev-weu" in (
        calls
    )
    assert "kubelogin convert-kubeconfig -l azurecli" in calls
    assert "kubectl get --raw=/readyz" in calls
    assert "kubectl -n mlflow rollout status deployment/mlflow" in calls
    assert "kubectl -n mlflow port-forward svc/mlflow 15000:5000" in calls
    assert "curl --silent --fail --max-time 2 http://127.0.0.1:15000/health" in calls


def test_smoke_fails_when_mlflow_never_answers(tmp_path: Path) -> None:
    result, _ = _smoke(tmp_path, health_ok=False)
    assert result.returncode == 1
    assert "MLflow /health did not answer (2 attempts" in result.stderr
