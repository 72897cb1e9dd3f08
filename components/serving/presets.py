"""KAITO inference presets the platform knows, with the GPU memory each needs.

From KAITO's preset definitions (kaito-project/kaito, ``presets/workspace/models/phi3/model.go``,
``GetInferenceParameters``: ``GPUCountRequirement`` and ``TotalGPUMemoryRequirement``). KAITO's
own controller checks the same numbers for the instance types it knows; the config check here
fails the stack file before anything is deployed, naming the key. Extend the table from the
preset's ``model.go`` of the KAITO version the add-on ships (README, "Serving models").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class KaitoPreset:
    """What one preset needs from a node."""

    gpus: int
    """GPUs the preset's inference pod requests (``GPUCountRequirement``)."""
    total_gpu_memory_gib: int
    """GPU memory across those GPUs (``TotalGPUMemoryRequirement``)."""


KAITO_PRESETS: dict[str, KaitoPreset] = {
    "phi-3-mini-4k-instruct": KaitoPreset(gpus=1, total_gpu_memory_gib=9),
    "phi-3-mini-128k-instruct": KaitoPreset(gpus=1, total_gpu_memory_gib=9),
    "phi-3.5-mini-instruct": KaitoPreset(gpus=1, total_gpu_memory_gib=8),
    "phi-3-medium-4k-instruct": KaitoPreset(gpus=1, total_gpu_memory_gib=28),
    "phi-3-medium-128k-instruct": KaitoPreset(gpus=1, total_gpu_memory_gib=28),
}
