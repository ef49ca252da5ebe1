"""The teacher's pictures: photo crops painted by the teacher, in built-in styles and in paintings, kept on disk.

Painting is the costly part of distillation (a quarter of a second a crop for the full model on a 2-core CPU),
and each picture is used many times, so they are painted once into a folder of shards that training reads.
The plan (which photo, crop, style for each sample) follows from the seed alone, so an interrupted run
paints only the shards that are missing. Each shard holds its samples' photo crops, the teacher's pictures
(the generator's own colours: the palette a style picture gets is applied after any generator, teacher or
student) and the style index; `styles.safetensors` holds the style pictures themselves, so the student's
encoder sees the very pictures the teacher was steered by.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from tqdm import tqdm

from realtime.atomic import atomic_output, remove_leftovers
from realtime.errors import RealtimeError
from realtime.imaging.frames import fit_long_side, rescale
from realtime.imaging.images import read_image
from realtime.runtimes.look import Look
from realtime.runtimes.stylizer import Stylizer

SHARD_SAMPLES = 128
STYLES_FILE = "styles.safetensors"
PLAN_FILE = "plan.json"


@dataclass(frozen=True)
class PictureStyle:
    """A style of the picture set: a built-in of the teacher's bank (`builtin`) or a painting through its head."""

    name: str
    path: str
    builtin: bool


def plan_samples(
    photos: int, builtins: int, paintings: int, per_photo: tuple[int, int], seed: int
) -> list[tuple[int, int]]:
    """(photo, style) pairs: every photo in `per_photo[0]` built-ins and `per_photo[1]` paintings (styles
    0…builtins-1 are built-ins, the rest paintings), each style as often as the others, shuffled by `seed`."""
    rng = np.random.default_rng(seed)
    pairs = []
    for count, first, total in ((per_photo[0], 0, builtins), (per_photo[1], builtins, paintings)):
        if not count or not total:
            continue
        styles = first + np.resize(rng.permutation(total), photos * count)
        rng.shuffle(styles)
        pairs += [(int(photo), int(style)) for photo, style in zip(np.repeat(np.arange(photos), count), styles)]
    order = rng.permutation(len(pairs))
    return [pairs[i] for i in order]


def crop(photo: np.ndarray, size: int, where: tuple[float, float]) -> np.ndarray:
    """A size×size crop of `photo` with its short side scaled to `size`, placed by `where` (0–1, 0–1)."""
    scaled = rescale(photo, size / min(photo.shape[:2]))
    top = int(where[0] * (scaled.shape[0] - size + 1))
    left = int(where[1] * (scaled.shape[1] - size + 1))
    return np.ascontiguousarray(scaled[top : top + size, left : left + size])


