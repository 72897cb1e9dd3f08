"""Online serving: released MLflow model versions (MLflow scoring server behind KEDA) and
LLM presets through the AKS AI toolchain operator (KAITO)."""
