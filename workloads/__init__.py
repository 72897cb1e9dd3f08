"""Reference ML workloads: ingest, retrain, monitor, serve.

What a team copies and replaces: real code run in the cluster by the workflow and serving
components, configured only by the environment variables of :mod:`contract.workloads`, and
signed in to Azure with ``azure-identity`` (workload identity in the cluster).
"""
