"""A student that starts as a generator that already follows its targets, re-expressed in the student's shape.

Trained from scratch, a student learns the teacher's average picture first and follows its style targets only
thousands of steps later: after 500 steps its pictures in candy and in Starry Night were the same sepia
picture. The light model follows its targets and shares the fast model's trunk: the quarter-resolution
bottlenecks, the Inspiration layer and the first upsampling stage have the same shapes. Those are copied, the
student's extra residual blocks start as identities (their last convolution zero), and the parts that differ
(the space-to-depth stem and the output convolution) are fitted in a few hundred cheap steps to reproduce the
light model's encoder features and pictures. Distillation then starts from a generator that already paints
21 styles and a painting from its target.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor, nn
from tqdm import tqdm

from realtime.model.msgnet import Bottleneck, MSGNet, UpBottleneck


def _blocks(model: MSGNet) -> list[Bottleneck]:
    return [m for m in model.decoder if isinstance(m, Bottleneck)]


def _first_up(model: MSGNet) -> int:
    return next(i for i, m in enumerate(model.decoder) if isinstance(m, UpBottleneck))


def _copy(source: nn.Module, target: nn.Module) -> bool:
    mine, theirs = target.state_dict(), source.state_dict()
    if mine.keys() != theirs.keys() or any(mine[k].shape != theirs[k].shape for k in mine):
        return False
    target.load_state_dict(theirs)
    return True


def copy_trunk(student: MSGNet, teacher: MSGNet) -> list[str]:
    """Copy the modules whose roles and shapes agree: the last encoder bottleneck, the Inspiration layer, the
    residual blocks in order (the student's extra ones become identities) and the first upsampling stage.
    The names of the parts copied."""
    copied = []
    if _copy(teacher.encoder[-1], student.encoder[-1]):
        copied.append("encoder bottleneck")
    if _copy(teacher.inspiration, student.inspiration):
        copied.append("inspiration")
    theirs, mine = _blocks(teacher), _blocks(student)
    count = sum(_copy(source, target) for source, target in zip(theirs, mine))
    if count:
        copied.append(f"{count} residual blocks")
        for block in mine[len(theirs) :]:
            nn.init.zeros_(block.block[-1].weight)
            nn.init.zeros_(block.block[-1].bias)
    if _copy(teacher.decoder[_first_up(teacher)], student.decoder[_first_up(student)]):
        copied.append("upsampling stage")
    return copied


def _fit(params: Iterator[nn.Parameter], pairs, steps: int, desc: str, progress: bool) -> float:
    """Adam on `params` over `steps` batches from `pairs()` → (output, wanted); the last loss."""
    optimizer = torch.optim.Adam(params, lr=2e-3)
    loss = torch.zeros(())
    for _ in tqdm(range(steps), desc=desc, unit="step", disable=not progress):
        output, wanted = pairs()
        loss = (output - wanted).square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return float(loss.detach())


def warm_start(
    student: MSGNet,
    teacher: MSGNet,
    photos: Tensor,
    targets: Tensor,
    steps: int = 300,
    batch: int = 8,
    crop: int = 128,
    seed: int = 0,
    progress: bool = True,
) -> list[str]:
    """Make `student` paint as `teacher` (here: the light model) does: copy the shared trunk, then fit the
    student's encoder to the teacher's encoder features and its decoder's end to the teacher's pictures, on
    crops of `photos` (N×H×W×3 uint8) in `targets` (S×C×C, the teacher's built-in targets). What was copied."""
    copied = copy_trunk(student, teacher)
    teacher = teacher.eval().requires_grad_(False)
    rng = np.random.default_rng(seed)
    side = photos.shape[1]
    device = targets.device

    def crops() -> Tensor:
        picks = rng.integers(len(photos), size=batch)
        tops, lefts = rng.integers(side - crop + 1, size=(2, batch))
        chosen = [photos[i, t : t + crop, left : left + crop] for i, t, left in zip(picks, tops, lefts)]
        return torch.stack(chosen).permute(0, 3, 1, 2).float().to(device)

    # The whole encoder: the copied bottleneck adapts to the new stem, whose outputs (after a ReLU) cannot go
    # negative where the light model's first bottleneck's do.
    stem = list(student.encoder.parameters())

    def encoder_pairs() -> tuple[Tensor, Tensor]:
        images = crops()
        return student.encoder(images), teacher.encoder(images)

    up, their_up = _first_up(student), _first_up(teacher)
    head = list(student.decoder[up:].parameters())  # from the upsampling stage on: one layer alone fits too little

    def picture_pairs() -> tuple[Tensor, Tensor]:
        images = crops()
        target = targets[torch.from_numpy(rng.integers(len(targets), size=batch)).to(device)]
        with torch.no_grad():
            features = teacher.decoder[:their_up](teacher.inspiration(teacher.encoder(images), target))
        return student.decoder[up:](features), teacher.decoder[their_up:](features)

    student.train()
    frozen = [p for p in student.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    for params, pairs, desc in ((stem, encoder_pairs, "fitting the stem"), (head, picture_pairs, "fitting the head")):
        for p in params:
            p.requires_grad_(True)
        _fit(iter(params), pairs, steps, desc, progress)
        for p in params:
            p.requires_grad_(False)
    for p in frozen:
        p.requires_grad_(True)
    return copied
