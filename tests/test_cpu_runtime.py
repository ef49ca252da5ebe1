"""The CPU runtimes: the eager generator's pixels at any size, batch and style, frames in and out, with
everything per frame inside the runtime (PyTorch idle), and a clear word about which runtime runs."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_weights
from torch.utils._python_dispatch import TorchDispatchMode

import realtime.runtimes.cpu
from realtime.errors import RealtimeError
from realtime.imaging.frames import frames_to_tensor, pad_for_generator, tensor_to_frames
from realtime.model.msgnet import MSGNet
from realtime.model.shapes import MODELS
from realtime.runtimes.cpu import CpuGenerator
from realtime.runtimes.export import export_frame_graph
from realtime.runtimes.openvino import OpenVinoSession
from realtime.runtimes.stylizer import Stylizer

# bf16 against fp32, mean absolute difference in grey levels: test generators amplify their output layer
# (64×), and with it bf16's rounding; the shipped models differ by well under one level (docs/benchmarks.md).
BF16_MEAN = 3.0


def _eager_frames(model, frames, target):
    content = frames_to_tensor(list(frames))
    with torch.no_grad():
        out = model(pad_for_generator(content), target)[..., : content.shape[2], : content.shape[3]]
    return np.stack(tensor_to_frames(out)).astype(np.int16)


def _frames(batch, h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (batch, h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
@pytest.mark.parametrize("h,w", [(48, 64), (37, 53), (240, 320)])
def test_matches_eager_at_sizes_other_than_the_export(runtime, h, w):
    model = MSGNet(**MODELS["light"]).eval()
    target = model.encode_style(torch.rand(1, 3, 40, 40) * 255).detach()[0]
    frames = _frames(1, h, w)
    out = CpuGenerator(model, runtime).frames(frames, target.numpy())
    assert out.shape == (1, h, w, 3) and out.dtype == np.uint8
    diff = np.abs(out.astype(np.int16) - _eager_frames(model, frames, target))
    if runtime == "onnxruntime":  # fp32: rounding only
        assert diff.max() <= 1
    else:  # bf16 where the CPU has it: about a grey level on average
        assert diff.mean() < BF16_MEAN


def test_openvino_in_fp32_gives_the_eager_pixels():
    model = MSGNet(**MODELS["light"]).eval()
    target = model.encode_style(torch.rand(1, 3, 40, 40) * 255).detach()[0]
    frames = _frames(1, 40, 56)
    session = OpenVinoSession(export_frame_graph(model), threads=1, precision="f32")
    feeds = {
        "frames": frames,
        "target": target.numpy()[None],
        "strength": np.ones(1, np.float32),
        "keep_colors": np.zeros(1, np.float32),
    }
    assert session.name == "OpenVINO f32"
    assert np.abs(session.run(feeds).astype(np.int16) - _eager_frames(model, frames, target)).max() <= 1


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_one_style_per_sample_and_style_switches_reuse_the_graph(runtime, monkeypatch):
    weights = make_weights(styles=2)
    generator = CpuGenerator(weights.model, runtime)
    assert generator.prepare() > 0 and generator.prepare() == 0.0
    exports = []
    monkeypatch.setattr(realtime.runtimes.export, "export_frame_graph", lambda model: exports.append(model))
    frames = _frames(2, 32, 40)
    a, b = weights.bank["style0"].numpy(), weights.bank["style1"].numpy()
    both = generator.frames(frames, np.stack([a, b])).astype(np.int16)
    # fp32 gives the same pixels batched or alone; bf16 runs other kernels per shape: close on average
    close = (lambda d: d.max() <= 1) if runtime == "onnxruntime" else (lambda d: d.mean() < 1.0)
    assert close(np.abs(both[0] - generator.frames(frames[:1], a)[0]))
    assert close(np.abs(both[1] - generator.frames(frames[1:], b)[0]))
    assert np.abs(both[0] - both[1]).mean() > 0.5  # the two styles differ
    expected = _eager_frames(weights.model, frames, torch.stack([weights.bank["style0"], weights.bank["style1"]]))
    assert np.abs(both - expected).mean() < (1.0 if runtime == "onnxruntime" else BF16_MEAN)
    assert exports == []  # no style switch re-exported the generator


def test_the_frame_path_leaves_pytorch_idle():
    """Per frame, nothing runs in PyTorch: its thread pool would fight the runtime's for the cores."""
    stylizer = Stylizer(make_weights(), "cpu")
    stylizer.set_style(["style0"], strength=0.6, preserve_color=True)
    frame = _frames(1, 30, 44)[0]
    stylizer(frame)  # export and compile outside the watch

    seen = []

    class Ops(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            seen.append(str(func))
            return func(*args, **(kwargs or {}))

    with Ops():
        out = stylizer(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8
    # Only the style target's hand-over to NumPy (a detach that shares memory, no computation) shows up.
    assert [op for op in seen if op != "aten.detach.default"] == []


def test_openvino_missing_falls_back_to_onnxruntime_with_one_warning(monkeypatch):
    def missing(*args, **kwargs):
        raise ImportError("No module named 'openvino'")

    monkeypatch.setattr(realtime.runtimes.cpu, "OpenVinoSession", missing)
    said = []
    generator = CpuGenerator(make_weights().model, on_build=said.append)
    with pytest.warns(UserWarning, match="OpenVINO is not installed.*onnxruntime runs it instead"):
        generator.prepare()
    assert generator.name == "onnxruntime fp32" and said == ["CPU runtime: onnxruntime fp32"]
    with pytest.raises(RealtimeError, match="OpenVINO is not installed"):
        CpuGenerator(make_weights().model, "openvino").prepare()


def test_a_graph_openvino_refuses_falls_back_and_an_unknown_runtime_is_refused(monkeypatch):
    def refuses(*args, **kwargs):
        raise RuntimeError("Exception from src/inference: unsupported operation\nmore lines")

    monkeypatch.setattr(realtime.runtimes.cpu, "OpenVinoSession", refuses)
    generator = CpuGenerator(make_weights().model)
    with pytest.warns(UserWarning, match=r"OpenVINO refused the generator \(Exception from src/inference"):
        assert generator.name == "onnxruntime fp32"
    with pytest.raises(RealtimeError, match="unknown CPU runtime 'tensorrt'"):
        CpuGenerator(make_weights().model, "tensorrt")


def test_openvino_serves_shapes_past_its_compiled_ones_with_the_any_shape_graph():
    """A folder of photos of all sizes: a compile per photo would cost more than the photos themselves."""
    model = MSGNet(**MODELS["light"]).eval()
    target = model.encode_style(torch.rand(1, 3, 40, 40) * 255).detach()[0]
    generator = CpuGenerator(model, "openvino")
    for i, (h, w) in enumerate([(32, 48), (36, 52), (40, 40), (44, 60), (48, 64), (52, 76)]):
        frames = _frames(1, h, w, seed=i)
        out = generator.frames(frames, target.numpy())
        assert out.shape == (1, h, w, 3)
        assert np.abs(out.astype(np.int16) - _eager_frames(model, frames, target)).mean() < BF16_MEAN


def test_ctrl_c_still_works_after_openvino_sessions_come_and_go():
    """Sessions dropped in the order they were made once left a freed signal stack behind (OpenVINO's CPU
    plugin sets one per Core), and the next Ctrl-C crashed the process: run in a child, as a crash would take
    pytest with it."""
    script = (
        "import gc, signal\n"
        "from conftest import make_weights\n"
        "from realtime.runtimes.export import export_frame_graph\n"
        "from realtime.runtimes.openvino import OpenVinoSession\n"
        "graph = export_frame_graph(make_weights().model)\n"
        "first, second = (OpenVinoSession(graph, threads=1) for _ in range(2))\n"
        "del first; gc.collect(); del second; gc.collect()\n"
        "caught = []\n"
        "signal.signal(signal.SIGINT, lambda *_: caught.append(1))\n"
        "signal.raise_signal(signal.SIGINT)\n"
        "print('caught', len(caught))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "caught 1"
