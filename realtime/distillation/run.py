"""A distillation run from start to weights: paint what is missing, train, write the student."""

from __future__ import annotations

from pathlib import Path

from realtime.device import resolve_device
from realtime.distillation.loop import Distiller, StudentData
from realtime.distillation.pictures import PictureSet, PictureStyle
from realtime.distillation.settings import DistillConfig
from realtime.errors import RealtimeError
from realtime.imaging.images import image_files
from realtime.imaging.photoset import evenly_spaced
from realtime.model.weights import Weights, load_weights, shipped_weights
from realtime.perceptual.vgg import VGGFeatures
from realtime.runtimes.stylizer import Stylizer


def picture_styles(
    bank_names: list[str], styles: str | Path, paintings: str | Path | None, holdout: int
) -> list[PictureStyle]:
    """The built-ins (each name of the teacher's bank must have its picture in `styles`, any extension), then
    the paintings but `holdout` of them, evenly spaced by name: the same ones `realtime train --holdout` keeps."""
    files = {path.stem.lower(): path for path in image_files(styles, "style")}
    missing = [name for name in bank_names if name.lower() not in files]
    if missing:
        raise RealtimeError(f"{styles} lacks the pictures of built-in styles {', '.join(missing[:5])}")
    chosen = [PictureStyle(name, str(files[name.lower()]), True) for name in bank_names]
    if paintings:
        painting_files = image_files(paintings, "painting")
        if holdout >= len(painting_files):
            raise RealtimeError(f"--holdout {holdout} leaves none of {len(painting_files)} paintings")
        held = set(evenly_spaced(holdout, len(painting_files)))
        chosen += [PictureStyle(p.stem, str(p), False) for i, p in enumerate(painting_files) if i not in held]
    return chosen


def distill(
    config: DistillConfig,
    teacher: str | Path | None = None,
    content: str | Path | None = None,
    styles: str | Path | None = None,
    paintings: str | Path | None = None,
    holdout: int = 100,
    per_photo: tuple[int, int] = (2, 1),
    size: int = 256,
    resume: str | Path | None = None,
    time_limit: float = 0.0,
    progress: bool = True,
    device: str = "auto",
) -> str:
    """Paint the teacher's missing pictures (with `content`), train the student for `time_limit` seconds at most
    (0 = no limit), write its weights; "finished", "time limit" or "stopped"."""
    torch_device = resolve_device(device)
    teacher_weights: Weights | None = load_weights(teacher) if teacher else shipped_weights("full")
    if teacher_weights is None:
        raise RealtimeError("no teacher: no full model ships with this version; pass --teacher WEIGHTS")
    pictures = PictureSet(config.pictures)
    if content and size < config.crop:
        raise RealtimeError(f"--size {size} is smaller than --crop {config.crop}: the student's crops come from them")
    if content:
        if not styles:
            raise RealtimeError("painting the teacher's pictures needs --styles DIR, the built-in styles' pictures")
        chosen = picture_styles(teacher_weights.bank.names(), styles, paintings, holdout)
        painter = Stylizer(teacher_weights, torch_device)
        pictures.paint(painter, image_files(content, "content"), chosen, size, per_photo, config.seed)
    vgg = VGGFeatures.load(config.vgg, "vgg16").to(torch_device) if config.texture_weight or config.vgg else None
    distiller = Distiller(config, StudentData(pictures, config.style_side), teacher_weights, vgg, torch_device)
    if resume:
        distiller.resume(resume)
    elif config.init and not distiller.start_from(load_weights(config.init), progress):
        raise RealtimeError(f"--init {config.init} shares no part with a student of shape {config.shape}")
    status = distiller.run(time_limit, progress)
    distiller.write()
    return status
