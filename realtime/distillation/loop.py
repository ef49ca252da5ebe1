"""The student's training loop: crops of the teacher's pictures in, the student's weights out, resumable.

Each step takes a batch of crops of photos and the teacher's pictures of them (the same crop of both,
mirrored at random), encodes each sample's style picture with the student's own encoder (the siamese
path a user's painting takes at run time, so paintings it never saw still steer it), and holds the student's
picture to the teacher's (`losses`). The texture term's VGG pass costs about ten student steps, so it runs
on every `texture_every`-th step only. Checkpoints hold the student, Adam's state and the counters; the
batch of step N depends only on the seed and N, so a resumed run continues the same sequence.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from realtime.checkpoint import load_checkpoint, save_checkpoint
from realtime.distillation.losses import FeatureLoss, TextureLoss, edge_loss, palette_loss, pixel_loss
from realtime.distillation.pictures import PictureSet
from realtime.distillation.settings import DistillConfig
from realtime.distillation.teacher import Teacher
from realtime.distillation.warm_start import warm_start
from realtime.errors import RealtimeError
from realtime.imaging.frames import fit_long_side, frame_to_tensor, pad_for_generator
from realtime.model.msgnet import MSGNet
from realtime.model.targets import StyleBank
from realtime.model.weights import Weights, save_weights
from realtime.perceptual.vgg import VGGFeatures
from realtime.stopping import StopRequests

VAL_PHOTO_EVERY = 50  # every 50th photo of the set is held out: its samples score the student, never train it
VAL_SAMPLES = 16


class StudentData:
    """The picture set in memory: training and held-out samples, crops, and the style pictures as tensors."""

    def __init__(self, pictures: PictureSet, style_side: int) -> None:
        samples = pictures.load()
        self.styles, style_frames = pictures.styles()
        self.style_images = [
            pad_for_generator(frame_to_tensor(fit_long_side(frame, style_side) if style.builtin else frame))
            for style, frame in zip(self.styles, style_frames)
        ]
        self.photos, self.pictures, self.style_ids = samples["photos"], samples["pictures"], samples["style_ids"]
        held = samples["photo_ids"] % VAL_PHOTO_EVERY == 0
        self.train = torch.nonzero(~held).flatten()
        self.val = torch.nonzero(held).flatten()[:VAL_SAMPLES]
        if not len(self.train):
            raise RealtimeError(f"{pictures.folder} has no samples to train on")

    def batch(self, rng: np.random.Generator, size: int, crop: int) -> tuple[Tensor, Tensor, list[int]]:
        """Photos and the teacher's pictures, B×3×crop×crop float 0–255, and the samples' style indices."""
        chosen = self.train[torch.from_numpy(rng.integers(len(self.train), size=size))]
        side = self.photos.shape[1]
        photos, pictures = [], []
        for index in chosen.tolist():
            top, left = rng.integers(side - crop + 1, size=2)
            flip = rng.random() < 0.5
            for source, out in ((self.photos, photos), (self.pictures, pictures)):
                part = source[index, top : top + crop, left : left + crop]
                out.append(part.flip(1) if flip else part)
        to_float = lambda frames: torch.stack(frames).permute(0, 3, 1, 2).float()  # noqa: E731
        return to_float(photos), to_float(pictures), self.style_ids[chosen].tolist()

    @property
    def builtins(self) -> list[int]:
        return [i for i, style in enumerate(self.styles) if style.builtin]


class Distiller:
    """Trains a student on a picture set; `run` goes until the steps are done, the time is up or a stop."""

    def __init__(
        self,
        config: DistillConfig,
        data: StudentData,
        teacher: Weights,
        vgg: VGGFeatures | None,
        device: torch.device | str = "cpu",
    ) -> None:
        side = data.photos.shape[1]
        if config.crop > side:
            raise RealtimeError(f"--crop {config.crop} is larger than the pictures' side, {side}: lower it")
        names = [data.styles[i].name for i in data.builtins]
        if names != teacher.bank.names():
            raise RealtimeError(f"the picture set's built-in styles are not those of the teacher {teacher.source}")
        self.config = config
        self.data = data
        self.device = torch.device(device)
        self.data.style_images = [image.to(self.device) for image in data.style_images]
        self.teacher = Teacher(teacher, data.styles, data.style_images, self.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)  # the same start for the same seed: a resumed run is the same run
            self.model = MSGNet(**config.shape).to(self.device)
            self.features = FeatureLoss(self.model.target_channels, teacher.model.target_channels).to(self.device)
        # The built-in styles' targets are learnt with the generator, as free tensors, from their pictures'
        # targets: a free target steers the Inspiration layer directly (a per-style mixing of the features), where
        # the encoder's target of each picture can only move through weights every style shares. Pictures
        # steered by the encoder alone came out nearly alike in candy and in Starry Night after 750 steps.
        self.bank = torch.nn.Parameter(self._encoded_bank())
        learnt = [*self.model.parameters(), self.bank, *self.features.parameters()]
        self.optimizer = torch.optim.Adam(learnt, lr=config.lr)
        # With a VGG the held-out samples are scored by their texture too, whether or not the loss uses it.
        self.texture = TextureLoss(vgg, config.texture_layers) if vgg is not None else None
        self.step = 0
        self.seconds = 0.0
        self.history: list[dict[str, Any]] = []
        self._val_references: dict[int, dict[str, tuple[Tensor, Tensor]]] = {}

    @torch.no_grad()
    def _encoded_bank(self) -> Tensor:
        return torch.cat([self.model.encode_style(self.data.style_images[i]) for i in self.data.builtins])

    def targets(self, style_ids: list[int]) -> Tensor:
        """B×C×C: a built-in's learnt target, a painting's picture through the student's encoder (with gradients)."""
        row = {style: i for i, style in enumerate(self.data.builtins)}
        return torch.stack(
            [
                self.bank[row[i]] if i in row else self.model.encode_style(self.data.style_images[i])[0]
                for i in style_ids
            ]
        )

    def start_from(self, weights: Weights, progress: bool = True) -> list[str]:
        """Start as `weights`' generator re-expressed in the student's shape (`warm_start`); what was copied."""
        names = weights.bank.names()
        if not names:
            raise RealtimeError(f"{weights.source} has no built-in styles to fit the student's start with")
        if weights.model.target_channels != self.model.target_channels:
            raise RealtimeError(
                f"{weights.source} has a trunk of {weights.model.target_channels} channels, the student "
                f"{self.model.target_channels}: it cannot start as it"
            )
        targets = torch.stack([weights.bank[name] for name in names]).to(self.device)
        photos = self.data.photos[self.data.train]
        copied = warm_start(
            self.model,
            weights.model.to(self.device),
            photos,
            targets,
            crop=self.config.crop,
            seed=self.config.seed,
            progress=progress,
        )
        self.bank.data.copy_(self._encoded_bank())
        return copied

    def resume(self, path: str | Path) -> None:
        state = load_checkpoint(path)
        if state.get("kind") != "distill" or state["config"]["shape"] != self.config.shape:
            raise RealtimeError(f"{path} is not a checkpoint of a student of shape {self.config.shape}")
        self.model.load_state_dict(state["model"])
        self.bank.data.copy_(state["bank"])
        self.features.load_state_dict(state["features"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.seconds, self.history = state["step"], state["seconds"], state["history"]

    def save(self) -> None:
        state = {
            "kind": "distill",
            "config": self.config.to_dict(),
            "model": self.model.state_dict(),
            "bank": self.bank.detach().cpu(),
            "features": self.features.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "seconds": self.seconds,
            "history": self.history,
        }
        save_checkpoint(state, self.config.checkpoint)

    def train_step(self) -> dict[str, float]:
        config = self.config
        rng = np.random.default_rng([config.seed, self.step])
        photos, pictures, style_ids = self.data.batch(rng, config.batch, config.crop)
        photos, pictures = photos.to(self.device), pictures.to(self.device)
        self.model.train()
        features = self.model.trunk(photos, self.targets(style_ids))
        output = self.model.paint(features)
        terms = {
            "pixel": pixel_loss(output, pictures),
            "edge": edge_loss(output, pictures),
            "palette": palette_loss(output, pictures),
        }
        loss = terms["pixel"] + config.edge_weight * terms["edge"] + config.palette_weight * terms["palette"]
        if config.feature_weight:
            terms["feature"] = self.features(features, self.teacher.trunk(photos, style_ids))
            loss = loss + config.feature_weight * terms["feature"]
        if self.texture is not None and config.texture_weight and self.step % config.texture_every == 0:
            side = config.crop
            size = min(config.texture_crop, side)
            top, left = rng.integers(side - size + 1, size=2)
            window = (..., slice(top, top + size), slice(left, left + size))
            reference = self.texture.reference(pictures[window], photos[window])
            terms["texture"] = self.texture(output[window], reference)
            loss = loss + config.texture_weight * terms["texture"]
        for group in self.optimizer.param_groups:
            group["lr"] = config.learning_rate(self.step)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {name: float(value.detach()) for name, value in terms.items()}

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """The held-out samples, whole: pixel difference, and the texture ratio when there is a VGG."""
        self.model.eval()
        scores: dict[str, list[float]] = {"pixel": [], "texture": []}
        for index in self.data.val.tolist():
            photo, picture = (
                images[index : index + 1].permute(0, 3, 1, 2).float().to(self.device)
                for images in (self.data.photos, self.data.pictures)
            )
            output = self.model(photo, self.targets([int(self.data.style_ids[index])]))
            output = output.clamp(0, 255)
            scores["pixel"].append(float(pixel_loss(output, picture)))
            if self.texture is not None:
                if index not in self._val_references:  # the teacher's side never changes: scored once
                    self._val_references[index] = self.texture.reference(picture, photo)
                scores["texture"].append(float(self.texture(output, self._val_references[index])))
        return {name: float(np.mean(values)) for name, values in scores.items() if values}

    def run(self, time_limit: float = 0.0, progress: bool = True, chunk_steps: int = 0) -> str:
        """Train until the last step ("finished"), `time_limit` seconds ("time limit"), `chunk_steps` steps in
        this call ("chunk done") or a stop request ("stopped"); a checkpoint is written in each case."""
        config = self.config
        began, first = time.monotonic(), self.step
        recent: dict[str, list[float]] = {}
        with (
            StopRequests() as stop,
            tqdm(total=config.steps, initial=self.step, desc="distilling", unit="step", disable=not progress) as bar,
        ):
            while self.step < config.steps:
                started = time.monotonic()
                for name, value in self.train_step().items():
                    recent.setdefault(name, []).append(value)
                self.step += 1
                self.seconds += time.monotonic() - started
                bar.update(1)
                bar.set_postfix({name: f"{np.mean(values[-50:]):.4f}" for name, values in recent.items()})
                if self.step % config.val_every == 0 or self.step == config.steps:
                    row = {"step": self.step, "minutes": round(self.seconds / 60, 2)}
                    row.update({name: float(np.mean(values)) for name, values in recent.items()})
                    row["val"] = self.validate()
                    self.history.append(row)
                    recent = {}
                    bar.write(f"step {self.step}: {row}")
                status = (
                    "stopped"
                    if stop.requested
                    else "time limit"
                    if time_limit and time.monotonic() - began >= time_limit
                    else "chunk done"
                    if chunk_steps and self.step - first >= chunk_steps and self.step < config.steps
                    else None
                )
                if status or self.step % config.checkpoint_every == 0:
                    self.save()
                if status:
                    return status
        self.save()
        return "finished"

    @torch.no_grad()
    def export(self) -> Weights:
        """The student as a weights file's contents: its learnt targets are the bank; the teacher's VGG bank
        serves Gatys mode."""
        self.model.eval()
        teacher = self.teacher.weights
        names = [self.data.styles[i].name for i in self.data.builtins]
        bank = dict(zip(names, self.bank.detach().cpu()))
        training = {
            "trained": True,
            "method": "distillation",
            "teacher": Path(teacher.source).name,
            "steps": self.step,
            "finished": self.step >= self.config.steps,
            "images_seen": self.step * self.config.batch,
            "train_minutes": round(self.seconds / 60, 1),
            "recipe": {k: v for k, v in self.config.to_dict().items() if k not in ("pictures", "out", "checkpoint")},
            "final_val": self.history[-1]["val"] if self.history else None,
        }
        model = MSGNet(**self.config.shape)
        model.load_state_dict({name: value.cpu() for name, value in self.model.state_dict().items()})
        return Weights(model.eval(), StyleBank(bank), training, "", teacher.vgg_bank, teacher.vgg_bank_info)

    def write(self) -> None:
        save_weights(self.export(), self.config.out)
