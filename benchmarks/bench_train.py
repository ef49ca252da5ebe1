"""Training throughput: a naive eager step (the reference) next to `realtime train`'s step, same run, same batches.

reference  eager, NCHW, the style images' VGG Grams recomputed every step, plain Adam: a straightforward
           implementation, the baseline the optimised step is measured against.
realtime   `realtime.training.trainer.Training.train_step`: channels_last, VGG style Grams precomputed once per
           style and size, fused Adam (CUDA), TF32 Gram matrices, uint8 data resident on the device.
+compile   the same with torch.compile (CUDA default; minutes to compile on a CPU, so opt-in there).

Every path trains one style per sample at a random style size per step; all paths see the same batches.
Images are random (throughput does not depend on content), and so is the VGG unless --vgg names a features
state dict (the cost per step is the same). Prints a markdown table; --json saves it.

    python benchmarks/bench_train.py                                  # CUDA: batch 16, 256 px, ngf 128
    OMP_NUM_THREADS=2 python benchmarks/bench_train.py --device cpu --batch 2 --size 64 --ngf 32 \\
        --style-sizes 64,96,128 --steps 4
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from realtime.device import resolve_device
from realtime.imaging.photoset import ContentSet
from realtime.model.msgnet import MSGNet
from realtime.perceptual.losses import (
    CONTENT_LAYER,
    STYLE_LAYERS,
    content_loss,
    style_grams,
    style_loss,
)
from realtime.perceptual.vgg import VGGFeatures
from realtime.training.config import TrainConfig
from realtime.training.data import TrainingData
from realtime.training.datasets import StyleSet
from realtime.training.precision import autocast_dtype
from realtime.training.trainer import Training

VGG16_LAYOUT = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512]


def load_vgg(path: str | None) -> VGGFeatures:
    """The given VGG file, else a random trunk of VGG16's shape (the same cost per step)."""
    if path:
        return VGGFeatures.load(path)
    layers: list[torch.nn.Module] = []
    channels = 3
    for width in VGG16_LAYOUT:
        if width == "M":
            layers.append(torch.nn.MaxPool2d(2, 2))
        else:
            layers += [torch.nn.Conv2d(channels, width, 3, padding=1), torch.nn.ReLU()]
            channels = width
    return VGGFeatures(torch.nn.Sequential(*layers))


