"""The ingest workload: documents under ``incoming/`` of the documents container, chunked,
embedded and written to the platform's vector store (pgvector or Qdrant), then moved to
``processed/<date>/`` (or, when malformed, to ``failed/<date>/`` with a report).

Run as ``python -m workloads.ingest``; settings from the environment only
(:mod:`workloads.ingest.settings`, names in :mod:`contract.workloads`). See :mod:`.run` for
the loop and its exit codes.
"""
