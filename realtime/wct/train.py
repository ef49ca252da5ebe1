"""Training the decoders: each level's decoder learns to turn that level's VGG features back into the photo.

The loss is Li et al.'s: pixel reconstruction (mean squared error on 0–1 pixels, so PSNR = −10 log10 of
it) plus the feature reconstruction at the decoder's own level (the re-encoded output's features next to
the photo's, relative to their size: `content_change`), so the decoder also inverts features the photo
never had, as WCT hands it. Levels train one after another, shallow first (they need far fewer steps).

Checkpoints (decoders, optimiser, level, step, history) are written every --checkpoint-every steps, at the
end of each level and on Ctrl-C or SIGTERM; a resumed run continues where it stopped, and crops are drawn
from a generator seeded by level and step, so it draws what an uninterrupted run would have. The decoders
file is (re)written whenever a level finishes, so finished levels are usable while the next one trains.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm

from realtime.atomic import atomic_output
from realtime.checkpoint import load_checkpoint, save_checkpoint
from realtime.device import resolve_device
from realtime.errors import RealtimeError
from realtime.imaging.images import image_files
from realtime.imaging.photoset import ContentSet, read_images
from realtime.perceptual.quality import content_change
from realtime.perceptual.vgg import VGGFeatures
from realtime.stopping import StopRequests
from realtime.wct.decoder import Decoder, vgg_channels
from realtime.wct.decoders import DecoderSet, save_decoders, vgg_identity
from realtime.wct.precision import use_bf16
from realtime.wct.reconstruction import HELD_OUT_PHOTOS, held_out_photos, reconstruction_psnr
from realtime.wct.settings import LEVELS, DecoderTrainConfig

CHECKPOINT_FORMAT = "realtime-wct-decoder-training"
VALIDATION_SIZE = 256  # held-out photos are scored as 256 px centre crops during training
PATH_OPTIONS = ("content", "vgg", "out", "checkpoint", "log")  # machine-specific: left out of the decoders file


@dataclass
class DecoderRunResult:
    status: str  # "finished" or "interrupted"
    levels_done: list[str]
    checkpoint: Path
    out: Path | None
    psnr: dict[str, float]


class DecoderTraining:
    """The state of a run (config, decoders, optimiser, position, history) and one optimiser step."""

    def __init__(
        self,
        config: DecoderTrainConfig,
        vgg: VGGFeatures,
        identity: dict[str, str],
        device: torch.device,
        photos: ContentSet,
    ) -> None:
        self.config, self.vgg, self.identity, self.device = config, vgg.to(device), identity, device
        self.bf16 = use_bf16(config.precision, device)
        self.channels = vgg_channels(vgg)
        self.decoders: dict[str, Decoder] = {}
        self.level_index, self.step = 0, 0
        self.history: list[dict[str, Any]] = []
        self.train_seconds = 0.0
        self._start_level(photos)

    @property
    def level(self) -> str:
        return self.config.levels[self.level_index]

    @property
    def done(self) -> bool:
        return self.level_index >= len(self.config.levels)

    def _start_level(self, photos: ContentSet) -> None:
        """A new decoder for the current level, its input scale set from the photos' features (their RMS)."""
        if self.done:
            return
        torch.manual_seed(self.config.seed + LEVELS.index(self.level))
        decoder = Decoder(self.level, self.config.width, self.channels).to(self.device)
        with torch.no_grad():
            features = self.vgg(self.batch(photos), [self.level])[self.level]
        decoder.input_scale.fill_(1 / features.pow(2).mean().sqrt().clamp_min(1e-6))
        shallower = LEVELS[LEVELS.index(self.level) - 1] if self.level != LEVELS[0] else None
        if shallower in self.decoders:
            decoder.start_from(self.decoders[shallower])
        self.decoders[self.level] = decoder
        self.optimizer = torch.optim.Adam(decoder.parameters(), lr=self.config.lr)

    def next_level(self, photos: ContentSet) -> None:
        self.level_index, self.step = self.level_index + 1, 0
        self._start_level(photos)

    def learning_rate(self) -> float:
        """Constant, then a linear decay to a tenth over the level's last (1 − lr_decay_from) of steps."""
        steps = self.config.steps_of(self.level)
        start = self.config.lr_decay_from * steps
        fraction = max(0.0, (self.step - start) / max(1.0, steps - start))
        return self.config.lr * (1 - 0.9 * min(1.0, fraction))

    def batch(self, photos: ContentSet) -> Tensor:
        """B×3×S×S float crops, drawn from a generator seeded by level and step (reproducible on resume)."""
        generator = torch.Generator().manual_seed((self.config.seed * 10 + self.level_index) * 1_000_003 + self.step)
        indices = torch.randint(len(photos), (self.config.batch,), generator=generator)
        return photos.crops(indices, torch.rand(self.config.batch, 3, generator=generator)).float()

    def train_step(self, images: Tensor) -> tuple[float, float]:
        """One optimiser step on a batch; returns (pixel MSE on 0–1, relative feature change)."""
        level, decoder = self.level, self.decoders[self.level]
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate()
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            with torch.no_grad():
                features = self.vgg(images, [level])[level]
            decoded = decoder(features)
            again = self.vgg(decoded, [level])[level]
        pixel = F.mse_loss(decoded.float() / 255, images / 255)
        feature = content_change(again, features).mean()
        loss = pixel + self.config.feature_weight * feature
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step += 1
        return float(pixel.detach()), float(feature.detach())

    def state_dict(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "config": self.config.to_dict(),
            "vgg": self.identity,
            "level_index": self.level_index,
            "step": self.step,
            "decoders": {level: decoder.state_dict() for level, decoder in self.decoders.items()},
            "optimizer": self.optimizer.state_dict() if not self.done else {},
            "history": self.history,
            "train_seconds": self.train_seconds,
        }

    def load_state_dict(self, state: dict[str, Any], source: str) -> None:
        if state.get("vgg", {}).get("fingerprint") != self.identity["fingerprint"]:
            raise RealtimeError(
                f"{source} trained decoders for another VGG16 ({state.get('vgg', {}).get('name')}); "
                "resume with the same --vgg"
            )
        for level, weights in state["decoders"].items():
            decoder = self.decoders.setdefault(level, Decoder(level, self.config.width, self.channels))
            decoder.to(self.device).load_state_dict(weights)
        self.level_index, self.step = state["level_index"], state["step"]
        self.history, self.train_seconds = list(state["history"]), float(state["train_seconds"])
        if not self.done:
            self.optimizer = torch.optim.Adam(self.decoders[self.level].parameters(), lr=self.config.lr)
            if state["optimizer"]:
                self.optimizer.load_state_dict(state["optimizer"])

    def decoder_set(self, scores: dict[str, float]) -> DecoderSet:
        """The finished levels as a decoders file holds them, with the recipe and the held-out scores."""
        finished = list(self.config.levels[: self.level_index])
        recipe = {k: v for k, v in self.config.to_dict().items() if k not in PATH_OPTIONS}
        training = {
            "recipe": recipe,
            "precision": "bf16" if self.bf16 else "fp32",
            "device": self.device.type,
            "train_minutes": round(self.train_seconds / 60, 1),
            "held_out_psnr": {level: round(scores[level], 2) for level in finished if level in scores},
            "held_out_photos": [f"{p} ({VALIDATION_SIZE} px centre crop)" for p in HELD_OUT_PHOTOS],
        }
        return DecoderSet({level: self.decoders[level] for level in finished}, self.identity, training)


