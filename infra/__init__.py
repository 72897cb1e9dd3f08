"""The aks-mlops Pulumi program: typed stack config, composition of components, offline plan."""
