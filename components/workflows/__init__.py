"""Workflows: the MLOps loop (retrain on schedule / new data / degradation, ingestion, the
monitor) on KEDA, and KubeRay for retrains that outgrow one node."""