def resolve_decoder_config(options: dict[str, Any], state: dict[str, Any] | None) -> DecoderTrainConfig:
    """The checkpoint's config (when resuming) updated with this command line's options; outputs follow the latter."""
    values = dict(state["config"]) if state is not None else {}
    if state is not None:
        values.pop("checkpoint", None)
        values.pop("log", None)
        if "levels" in options and tuple(options["levels"]) != tuple(values["levels"]):
            raise RealtimeError("a resumed run keeps its --levels; start a new run for other levels")
    values.update(options)
    config = DecoderTrainConfig.from_dict(values)
    if not config.checkpoint and config.out:
        config.checkpoint = str(Path(config.out).with_suffix(".ckpt.pt"))
    if config.checkpoint and not config.log:
        config.log = str(Path(config.checkpoint).with_suffix(".log.json"))
    config.validate()
    return config


class DecoderRun:
    """One `realtime train-decoder` call: the loop over levels and steps, checkpoints, log and decoders file."""

    def __init__(self, training: DecoderTraining, photos: ContentSet, progress: bool = True) -> None:
        self.training, self.photos, self.progress = training, photos, progress
        self.held_out = held_out_photos(VALIDATION_SIZE)
        self.scores: dict[str, float] = {
            row["level"]: row["psnr"] for row in training.history if "psnr" in row
        }  # the latest held-out PSNR per level

    def run(self) -> DecoderRunResult:
        training, config = self.training, self.training.config
        total = sum(config.steps_of(level) for level in config.levels)
        done = sum(config.steps_of(level) for level in config.levels[: training.level_index]) + training.step
        bar = tqdm(total=total, initial=done, desc="decoders", unit="step", file=sys.stderr, disable=not self.progress)
        status, clock = "finished", time.monotonic()
        with StopRequests() as stop, bar:
            while not training.done:
                if stop.requested:
                    status = "interrupted"
                    break
                pixel, feature = training.train_step(training.batch(self.photos))
                bar.update(1)
                bar.set_postfix(level=training.level, pixel=f"{pixel:.4g}", feature=f"{feature:.3g}")
                row = {"level": training.level, "step": training.step, "pixel": pixel, "feature": feature}
                last = training.step >= config.steps_of(training.level)
                if last or (config.val_every and training.step % config.val_every == 0):
                    row["psnr"] = self.scores[training.level] = self._validate()
                    bar.set_postfix(level=training.level, pixel=f"{pixel:.4g}", psnr=f"{row['psnr']:.2f}")
                training.history.append(row)
                now = time.monotonic()
                training.train_seconds, clock = training.train_seconds + now - clock, now
                if last:
                    training.next_level(self.photos)
                    self._save(write_out=True)
                elif config.checkpoint_every and training.step % config.checkpoint_every == 0:
                    self._save()
                clock = time.monotonic()
        if status == "interrupted":
            self._save()
        return DecoderRunResult(
            status,
            list(config.levels[: training.level_index]),
            Path(config.checkpoint),
            Path(config.out) if config.out and training.level_index else None,
            dict(self.scores),
        )

    def _validate(self) -> float:
        return reconstruction_psnr(self.training.decoders[self.training.level], self.training.vgg, self.held_out)

    def _save(self, write_out: bool = False) -> None:
        training, config = self.training, self.training.config
        save_checkpoint(training.state_dict(), config.checkpoint)
        log = {
            "config": config.to_dict(),
            "train_seconds": round(training.train_seconds, 1),
            "history": training.history,
        }
        with atomic_output(config.log) as tmp:
            tmp.write_text(json.dumps(log, indent=1))
        if write_out and config.out:
            save_decoders(training.decoder_set(self.scores), config.out)


