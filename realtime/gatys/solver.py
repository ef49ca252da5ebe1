"""One coarse-to-fine level of a Gatys render: L-BFGS or Adam on the image's pixels.

Pixels stay in 0–255 by construction: the optimiser works on logits and the image is
255·sigmoid(logits). Clamping between steps would move the iterate behind L-BFGS's back and
corrupt its curvature history (its line search then stalls); the sigmoid keeps the objective smooth,
so a whole level runs as one L-BFGS call with a strong-Wolfe line search and no step size to tune.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from threading import Event

import torch
from torch import Tensor

from realtime.gatys.settings import GatysSettings

# Logit init keeps pixels off 0 and 255, where the sigmoid's gradient vanishes.
_PIXEL_MARGIN = 1.0


class _Stopped(Exception):
    """Raised inside the optimiser's closure to leave L-BFGS between evaluations."""


def optimise_level(
    image: Tensor,
    objective: Callable[[Tensor], Tensor],
    settings: GatysSettings,
    report: Callable[[float], None],
    stop: Event | None,
) -> tuple[Tensor, bool]:
    """The best image seen in `settings.steps` iterations, and whether the render was stopped or interrupted.

    `objective` maps an image to stacked losses, the total first; `report` gets the best total so far
    after every iteration.
    """
    logits = torch.logit(image.clamp(_PIXEL_MARGIN, 255 - _PIXEL_MARGIN) / 255).contiguous().requires_grad_(True)
    best = {"loss": math.inf, "logits": logits.detach().clone()}

    def loss_at_logits() -> Tensor:
        if stop is not None and stop.is_set():
            raise _Stopped
        loss = objective(torch.sigmoid(logits) * 255)[0]
        value = float(loss.detach())
        if value < best["loss"]:
            best["loss"], best["logits"] = value, logits.detach().clone()
        return loss

    steps = settings.steps
    try:
        if settings.optimizer == "lbfgs":
            _lbfgs(logits, loss_at_logits, steps, lambda: report(best["loss"]))
        else:
            optimizer = torch.optim.Adam([logits], lr=settings.adam_lr)
            for _ in range(steps):
                optimizer.zero_grad(set_to_none=True)
                loss_at_logits().backward()
                optimizer.step()
                report(best["loss"])
    except (_Stopped, KeyboardInterrupt):
        return torch.sigmoid(best["logits"]).detach() * 255, True
    return torch.sigmoid(best["logits"]).detach() * 255, False


def _lbfgs(logits: Tensor, evaluate: Callable[[], Tensor], steps: int, iteration_done: Callable[[], None]) -> None:
    """All of a level in one L-BFGS call (calling it per step would re-evaluate every iterate twice)."""
    optimizer = torch.optim.LBFGS(
        [logits],
        lr=1,
        max_iter=steps,
        max_eval=steps * 2,
        history_size=50,
        tolerance_grad=0,
        tolerance_change=0,
        line_search_fn="strong_wolfe",
    )
    state = optimizer.state[logits]
    seen = {"iterations": 0}

    def closure() -> Tensor:
        # L-BFGS counts an iteration before its line search: a higher count means the last one ended.
        while seen["iterations"] < state.get("n_iter", 0) - 1:
            seen["iterations"] += 1
            iteration_done()
        optimizer.zero_grad(set_to_none=True)
        loss = evaluate()
        loss.backward()
        return loss

    optimizer.step(closure)
    while seen["iterations"] < steps:
        seen["iterations"] += 1
        iteration_done()
