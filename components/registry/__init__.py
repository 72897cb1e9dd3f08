"""Container registry (ACR)."""
