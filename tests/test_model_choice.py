"""The live model choice on a CPU: the full generator only where it measures live, else the light one."""

import pytest

import realtime.model.weights
from realtime.live.model_choice import full_model_ms, load_live_stylizer
from realtime.live.settings import DEFAULT_WORKING_SIZE, default_working_size
from realtime.model.shapes import MODELS

SIZE = 64  # a small working size keeps the timed frames cheap; the choice does not depend on it


@pytest.fixture
def amx(monkeypatch):
    monkeypatch.setattr(realtime.model.weights, "cpu_has_amx", lambda: True)


def test_a_cpu_without_amx_runs_the_light_model_without_timing_the_full_one():
    notes = []
    stylizer = load_live_stylizer(device="cpu", on_build=notes.append, working_size=SIZE, min_fps=1e9)
    assert stylizer.model.shape == MODELS["light"]
    assert not any("full model takes" in note for note in notes)


def test_an_amx_cpu_keeps_the_full_model_when_it_is_live(amx):
    notes = []
    stylizer = load_live_stylizer(device="cpu", on_build=notes.append, working_size=SIZE, min_fps=1e-6)
    assert stylizer.model.shape == MODELS["full"]
    assert not any("light model instead" in note for note in notes)


def test_an_amx_cpu_too_slow_for_the_full_model_runs_the_light_one_and_says_why(amx):
    notes = []
    stylizer = load_live_stylizer(device="cpu", on_build=notes.append, working_size=SIZE, min_fps=1e9)
    assert stylizer.model.shape == MODELS["light"]
    [why] = [note for note in notes if "light model instead" in note]
    assert f"ms a frame at working size {SIZE}" in why and "--model full" in why


@pytest.mark.parametrize("model", ["full", "light"])
def test_a_named_model_is_never_second_guessed(amx, model):
    stylizer = load_live_stylizer(device="cpu", model=model, working_size=SIZE, min_fps=1e9)
    assert stylizer.model.shape == MODELS[model]


def test_a_weights_file_is_never_second_guessed(amx, weights_file):
    stylizer = load_live_stylizer(str(weights_file), device="cpu", working_size=SIZE, min_fps=1e9)
    assert stylizer.weights.source == str(weights_file)


def test_the_probe_times_real_frames(amx):
    stylizer = load_live_stylizer(device="cpu", model="full")
    assert full_model_ms(stylizer, SIZE, frames=1) > 0.0


def test_the_working_size_follows_the_model_on_a_cpu():
    assert default_working_size("cpu", MODELS["light"]) == DEFAULT_WORKING_SIZE["cpu"]
    assert default_working_size("cpu", MODELS["full"]) == DEFAULT_WORKING_SIZE["cpu-full"]
    assert default_working_size("cpu") == DEFAULT_WORKING_SIZE["cpu"]
    assert DEFAULT_WORKING_SIZE["cpu-full"] > DEFAULT_WORKING_SIZE["cpu"]
    assert default_working_size("cuda", MODELS["light"]) == DEFAULT_WORKING_SIZE["cuda"]
