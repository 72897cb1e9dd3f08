#!/usr/bin/env bash
# Smoke check of a deployed stack, run by CI right after `pulumi up`:
#   1. the cluster's API server answers (/readyz) with the CI identity's Entra token;
#   2. MLflow answers /health through a port-forward to its ClusterIP Service.
# Needs: az (signed in), kubelogin, kubectl, pulumi (logged in to the state backend).
# Usage: scripts/ci/smoke.sh <stack>
set -euo pipefail
stack="${1:?usage: smoke.sh <stack>}"
out() { pulumi stack output --stack "${stack}" "$1"; }

group="$(out resourceGroupName)"
cluster="$(out clusterName)"
kubeconfig="$(mktemp)"
trap 'rm -f "${kubeconfig}"; [[ -n "${pf:-}" ]] && kill "${pf}" 2>/dev/null || true' EXIT
export KUBECONFIG="${kubeconfig}"
az aks get-credentials --resource-group "${group}" --name "${cluster}" --file "${kubeconfig}" --only-show-errors
# Local accounts are off: exchange the az CLI session for an Entra token.
kubelogin convert-kubeconfig -l azurecli

kubectl get --raw='/readyz' | grep -qx ok
echo "smoke: ${stack}: API server ready"

# The tracking URI is in-cluster (http://mlflow.<ns>.svc...:5000): take namespace and port from it.
uri="$(out mlflowTrackingUri)"
host="${uri#http://}"; host="${host%%/*}"
service="${host%%.*}"; rest="${host#*.}"; namespace="${rest%%.*}"; port="${host##*:}"
kubectl -n "${namespace}" rollout status "deployment/${service}" --timeout=300s
kubectl -n "${namespace}" port-forward "svc/${service}" "15000:${port}" >/dev/null 2>&1 &
pf=$!
attempts="${SMOKE_ATTEMPTS:-30}"
for _ in $(seq 1 "${attempts}"); do
  if curl --silent --fail --max-time 2 http://127.0.0.1:15000/health >/dev/null; then
    echo "smoke: ${stack}: MLflow /health OK"
    exit 0
  fi
  sleep 2
done
echo "smoke: ${stack}: MLflow /health did not answer (${attempts} attempts, 2 s apart)" >&2
exit 1