def run_decoder_training(
    options: dict[str, Any], resume: str | Path | None = None, device: str = "auto", progress: bool = True
) -> DecoderRunResult:
    """Start or resume a run from command-line style options (the `realtime train-decoder` API)."""
    state = load_checkpoint(resume) if resume is not None else None
    if state is not None and state.get("format") != CHECKPOINT_FORMAT:
        raise RealtimeError(f"{resume} is not a decoder training checkpoint")
    if state is not None and "checkpoint" not in options:
        options = {**options, "checkpoint": str(resume)}
    config = resolve_decoder_config(options, state)
    torch_device = resolve_device(device)
    vgg = VGGFeatures.load(config.vgg, "vgg16")
    identity = vgg_identity(vgg, Path(config.vgg).name if config.vgg else "torchvision's ImageNet VGG16")
    _, frames = read_images(image_files(config.content, "content"), "content")
    photos = ContentSet(frames, config.size, torch_device)
    training = DecoderTraining(config, vgg, identity, torch_device, photos)
    if state is not None:
        training.load_state_dict(state, str(resume))
    if progress:
        tqdm.write(
            f"realtime: training WCT decoders ({', '.join(config.levels)}; width {config.width:g}) on {torch_device} "
            f"({'bf16' if training.bf16 else 'fp32'}): {len(photos)} photos, batch {config.batch} at {config.size} px; "
            f"{'resuming' if state is not None else 'starting'} at {training.level if not training.done else 'the end'} "
            f"step {training.step}",
            file=sys.stderr,
        )
    return DecoderRun(training, photos, progress).run()
