"""The bootstrap program: what every stack of aks-mlops needs before its first ``pulumi up``."""
