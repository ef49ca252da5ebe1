"""What a batch job can be asked for, and its defaults: torch-free, so the command line can parse it."""

from __future__ import annotations

from dataclasses import dataclass

from realtime.errors import RealtimeError
from realtime.imaging.images import DEFAULT_IMAGE_SIZE, DEFAULT_QUALITY
from realtime.model.style_spec import DEFAULT_STYLE_SIZE

# Follows paintings it never trained on 2.7× more closely than msgnet21: a dataset's styles are such paintings.
DEFAULT_WEIGHTS = "msgnet21-wikiart"
MANIFEST_NAME = "manifest.jsonl"
FORMATS = ("same", "jpg", "png", "webp")  # "same": each output keeps its input's extension
STYLE_SEPARATOR = "__"  # with several styles per image: class/img__painting.jpg
# Images per generator call: a GPU needs several to be busy; on a CPU one image already fills every core.
DEFAULT_BATCH = {"cuda": 8, "cpu": 1}


@dataclass(frozen=True)
class RenderSettings:
    """How each output is made, the same on every worker: the generator, the sizes, the output encoding.

    `weights` is a path or a shipped file's name, `vgg` a path: on a cluster they must be reachable at the
    same path on every node. `batch` 0 = the device's default (`DEFAULT_BATCH`). `palette`: each output in
    its painting's colours (`realtime.imaging.palette`).
    """

    weights: str = DEFAULT_WEIGHTS
    device: str = "auto"
    size: int = DEFAULT_IMAGE_SIZE
    style_size: int = DEFAULT_STYLE_SIZE
    quality: int = DEFAULT_QUALITY
    refine: int = 0
    vgg: str | None = None
    batch: int = 0
    palette: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.quality <= 100:
            raise RealtimeError(f"quality must be between 1 and 100, got {self.quality}")
        for name in ("size", "refine", "batch"):
            if getattr(self, name) < 0:
                raise RealtimeError(f"{name} must be 0 or more, got {getattr(self, name)}")
        if self.style_size < 1:
            raise RealtimeError(f"style size must be 1 or more, got {self.style_size}")

    def batch_for(self, device_type: str) -> int:
        return self.batch or DEFAULT_BATCH.get(device_type, 1)
