"""What every reference workload shares: blob access, the metrics endpoint, settings."""
