"""The promotion tool: carries a registered model version from one stack's MLflow to the next.

``make promote FROM=dev TO=test`` (or ``aks-mlops-promote --from dev --to test``):

1. checks the promotion before touching anything (:mod:`promote.stages`: stage order from the
   stacks' ``tags.environment``, approval for prod; :mod:`promote.record`: the target's
   release pins were not edited by hand since its last promotion);
2. picks the source version (the source registry's ``champion`` alias, or ``--version``);
3. copies that version into the target's registry (:mod:`promote.copy`) with lineage tags and
   verifies every artifact's sha256, or finds the copy an earlier run made (idempotent);
4. rewrites the target stack file's ``release.models`` pin and the promotion record
   atomically, keeping comments (:mod:`promote.stackfile`), and prints the diff.
"""
