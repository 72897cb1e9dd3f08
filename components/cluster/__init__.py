"""Cluster and GPU: AKS, its node pools (CPU and GPU), the GPU size catalog and the NVIDIA
device plugin."""
