"""MLflow tracking server and model registry on AKS, and the exact server command it runs."""
