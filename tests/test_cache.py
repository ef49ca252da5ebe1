"""What is kept between runs: the exported generator and its compiled graphs, reused where nothing changed,
made again where anything did, bounded in size, and never a reason for a run to fail."""

import os
import time

import numpy as np
import pytest
import torch
from conftest import make_weights

import realtime.runtimes.export
from realtime.cache import CACHE_ENV, cache_folder, prune
from realtime.runtimes.cpu import CpuGenerator


@pytest.fixture(autouse=True)
def _empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "own-cache"))


def _frames() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (1, 32, 40, 3), dtype=np.uint8)


@pytest.fixture
def exports(monkeypatch):
    """Counts the generator's exports while still doing them."""
    done = []
    export = realtime.runtimes.export.export_frame_graph

    def counted(model):
        done.append(model)
        return export(model)

    monkeypatch.setattr(realtime.runtimes.export, "export_frame_graph", counted)
    return done


def _stylize(weights, runtime: str = "openvino") -> np.ndarray:
    target = weights.bank["style0"].numpy()
    return CpuGenerator(weights.model, runtime).frames(_frames(), target)


def test_a_second_start_reuses_the_exported_generator_and_paints_the_same(exports):
    weights = make_weights()
    first = _stylize(weights, "onnxruntime")
    second = _stylize(weights, "onnxruntime")
    assert len(exports) == 1
    np.testing.assert_array_equal(first, second)
    assert len(list(cache_folder("graphs").iterdir())) == 1


def test_a_damaged_cached_generator_is_exported_again(exports):
    weights = make_weights()
    first = _stylize(weights)
    [kept] = cache_folder("graphs").iterdir()
    kept.write_bytes(kept.read_bytes()[:1000])  # cut short, as a failing disk might leave it
    np.testing.assert_array_equal(_stylize(weights), first)
    assert len(exports) == 2 and len(list(cache_folder("graphs").iterdir())) == 1


def test_changed_weights_are_exported_again(exports):
    weights = make_weights()
    before = _stylize(weights, "onnxruntime")
    with torch.no_grad():
        weights.model.output_conv.bias.add_(0.5)
    after = _stylize(weights, "onnxruntime")
    assert len(exports) == 2 and np.abs(after.astype(int) - before.astype(int)).mean() > 0.5


def test_openvino_keeps_its_compiled_graphs():
    _stylize(make_weights())
    assert any(cache_folder("openvino").iterdir())


def test_a_cache_that_cannot_be_written_warns_and_the_run_goes_on(tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocked))
    with pytest.warns(UserWarning, match="could not keep"):
        out = _stylize(make_weights())
    assert out.shape == (1, 32, 40, 3)


def test_pruning_keeps_the_newest_files_within_the_budget(tmp_path):
    now = time.time()
    for age, name in enumerate(["newest", "middle", "oldest"]):
        path = tmp_path / name
        path.write_bytes(b"x" * 100)
        os.utime(path, (now - age * 60, now - age * 60))
    prune(tmp_path, 250)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["middle", "newest"]
    prune(tmp_path, 1000)
    assert len(list(tmp_path.iterdir())) == 2