class ReferenceStep:
    """The naive step: everything eager and recomputed, as a first implementation would write it."""

    def __init__(self, config: TrainConfig, vgg: VGGFeatures, device: torch.device, amp_dtype: torch.dtype | None):
        torch.manual_seed(config.seed)
        self.model = MSGNet(config.ngf, config.n_blocks).to(device).train()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.vgg = vgg.to(device)
        self.config = config
        self.device = device
        self.amp_dtype = amp_dtype

    def __call__(self, content: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        content, styles = content.float(), styles.float()
        with torch.autocast(
            self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None
        ):
            output = self.model(content, self.model.encode_style(styles))
            with torch.no_grad():
                reference = self.vgg(content, (CONTENT_LAYER,))[CONTENT_LAYER]
                targets = style_grams(self.vgg(styles, STYLE_LAYERS))
            features = self.vgg(output, STYLE_LAYERS)
            loss = self.config.content_weight * content_loss(features[CONTENT_LAYER], reference)
            loss = loss + self.config.style_weight * style_loss(features, targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach()


def random_data(config: TrainConfig, device: torch.device, styles: int) -> TrainingData:
    rng = np.random.default_rng(0)
    photos = [rng.integers(0, 256, (config.size, config.size * 4 // 3, 3), dtype=np.uint8) for _ in range(32)]
    paintings = [rng.integers(0, 256, (400 + 8 * i, 512, 3), dtype=np.uint8) for i in range(styles)]
    return TrainingData(
        content=ContentSet(photos, config.size, device),
        styles=StyleSet([f"style{i}" for i in range(styles)], paintings, config.style_sizes, device),
        main_styles=styles,
        style_paths=[],
        val_photos=torch.empty(0),
    )


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def images_per_second(step, batches, device: torch.device, batch: int) -> float:
    synchronize(device)
    start = time.perf_counter()
    for content, styles, size in batches:
        step(content, styles, size)
    synchronize(device)
    return len(batches) * batch / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--ngf", type=int, default=128)
    parser.add_argument("--n-blocks", type=int, default=6)
    parser.add_argument("--style-sizes", default="256,384,512")
    parser.add_argument("--styles", type=int, default=21, help="style images (random)")
    parser.add_argument(
        "--styles-per-batch", type=int, default=0, help="as realtime train (default 0 = one per sample)"
    )
    parser.add_argument("--steps", type=int, default=30, help="timed steps per repeat")
    parser.add_argument("--repeats", type=int, default=2, help="timed blocks per path (spread = noise)")
    parser.add_argument("--precision", default="auto", choices=("auto", "bf16", "fp16", "fp32"))
    parser.add_argument(
        "--paths", default=None, help="comma list of reference,realtime,compiled (default: all on CUDA)"
    )
    parser.add_argument("--vgg", metavar="PATH", help="VGG16 features state dict (default: random weights)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    sizes = tuple(int(s) for s in args.style_sizes.split(","))
    config = TrainConfig(
        content="(random)",
        styles="(random)",
        checkpoint="(none)",
        batch=args.batch,
        size=args.size,
        style_sizes=sizes,
        ngf=args.ngf,
        n_blocks=args.n_blocks,
        precision=args.precision,
        styles_per_batch=args.styles_per_batch,
    )
    paths = (args.paths or ("reference,realtime,compiled" if device.type == "cuda" else "reference,realtime")).split(
        ","
    )
    vgg = load_vgg(args.vgg)
    data = random_data(config, device, args.styles)
    sampler = Training(config, data, copy.deepcopy(vgg), device)
    timed = [sampler.sample_batch() for _ in range(args.steps)]
    warmup = [(content, styles, size) for size in sizes for content, styles, _ in timed[:2]]
    del sampler

    rows = []
    for path in paths:
        if path == "reference":
            reference = ReferenceStep(config, copy.deepcopy(vgg), device, autocast_dtype(config.precision, device))

            def step(content, styles, size, reference=reference):
                return reference(content, data.styles.images[size][styles])
        else:
            training = Training(config, data, copy.deepcopy(vgg), device, compile=path == "compiled")
            step = training.train_step
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        start = time.perf_counter()
        for content, styles, size in warmup:
            step(content, styles, size)
        synchronize(device)
        warm_seconds = time.perf_counter() - start
        rates = [images_per_second(step, timed, device, args.batch) for _ in range(args.repeats)]
        peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
        rows.append({"path": path, "img_per_s": rates, "warmup_s": warm_seconds, "peak_gib": peak})
        print(
            f"{path}: {', '.join(f'{r:.1f}' for r in rates)} img/s (warm-up {warm_seconds:.1f} s)",
            file=sys.stderr,
            flush=True,
        )
        del step
        training = reference = None

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    print(
        f"\nTraining throughput on {name} ({device.type}), torch {torch.__version__}: batch {args.batch}, "
        f"{args.size} px, ngf {args.ngf}, style sizes {args.style_sizes}, styles per batch "
        f"{args.styles_per_batch or args.batch}, {args.steps} steps × {args.repeats}\n"
    )
    base = max(rows[0]["img_per_s"])
    print("| path | img/s (each repeat) | best × reference | warm-up s | peak GiB |")
    print("|---|---|---|---|---|")
    for row in rows:
        rates = ", ".join(f"{r:.1f}" for r in row["img_per_s"])
        peak = "-" if row["peak_gib"] is None else f"{row['peak_gib']:.1f}"
        print(f"| {row['path']} | {rates} | {max(row['img_per_s']) / base:.2f} | {row['warmup_s']:.1f} | {peak} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"device": name, "args": vars(args), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
