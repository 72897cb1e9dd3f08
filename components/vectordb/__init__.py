"""Vector database: pgvector on PostgreSQL (schema Job) or Qdrant in the cluster."""
