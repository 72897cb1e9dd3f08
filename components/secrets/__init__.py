"""Secrets: Key Vault in RBAC mode and the secrets the platform generates."""
