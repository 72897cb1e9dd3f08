"""Online model server: one exact registered MLflow model version over HTTP.

``python -m workloads.serve`` loads ``models:/<SERVE_MODEL_NAME>/<SERVE_MODEL_VERSION>`` through
the stack's MLflow server (``MLFLOW_TRACKING_URI``; the server proxies the artifacts, so the pod
needs no storage role) and serves it with MLflow's own scoring server
(``mlflow.pyfunc.scoring_server``: ``POST /invocations``), wrapped so that every prediction
request is counted and timed per the metrics contract (``serving_requests_total``,
``serving_request_duration_seconds``) on ``METRICS_PORT``. Readiness (``/ready``) turns 200 only
once the model is loaded; liveness (``/live``) answers meanwhile.
"""
