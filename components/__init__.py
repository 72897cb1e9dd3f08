"""The platform's components: one package per capability, plus a small shared kit.

- ``kit``: naming, shared Azure interfaces, Kubernetes helpers
- ``network``, ``cluster`` (AKS, node pools, GPU), ``registry``, ``identity``
- ``data`` (data lake, PostgreSQL), ``secrets`` (Key Vault), ``vectordb``, ``mlflow``
"""
