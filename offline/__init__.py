"""The offline tooling, beside the program: run the real program under Pulumi's mock runtime
(``runner``), summarise it (``summary``), write its Kubernetes manifests (``manifests``), and
the plan CLI (``cli``)."""
