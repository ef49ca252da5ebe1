"""Universal style transfer (Li et al., NeurIPS 2017): any painting, no training on styles, coarse to fine.

At each level, deepest first, the picture so far is encoded by the VGG, its features are whitened and
coloured with the painting's statistics (`transform.py`) and decoded back to pixels. The deep levels set
the painting's large-scale structure, the shallow ones its strokes, texture and colour.

What is decoded is the change (`decode_change`, the default; not at relu1_2, whose decoder is near lossless):
the decoder turns both the transformed and the untransformed features into pixels, and their difference is
added to the picture. A perfect decoder
gives Li et al.'s picture exactly; a real one's own error (blur, shifted colours: the deep decoders
reconstruct photos at about 15–20 dB, docs/models/wct-decoders.md) is in both and cancels, so the photo's
edges and detail survive every level instead of passing through four lossy reconstructions.

Speed: the deep levels work on the picture at most `coarse_size` on the long side (512 by default, the
painting's own scale at the default style size), the shallow ones at full size, where the photo's detail
finer than the coarse pass saw is put back first (a Laplacian split: the coarse pass is upsampled and the
photo minus its own blurred copy added). A 1024 px still then costs about a quarter of the deep levels'
arithmetic, and a painting's strokes keep the same size relative to the picture at any resolution.
Convolutions run in bfloat16 where the processor has it natively (AVX512-BF16, CUDA), the transforms in
float32 with float64 eigendecompositions.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.profiler import record_function

from realtime.device import prepare_cuda, resolve_device
from realtime.errors import RealtimeError
from realtime.imaging.color import keep_colors
from realtime.imaging.frames import fit_size, frame_to_tensor, pad_to_multiple, resize, tensor_to_frame
from realtime.model.style_spec import StyleSpec
from realtime.perceptual.vgg import VGGFeatures
from realtime.wct.decoders import DecoderSet, load_decoders, vgg_identity
from realtime.wct.painting_stats import Statistics, StyleStatistics
from realtime.wct.precision import use_bf16
from realtime.wct.settings import WCTSettings
from realtime.wct.transform import whiten_colour

# Levels that work at full size; the deeper ones work at the coarse size.
FINE_LEVELS = ("relu2_2", "relu1_2")
# Levels whose decoder is near lossless (relu1_2's: two convolutions, ~29 dB on held-out photos), so the picture
# itself is decoded there, one decode instead of two: at 1024 px 11% faster, and by eye the same picture.
NEAR_LOSSLESS = ("relu1_2",)
# Three 2× poolings before relu4_3.
SIZE_MULTIPLE = 8


class WCT:
    """A painting-following stylizer: a VGG16 encoder, its decoders and the current paintings' statistics.

    `settings` (alpha, levels, sizes, colour) may be replaced between calls; `set_style` takes image paths
    or `sample:NAME`, with blend weights like the other methods.
    """

    def __init__(
        self,
        decoders: DecoderSet,
        vgg: VGGFeatures,
        device: torch.device | str = "cpu",
        settings: WCTSettings | None = None,
        vgg_name: str = "the VGG16 in use",
    ) -> None:
        self.device = torch.device(device)
        prepare_cuda(self.device)
        self.source = decoders.source
        self.available = decoders.levels
        self.settings = self._checked(settings or WCTSettings())
        decoders.check_vgg(vgg_identity(vgg, vgg_name))
        self.bf16 = use_bf16(self.settings.precision, self.device)
        layout = torch.channels_last if self.device.type == "cpu" else torch.contiguous_format
        self.vgg = vgg.to(self.device).to(memory_format=layout)
        self.decoders = {
            level: decoder.to(self.device).to(memory_format=layout) for level, decoder in decoders.decoders.items()
        }
        self.layout = layout
        self.styles = StyleStatistics(self.vgg, decoders.levels, self.device, self.settings.style_size)
        self.style: list[tuple[Statistics, float]] | None = None

    @classmethod
    def load(
        cls,
        decoders: str | Path | None = None,
        vgg: str | Path | None = None,
        device: str = "auto",
        settings: WCTSettings | None = None,
    ) -> WCT:
        """The shipped decoders (or a file), a local VGG16 file (or torchvision's download), on `device`."""
        decoder_set = load_decoders(decoders)  # a bad file fails before the VGG's download
        network = VGGFeatures.load(vgg, "vgg16")
        name = Path(vgg).name if vgg is not None else "torchvision's ImageNet VGG16"
        return cls(decoder_set, network, resolve_device(device), settings, name)

    def configure(self, **changes: object) -> None:
        """Change settings (alpha=…, levels=…, precision=…); a new style size empties the painting cache."""
        self.settings = self._checked(replace(self.settings, **changes))
        self.bf16 = use_bf16(self.settings.precision, self.device)
        if self.settings.style_size != self.styles.style_size:
            self.styles = StyleStatistics(self.vgg, self.styles.levels, self.device, self.settings.style_size)

    def _checked(self, settings: WCTSettings) -> WCTSettings:
        missing = [level for level in settings.levels if level not in self.available]
        if missing:
            raise RealtimeError(f"{self.source} has no decoder for {', '.join(missing)}")
        return settings

    def set_style(self, specs: Sequence[StyleSpec | str]) -> None:
        """One painting or a weighted blend of several (their transforms are blended at every level)."""
        self.style = self.styles.blend(StyleSpec.parse_all(specs))

    def _autocast(self) -> AbstractContextManager:
        return torch.autocast(self.device.type, dtype=torch.bfloat16) if self.bf16 else nullcontext()

    @torch.inference_mode()
    def stylize_tensor(self, content: Tensor) -> Tensor:
        """1×3×H×W float RGB 0–255 on this device → the same shape, stylised."""
        if self.style is None:
            raise RealtimeError("no style selected")
        settings = self.settings
        h, w = content.shape[-2:]
        photo = pad_to_multiple(content, SIZE_MULTIPLE)
        coarse = self._coarse(photo, settings.coarse_size)
        x = coarse
        for level in settings.levels:
            if level in FINE_LEVELS and x.shape[-2:] != photo.shape[-2:]:
                x = resize(x, photo.shape[-2:]) + (photo - resize(coarse, photo.shape[-2:]))
            x = self._level(x, level)
        if x.shape[-2:] != photo.shape[-2:]:  # only deep levels were asked for
            x = resize(x, photo.shape[-2:])
        out = x[..., :h, :w]
        if settings.preserve_color:
            out = keep_colors(out, content)
        return out.clamp(0, 255)

    def _coarse(self, photo: Tensor, coarse_size: int) -> Tensor:
        """The photo at the deep levels' working size (a multiple of 8), or itself when it is that small."""
        deep = [level for level in self.settings.levels if level not in FINE_LEVELS]
        h, w = photo.shape[-2:]
        if not deep or not coarse_size or max(h, w) <= coarse_size:
            return photo
        size = [max(SIZE_MULTIPLE, side // SIZE_MULTIPLE * SIZE_MULTIPLE) for side in fit_size(h, w, coarse_size)]
        return resize(photo, size)

    def _level(self, image: Tensor, level: str) -> Tensor:
        """Encode, transform with the paintings' statistics at `level`, decode (each part named for profilers)."""
        with self._autocast(), record_function("wct.encode"):
            features = self.vgg(image.contiguous(memory_format=self.layout), [level])[level]
        styles = [(stats[level], weight) for stats, weight in self.style]
        with record_function("wct.transform"):
            transformed = whiten_colour(features, styles, self.settings.alpha)
        with self._autocast(), record_function("wct.decode"):
            decoder = self.decoders[level]
            if not self.settings.decode_change or level in NEAR_LOSSLESS:
                return decoder(transformed.contiguous(memory_format=self.layout)).float().clamp(0, 255)
            change = decoder(transformed.contiguous(memory_format=self.layout)) - decoder(features)
            return (image + change.float()).clamp(0, 255)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 RGB → stylised frame of the same size."""
        return tensor_to_frame(self.stylize_tensor(frame_to_tensor(frame, self.device)))
