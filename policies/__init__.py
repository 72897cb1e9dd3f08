"""The aks-mlops CrossGuard policy pack: the AKS baseline and the platform's promises as rules.

``rules.ALL_RULES`` is what ``pulumi preview --policy-pack policies`` runs (built in
``__main__.py``) and what the offline plan and the tests run over every stack's recorded
resources. One module per area: ``azure`` (cluster, registry, storage, Key Vault, PostgreSQL,
tags, protection) and ``kubernetes`` (images, secrets, pod security, exposure).
"""
