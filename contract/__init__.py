"""Contracts shared by the Pulumi program and the platform's workloads (no Pulumi imports)."""
