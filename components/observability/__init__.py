"""Observability: Log Analytics + Container Insights, Azure Monitor workspace (managed
Prometheus) with its data collection, Managed Grafana and dashboards, diagnostic settings, the
action group, Prometheus alert rule groups, and GPU telemetry (DCGM exporter)."""
