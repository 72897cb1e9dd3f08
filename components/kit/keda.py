"""Facts of the AKS KEDA add-on that every component scaling with KEDA shares.

The add-on runs its operator in ``kube-system`` under the ``keda-operator`` service account;
an identity that KEDA signs in with (``podIdentity: azure-workload`` with ``identityId``) is
federated with that account
(https://learn.microsoft.com/azure/aks/keda-workload-identity).
"""

from __future__ import annotations

KEDA_API = "keda.sh/v1alpha1"
KEDA_NAMESPACE = "kube-system"
KEDA_SERVICE_ACCOUNT = "keda-operator"
