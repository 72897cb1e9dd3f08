"""The small shared kit: naming (CAF abbreviations, Azure name rules), the shared Azure
interfaces (role assignments, private endpoints, stateful options) and Kubernetes helpers."""
