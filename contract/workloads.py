"""The environment contract between the workflows/serving components and the workloads.

The components (``components/workflows``, ``components/serving``) set these variables on the
pods they render; the reference workloads (``workloads/``) read them. Both import the names
from here, so a variable is spelled once. Values are strings, as Kubernetes passes them.

Azure sign-in is never configured here: the AKS workload identity webhook injects
``AZURE_CLIENT_ID``, ``AZURE_TENANT_ID`` and ``AZURE_FEDERATED_TOKEN_FILE`` into pods whose
service account is annotated with a client id, and ``DefaultAzureCredential`` reads them
(https://learn.microsoft.com/azure/aks/workload-identity-overview). Tests against Azurite set
``AZURE_STORAGE_CONNECTION_STRING`` instead, which the cluster never does.
"""

from __future__ import annotations

# --- common ------------------------------------------------------------------------------------
STORAGE_ACCOUNT_URL = "AZURE_STORAGE_ACCOUNT_URL"
"""Blob endpoint of the data lake, ``https://<account>.blob.core.windows.net``."""
STORAGE_CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"
"""Tests only (Azurite): used instead of the account URL + workload identity when set."""
MLFLOW_TRACKING_URI = "MLFLOW_TRACKING_URI"
"""The stack's MLflow server, e.g. ``http://mlflow.mlflow.svc.cluster.local:5000``."""
METRICS_PORT = "METRICS_PORT"
"""Port of the Prometheus ``/metrics`` endpoint a workload serves (default 9100)."""
DEFAULT_METRICS_PORT = 9100
CODE_VERSION = "CODE_VERSION"
"""Commit the workload image was built from (tagged on model versions)."""
IMAGE_DIGEST = "IMAGE_DIGEST"
"""Digest of the running image (tagged on model versions)."""

# PostgreSQL (pgvector): libpq's own variables, plus a file holding the password that the
# Secrets Store CSI driver mounts from Key Vault (never a Kubernetes Secret, never the env).
PG_HOST = "PGHOST"
PG_PORT = "PGPORT"
PG_DATABASE = "PGDATABASE"
PG_USER = "PGUSER"
PG_SSLMODE = "PGSSLMODE"
DB_PASSWORD_FILE = "DB_PASSWORD_FILE"

# --- vector store --------------------------------------------------------------------------------
VECTOR_ENGINE = "VECTOR_ENGINE"
"""``pgvector`` or ``qdrant``."""
VECTOR_COLLECTION = "VECTOR_COLLECTION"
"""Table (pgvector) or collection (Qdrant) name."""
VECTOR_DIMENSIONS = "VECTOR_DIMENSIONS"
VECTOR_DISTANCE = "VECTOR_DISTANCE"
"""``cosine``, ``l2`` or ``inner_product``: the distance the store's index serves (Qdrant
collections are created with it; pgvector's index is the schema job's)."""
QDRANT_URL = "QDRANT_URL"
"""In-cluster Qdrant, e.g. ``http://qdrant.qdrant.svc.cluster.local:6333``."""
QDRANT_API_KEY_FILE = "QDRANT_API_KEY_FILE"
"""File holding the Qdrant API key, mounted from Key Vault by the Secrets Store CSI driver."""

# --- ingest --------------------------------------------------------------------------------------
DOCUMENTS_CONTAINER = "DOCUMENTS_CONTAINER"
"""Data-lake container of documents (``documents``); new blobs wait under ``incoming/``."""
CHUNK_SIZE = "CHUNK_SIZE"
CHUNK_OVERLAP = "CHUNK_OVERLAP"
EMBEDDER = "EMBEDDER"
"""``hashing`` (deterministic, local, no model download) or ``sentence-transformers:<model>``."""

# --- retrain / monitor ---------------------------------------------------------------------------
RAW_CONTAINER = "RAW_CONTAINER"
"""Data-lake container of training batches (``raw``); new batches wait under ``incoming/``."""
CURATED_CONTAINER = "CURATED_CONTAINER"
"""Data-lake container of labelled recent data the monitor evaluates on (``curated``)."""
MODEL_NAME = "MODEL_NAME"
"""Registered model name in MLflow."""
CHAMPION_MARGIN = "CHAMPION_MARGIN"
"""How much better (absolute score, 0..1) a challenger must be to take the champion alias."""
RAY_ADDRESS = "RAY_ADDRESS"
"""Set inside a RayJob: the retrain runs its hyperparameter search on Ray."""
TUNE_TRIALS = "TUNE_TRIALS"
"""Ray path of the retrain: how many Ray Tune trials (default 8)."""
MONITOR_INTERVAL_SECONDS = "MONITOR_INTERVAL_SECONDS"
"""Seconds between two evaluations by the monitor (default 300)."""

# --- serving -------------------------------------------------------------------------------------
SERVE_MODEL_NAME = "SERVE_MODEL_NAME"
SERVE_MODEL_VERSION = "SERVE_MODEL_VERSION"
"""The exact registered version the release block names (never an alias)."""
SERVE_PORT = "SERVE_PORT"
"""Port of the model server's HTTP API (predictions and probes; default 8080)."""
DEFAULT_SERVE_PORT = 8080
# The model server's HTTP paths (workloads/serve answers them, components/serving probes them).
SERVE_PREDICT_PATH = "/invocations"
"""MLflow's scoring protocol: POST a JSON ``dataframe_split`` / ``inputs`` / ``instances``."""
SERVE_READY_PATH = "/ready"
"""200 once the model version is loaded, 503 before: the readiness probe."""
SERVE_LIVE_PATH = "/live"
"""200 while the server's event loop answers (also while the model loads): the liveness probe."""
