"""The fast generator path (realtime.runtimes.cuda) and `realtime bench`, exercised on CPU.

torch.compile and CUDA graphs need CUDA (compiling on this CPU takes ~25 s per size), so these tests
force the fast path's eager form: fp16 + channels_last + the fp32 style transform and static buffers.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import make_weights, photo

from realtime.cli import main
from realtime.errors import RealtimeError
from realtime.imaging.frames import frame_to_tensor
from realtime.runtimes.cpu import CpuGenerator
from realtime.runtimes.cuda import FastSettings, resolve_settings
from realtime.runtimes.look import Look
from realtime.runtimes.settings import width_for
from realtime.runtimes.stylizer import Stylizer

EAGER_FAST = FastSettings(dtype="fp16", channels_last=True, compile="none", cuda_graph=False)
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _pair(weights, settings: FastSettings = EAGER_FAST) -> tuple[Stylizer, Stylizer]:
    reference = Stylizer(weights, "cpu", optimize=False)
    fast = Stylizer(weights, "cpu", optimize=settings)
    reference.set_style(["style0"])
    fast.set_style(["style0"])
    return reference, fast


def _pixels(stylizer: Stylizer, frame: np.ndarray) -> np.ndarray:
    return stylizer(frame).astype(np.int16)


@pytest.mark.parametrize("channels_last", [True, False])
def test_fast_path_stays_within_one_level_of_fp32(weights, channels_last):
    reference, fast = _pair(weights, FastSettings("fp16", channels_last, "none", cuda_graph=False))
    frame = photo(50, 70)  # not a multiple of 4: padded and cropped back
    ref, out = _pixels(reference, frame), _pixels(fast, frame)
    assert out.shape == ref.shape == frame.shape
    diff = np.abs(ref - out)
    assert diff.mean() <= 1.0
    assert diff.max() <= 16
    assert ref.std() > 10  # the comparison is over a real image, not a flat one


def test_fast_path_matches_fp32_exactly_in_fp32(weights):
    """The reordered Inspiration (channel-last rows, W·G first) is the same function as MSGNet's."""
    reference, fast = _pair(weights, FastSettings("fp32", True, "none", cuda_graph=False))
    content = frame_to_tensor(photo(48, 64))
    torch.testing.assert_close(fast.stylize_tensor(content), reference.stylize_tensor(content), atol=1e-3, rtol=1e-4)


def test_fast_generator_keeps_its_own_copy(weights):
    reference, fast = _pair(weights)
    assert fast.fast is not None and reference.fast is None
    assert fast.model is reference.model  # the fp32 model still encodes styles
    assert next(fast.fast.model.parameters()).dtype == torch.float16
    assert next(fast.model.parameters()).dtype == torch.float32


def test_style_switch_changes_output_without_rebuilding(weights):
    _, fast = _pair(weights)
    frame = photo(48, 64)
    first = _pixels(fast, frame)
    built = fast.fast._built[(48, 64)]
    fast.set_style(["style1"])
    second = _pixels(fast, frame)
    assert fast.fast._built[(48, 64)] is built
    assert fast.fast.sizes == [(1, 48, 64)]
    assert np.abs(first - second).mean() > 2
    fast.set_style(["style0"])
    np.testing.assert_array_equal(_pixels(fast, frame), first)


def test_working_size_change_builds_each_size_once(weights):
    reference, fast = _pair(weights)
    messages: list[str] = []
    fast.fast.on_build = messages.append
    for h, w in [(48, 64), (36, 100), (48, 64)]:
        frame = photo(h, w)
        out = _pixels(fast, frame)
        assert out.shape == (h, w, 3)
        assert np.abs(out - _pixels(reference, frame)).mean() <= 1.0
    assert fast.fast.sizes == [(1, 36, 100), (1, 48, 64)]
    assert messages == []  # eager builds are only buffers: nothing worth announcing
    assert fast.warm_up(36, 100) == 0.0


def test_batch_with_per_sample_targets_and_a_smaller_last_batch(weights):
    reference, fast = _pair(weights)
    frames = [photo(32, 48, seed=i) for i in range(3)]
    content = frame_to_tensor(frames[0]).repeat(3, 1, 1, 1)
    content[1:] = torch.cat([frame_to_tensor(f) for f in frames[1:]])
    targets = torch.stack([fast.styles.target("style0"), fast.styles.target("style1"), fast.styles.target("style0")])
    full = fast.stylize_tensor(content, Look(targets))
    ref = reference.stylize_tensor(content, Look(targets))
    assert (full - ref).abs().mean() <= 1.0
    # A smaller batch reuses the 3-frame buffers (video's last batch must not trigger a rebuild).
    part = fast.stylize_tensor(content[:2], Look(targets[:2]))
    assert part.shape[0] == 2 and fast.fast.sizes == [(3, 32, 48)]
    torch.testing.assert_close(part, full[:2])


def test_strength_and_preserve_color_still_apply(weights):
    reference, fast = _pair(weights)
    frame = photo(40, 60)
    for s in (reference, fast):
        s.set_style(["style0"], strength=0.5, preserve_color=True)
    assert np.abs(_pixels(reference, frame) - _pixels(fast, frame)).mean() <= 1.0


def test_device_defaults():
    assert resolve_settings(None, torch.device("cpu")) is None
    assert resolve_settings(False, torch.device("cuda")) is None
    assert resolve_settings(None, torch.device("cuda")) == FastSettings()
    assert resolve_settings(True, torch.device("cpu")).compile == "none"
    assert isinstance(Stylizer(make_weights(), "cpu").fast, CpuGenerator)  # measured faster on a CPU
    assert Stylizer(make_weights(), "cpu", optimize=False).fast is None
    with pytest.raises(RealtimeError, match="dtype"):
        FastSettings(dtype="int8")
    with pytest.raises(RealtimeError, match="compile mode"):
        FastSettings(compile="fastest")


