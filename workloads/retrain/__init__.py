"""The retrain job (``python -m workloads.retrain [--ray]``): validated batches in, a
registered, versioned model out, ``champion`` moved only for a better one."""
