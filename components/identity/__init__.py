"""Workload identity: user-assigned identities, federated credentials, scoped role assignments."""