def test_bench_table_on_cpu(weights_file, capsys):
    args = [
        "bench",
        "--device",
        "cpu",
        "--weights",
        str(weights_file),
        "--sizes",
        "32,40x48",
        "--frames",
        "1",
        "--profile",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    runtime = "OpenVINO bf16" if "fast path: OpenVINO bf16" in out else "OpenVINO f32"
    assert f"fast path: {runtime}" in out and "model: " in out and "ngf=8" in out
    assert "profile of the eager fp32 path" in out and f"profile of the fast ({runtime})" in out
    assert "aten::" in out.split("profile of the fast")[0]  # the eager path's operators
    assert "torch.profiler cannot see it" in out.split("profile of the fast")[1]  # not torch's few glue ops
    assert "eager fp32 ms" in out and "speedup" in out and "mean|diff|" in out
    assert f"{width_for(32)}×32" in out and "40×48" in out
    assert "note: CPU" in out


def test_bench_cpu_runtimes_match_eager(weights_file, capsys):
    args = ["bench", "--device", "cpu", "--weights", str(weights_file), "--sizes", "64x48", "--frames", "1", "--json"]
    assert main([*args, "--runtime", "onnxruntime"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["fast_path"] == "onnxruntime fp32" and report["fast_settings"] is None
    (row,) = report["sizes"]
    assert row["max_diff"] <= 1 and row["mean_diff"] < 0.01  # the same fp32 network, another runtime
    assert main(args) == 0  # the default: OpenVINO, in bf16 where the CPU has it
    report = json.loads(capsys.readouterr().out)
    assert report["fast_path"].startswith("OpenVINO")
    (row,) = report["sizes"]
    assert row["mean_diff"] < 3.0  # bf16 rounding, amplified by the test generator's 64× output layer


def test_bench_json_on_cpu(weights_file, capsys):
    args = [
        "bench",
        "--device",
        "cpu",
        "--weights",
        str(weights_file),
        "--sizes",
        "32",
        "--frames",
        "2",
        "--json",
        "--runtime",
        "torch",
    ]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    (row,) = report["sizes"]
    assert (row["width"], row["height"]) == (56, 32)
    assert row["eager_ms"] > 0 and row["fast_ms"] > 0
    assert row["speedup"] == pytest.approx(row["eager_ms"] / row["fast_ms"])
    assert 0 <= row["mean_diff"] <= 1.0 and row["max_diff"] <= 255
    assert report["fast_settings"] == {
        "dtype": "fp16",
        "channels_last": True,
        "compile": "none",
        "cuda_graph": False,
        "dynamic": False,
    }


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message for a machine without CUDA")
def test_bench_cuda_without_cuda_is_one_line(capsys):
    assert main(["bench", "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("realtime: error: --device cuda") and "\n" not in err


def test_bench_runs_without_pyav(weights_file):
    """`python -m realtime bench` needs no PyAV, which the GPU machine's image lacks: the command line
    imports a command's modules only when it runs."""
    code = (
        "import sys, runpy; sys.modules['av'] = None;"  # None in sys.modules makes `import av` fail
        "sys.argv = ['realtime', 'bench', '--device', 'cpu', '--weights', "
        f"{str(weights_file)!r}, '--sizes', '32', '--frames', '1'];"
        "runpy.run_module('realtime', run_name='__main__')"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "speedup" in done.stdout and "56×32" in done.stdout


def test_bench_rejects_bad_sizes(capsys):
    for sizes in ("720,abc", "640x", "8x8", "99999"):
        with pytest.raises(SystemExit) as exit_info:
            main(["bench", "--sizes", sizes])
        assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "480,720,1080" in err and "7680 or less" in err


@needs_cuda
@pytest.mark.parametrize(
    "settings",
    [FastSettings(), FastSettings(compile="none"), FastSettings(cuda_graph=False)],
    ids=["compile+graph", "eager+graph", "compile"],
)
def test_cuda_fast_path_matches_fp32_switches_style_and_sizes(weights, settings):
    messages: list[str] = []
    reference = Stylizer(weights, "cuda", optimize=False)
    fast = Stylizer(weights, "cuda", optimize=settings, on_build=messages.append)
    for s in (reference, fast):
        s.set_style(["style0"])
    for h, w in [(48, 64), (36, 100), (48, 64)]:
        frame = photo(h, w)
        assert np.abs(_pixels(reference, frame) - _pixels(fast, frame)).mean() <= 1.0
    assert len(messages) == 4  # before and after each of the two sizes, nothing for the repeat
    graphs = [b.graph for b in fast.fast._built.values()]
    assert all(g is not None for g in graphs) == settings.cuda_graph
    first = _pixels(fast, photo(48, 64))
    fast.set_style(["style1"])
    assert np.abs(_pixels(fast, photo(48, 64)) - first).mean() > 2
    assert len(messages) == 4 and [b.graph for b in fast.fast._built.values()] == graphs


@needs_cuda
def test_cuda_frame_transfer_round_trip_through_the_graph(weights):
    from realtime.imaging.frames import FrameTransfer

    reference, fast = Stylizer(weights, "cuda", optimize=False), Stylizer(weights, "cuda")
    for s in (reference, fast):
        s.set_style(["style1"])
    transfer = FrameTransfer("cuda")
    for seed in range(3):  # fresh content every frame: a graph replay must read the new input
        frame = photo(40, 72, seed=seed)
        out = transfer.download(fast.stylize_tensor(transfer.upload(frame))).astype(np.int16)
        assert np.abs(out - _pixels(reference, frame)).mean() <= 1.0