class PictureSet:
    """A folder of the teacher's pictures: written by `paint`, read by the student's training."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def shard_path(self, index: int) -> Path:
        return self.folder / f"pictures-{index:05d}.safetensors"

    def paint(
        self,
        teacher: Stylizer,
        photos: Sequence[Path],
        styles: Sequence[PictureStyle],
        size: int,
        per_photo: tuple[int, int],
        seed: int = 0,
        batch: int = 8,
    ) -> int:
        """Paint what is missing of the plan; the number of samples painted now."""
        self.folder.mkdir(parents=True, exist_ok=True)
        builtins = sum(style.builtin for style in styles)
        plan = plan_samples(len(photos), builtins, len(styles) - builtins, per_photo, seed)
        record = {
            "size": size,
            "seed": seed,
            "per_photo": list(per_photo),
            "photos": [p.name for p in photos],
            "styles": [[s.name, s.builtin] for s in styles],
            "samples": [list(pair) for pair in plan],
        }
        self._check_plan(record)
        self._write_styles(styles, teacher.styles.style_size)
        rng = np.random.default_rng(seed + 1)
        places = rng.random((len(plan), 2))
        shards = [range(start, min(start + SHARD_SAMPLES, len(plan))) for start in range(0, len(plan), SHARD_SAMPLES)]
        missing = [i for i in range(len(shards)) if not self.shard_path(i).is_file()]
        remove_leftovers(self.folder, [self.shard_path(i).name for i in missing])
        targets: dict[int, torch.Tensor] = {}
        painted = 0
        with tqdm(total=sum(len(shards[i]) for i in missing), desc="teacher pictures", unit="pic") as bar:
            for index in missing:
                crops, pictures = [], []
                for start in range(shards[index].start, shards[index].stop, batch):
                    chunk = range(start, min(start + batch, shards[index].stop))
                    frames = np.stack([crop(read_image(photos[plan[i][0]]), size, places[i]) for i in chunk])
                    ids = [plan[i][1] for i in chunk]
                    for style_id in ids:
                        if style_id not in targets:
                            style = styles[style_id]
                            targets[style_id] = teacher.styles.target(style.name if style.builtin else style.path)
                    target = torch.stack([targets[i] for i in ids])
                    # Each crop painted at its own size (stroke 0): the student learns the generator, not the app.
                    pictures.append(teacher.stylize_frames(frames, Look(target, stroke=0.0)))
                    crops.append(frames)
                    bar.update(len(chunk))
                with atomic_output(self.shard_path(index)) as tmp:
                    save_file(
                        {
                            "photos": torch.from_numpy(np.concatenate(crops)),
                            "pictures": torch.from_numpy(np.concatenate(pictures)),
                        },
                        str(tmp),
                    )
                painted += len(shards[index])
        return painted

    def _check_plan(self, record: dict) -> None:
        """A folder holds one plan: shards painted for another would mix two sets."""
        path = self.folder / PLAN_FILE
        if path.is_file():
            if json.loads(path.read_text()) != record:
                raise RealtimeError(
                    f"{self.folder} holds pictures of other photos, styles or settings; use an empty folder"
                )
            return
        with atomic_output(path) as tmp:
            tmp.write_text(json.dumps(record))

    def _write_styles(self, styles: Sequence[PictureStyle], style_size: int) -> None:
        path = self.folder / STYLES_FILE
        if path.is_file():
            return
        tensors = {
            f"style.{i}": torch.from_numpy(fit_long_side(read_image(style.path, style_size), style_size).copy())
            for i, style in enumerate(styles)
        }
        metadata = {"styles": json.dumps([[s.name, s.builtin] for s in styles])}
        with atomic_output(path) as tmp:
            save_file(tensors, str(tmp), metadata=metadata)

    def styles(self) -> tuple[list[PictureStyle], list[np.ndarray]]:
        """The set's styles and their pictures (H×W×3 uint8, at the style size the teacher used)."""
        with safe_open(str(self.folder / STYLES_FILE), framework="pt") as handle:
            named = json.loads(handle.metadata()["styles"])
            pictures = [handle.get_tensor(f"style.{i}").numpy() for i in range(len(named))]
        return [PictureStyle(name, "", builtin) for name, builtin in named], pictures

    def load(self) -> dict[str, torch.Tensor]:
        """The samples of every shard painted so far: photos and pictures N×S×S×3 uint8, photo_ids and
        style_ids N (indices into the plan's photos and `styles()`)."""
        try:
            samples = torch.tensor(json.loads((self.folder / PLAN_FILE).read_text())["samples"])
        except (OSError, ValueError, KeyError) as exc:
            raise RealtimeError(f"{self.folder} is not a folder of teacher pictures ({exc})") from None
        parts: dict[str, list[torch.Tensor]] = {"photos": [], "pictures": [], "photo_ids": [], "style_ids": []}
        for index in range(-(-len(samples) // SHARD_SAMPLES)):
            path = self.shard_path(index)
            if not path.is_file():
                continue
            try:
                with safe_open(str(path), framework="pt") as handle:
                    parts["photos"].append(handle.get_tensor("photos"))
                    parts["pictures"].append(handle.get_tensor("pictures"))
            except (SafetensorError, OSError) as exc:
                raise RealtimeError(f"{path} is not a readable shard of teacher pictures: {exc}") from None
            pairs = samples[index * SHARD_SAMPLES : index * SHARD_SAMPLES + len(parts["photos"][-1])]
            parts["photo_ids"].append(pairs[:, 0])
            parts["style_ids"].append(pairs[:, 1])
        if not parts["photos"]:
            raise RealtimeError(f"no teacher pictures in {self.folder}")
        return {key: torch.cat(values) for key, values in parts.items()}
