"""A live session on a CPU: the full generator only where it measures live, the fast one next, the full one's
keyframes after that, and a working size that grows while the CPU has time to spare."""

import time

import pytest

import realtime.live.model_choice
import realtime.model.weights
from realtime.live.model_choice import frame_ms
from realtime.live.settings import DEFAULT_WORKING_SIZE, MAX_CPU_WORKING_SIZE, default_working_size
from realtime.live.setup import load_live
from realtime.live.starting_size import largest_size_within
from realtime.model.msgnet import MSGNet
from realtime.model.shapes import MODELS
from realtime.model.targets import StyleBank
from realtime.model.weights import Weights, save_weights

SIZE = 64  # a small working size keeps the timed frames cheap; the choice does not depend on it


@pytest.fixture
def amx(monkeypatch):
    monkeypatch.setattr(realtime.model.weights, "cpu_has_amx", lambda: True)


@pytest.fixture
def keyframes_within_reach(monkeypatch):
    monkeypatch.setattr(realtime.live.model_choice, "KEYFRAME_MAX_MS", 1e9)


def ship_fast_model(monkeypatch, path):
    """The fast model as shipped: `path` (None: no fast model ships), whatever this checkout holds."""
    shipped = realtime.model.weights.shipped_weights_path

    def where(model: str):
        return path if model == "fast" else shipped(model)

    for module in (realtime.model.weights, realtime.live.model_choice):
        monkeypatch.setattr(module, "shipped_weights_path", where)


@pytest.fixture
def fast_model(monkeypatch, tmp_path):
    path = tmp_path / "fast.safetensors"
    save_weights(Weights(MSGNet(**MODELS["fast"]).eval(), StyleBank()), path)
    ship_fast_model(monkeypatch, path)


@pytest.fixture
def no_fast_model(monkeypatch):
    ship_fast_model(monkeypatch, None)


def test_a_cpu_too_slow_for_every_choice_runs_the_fast_model_and_says_why(fast_model):
    notes = []
    setup = load_live(device="cpu", on_build=notes.append, working_size=SIZE)
    assert setup.stylizer.model.shape == MODELS["fast"] and setup.working_size == SIZE and not setup.keyframes
    [why] = [note for note in notes if "fast model instead" in note]
    assert "full model takes" in why and "ms a keyframe" in why and "--model full" in why


def test_a_cpu_where_the_full_model_is_too_slow_paints_every_frame_with_the_fast_one(fast_model):
    notes = []
    setup = load_live(device="cpu", on_build=notes.append, budget_ms=1e9, min_fps=1e9, working_size=SIZE)
    assert setup.stylizer.model.shape == MODELS["fast"] and not setup.keyframes
    assert any("the fast model paints every frame instead" in note for note in notes)


def test_the_fast_models_every_frame_comes_before_the_full_models_keyframes(keyframes_within_reach, fast_model):
    setup = load_live(device="cpu", budget_ms=1e9, min_fps=1e9, working_size=SIZE)
    assert setup.stylizer.model.shape == MODELS["fast"] and not setup.keyframes
    # Where the fast model is over the budget too, the full model's keyframes carry the picture.
    notes = []
    setup = load_live(device="cpu", on_build=notes.append, working_size=SIZE)
    assert setup.stylizer.model.shape == MODELS["full"] and setup.keyframes
    assert any("the full model takes" in note and "paints keyframes" in note for note in notes)


def test_without_a_fast_model_a_slow_cpu_runs_the_light_one(no_fast_model):
    notes = []
    setup = load_live(device="cpu", on_build=notes.append, working_size=SIZE, keyframes="off", min_fps=1e9)
    assert setup.stylizer.model.shape == MODELS["light"]
    assert any("fps: running the light model instead" in note for note in notes)


class CountingStylizer:
    """Stands in for a generator that takes `ms` a frame, counting the frames it is asked for."""

    def __init__(self, ms: float) -> None:
        self.ms, self.frames, self.styles = ms, 0, type("Styles", (), {"neutral": None})()
        self.model = type("Model", (), {"target_channels": 4})()

    def warm_up(self, height: int, width: int, stroke: float = 1.0) -> float:
        return 0.0

    def stylize_frames(self, frames, look):
        self.frames += 1
        end = time.perf_counter() + self.ms / 1000.0
        while time.perf_counter() < end:
            pass
        return frames


def test_the_probe_stops_at_a_frame_too_slow_to_be_of_use():
    slow = CountingStylizer(5.0)
    assert frame_ms(slow, SIZE, frames=3, give_up_ms=1.0) >= 5.0 and slow.frames == 1
    quick = CountingStylizer(0.0)
    frame_ms(quick, SIZE, frames=3, give_up_ms=1000.0)
    assert quick.frames == 3


def test_a_cpu_keeps_the_full_model_where_it_is_live():
    notes = []
    setup = load_live(device="cpu", on_build=notes.append, working_size=SIZE, min_fps=1e-6, budget_ms=1e9)
    assert setup.stylizer.model.shape == MODELS["full"] and not setup.keyframes
    assert not any("instead" in note for note in notes)


@pytest.mark.parametrize("model", ["full", "light", "fast"])
def test_a_named_model_is_never_second_guessed(amx, fast_model, model):
    setup = load_live(device="cpu", model=model, working_size=SIZE, min_fps=1e9)
    assert setup.stylizer.model.shape == MODELS[model]


def test_a_weights_file_is_never_second_guessed(amx, weights_file):
    setup = load_live(str(weights_file), device="cpu", working_size=SIZE, min_fps=1e9)
    assert setup.stylizer.weights.source == str(weights_file)


def test_the_probe_times_real_frames():
    stylizer = load_live(device="cpu", working_size=SIZE).stylizer
    assert frame_ms(stylizer, SIZE, frames=1) > 0.0


@pytest.mark.parametrize(
    ("ms", "grown"),
    [(17.0, 512), (6.0, MAX_CPU_WORKING_SIZE), (49.0, 320), (60.0, 320)],
)
def test_the_working_size_grows_while_the_frame_fits_the_budget(ms, grown):
    assert largest_size_within(50.0, 320, ms) == grown
    assert largest_size_within(50.0, 320, 6.0, highest=448) == 448


def test_the_stroke_pass_of_a_larger_picture_counts_against_the_budget():
    # 640 px paints a second pass at 512 px for stroke 1: 6.6× the pixels of 320, not 4×.
    assert largest_size_within(50.0, 320, 10.0, stroke=0.0) == 640
    assert largest_size_within(50.0, 320, 10.0, stroke=1.0) == 512


def test_a_model_too_slow_at_its_default_size_shrinks_toward_the_light_models():
    assert largest_size_within(50.0, 448, 60.0, lowest=320) == 384
    assert largest_size_within(50.0, 448, 200.0, lowest=320) == 320


def test_a_cpu_with_time_to_spare_runs_a_larger_working_size_and_says_so():
    notes = []
    setup = load_live(device="cpu", on_build=notes.append, budget_ms=1e9)
    assert setup.working_size == MAX_CPU_WORKING_SIZE
    assert any(f"working size {MAX_CPU_WORKING_SIZE}: " in note for note in notes)
    tight = load_live(device="cpu", budget_ms=1e-9)  # the model this CPU runs live, at its own default size
    assert tight.working_size == default_working_size("cpu", tight.stylizer.model.shape)
    assert load_live(device="cpu", budget_ms=1e9, working_size=SIZE).working_size == SIZE  # --size wins


def test_the_default_working_size_follows_the_model_on_a_cpu():
    assert default_working_size("cpu", MODELS["light"]) == DEFAULT_WORKING_SIZE["cpu"]
    assert default_working_size("cpu", MODELS["fast"]) == DEFAULT_WORKING_SIZE["cpu"]
    assert default_working_size("cpu", MODELS["full"]) == DEFAULT_WORKING_SIZE["cpu-full"]
    assert default_working_size("cpu") == DEFAULT_WORKING_SIZE["cpu"]
    assert DEFAULT_WORKING_SIZE["cpu-full"] > DEFAULT_WORKING_SIZE["cpu"]
    assert default_working_size("cuda", MODELS["light"]) == DEFAULT_WORKING_SIZE["cuda"]


def test_a_named_full_model_too_slow_to_be_live_runs_at_the_light_models_size():
    notes = []
    setup = load_live(device="cpu", model="full", on_build=notes.append, budget_ms=1e-9, min_fps=1e9)
    assert setup.stylizer.model.shape == MODELS["full"]
    assert setup.working_size == DEFAULT_WORKING_SIZE["cpu"]
    assert any(note.startswith(f"working size {DEFAULT_WORKING_SIZE['cpu']}:") and "too slow" in note for note in notes)


def test_keyframes_only_where_the_generator_is_over_the_frame_budget_and_fast_enough_for_a_few(
    amx, keyframes_within_reach, monkeypatch
):
    assert not load_live(device="cpu", model="light", working_size=SIZE, budget_ms=1e9).keyframes
    # Live at any frame rate, but over the frame budget: keyframes paint a better picture.
    assert load_live(device="cpu", model="light", working_size=SIZE, min_fps=1e-6, budget_ms=1e-9).keyframes
    assert load_live(device="cpu", model="light", working_size=SIZE, min_fps=1e9).keyframes
    monkeypatch.setattr(realtime.live.model_choice, "KEYFRAME_MAX_MS", 1e-9)
    assert not load_live(device="cpu", model="light", working_size=SIZE, min_fps=1e9).keyframes
    assert load_live(device="cpu", model="light", working_size=SIZE, keyframes="on").keyframes


def test_keyframes_grow_the_working_size_while_a_keyframe_stays_quick(amx, keyframes_within_reach):
    notes = []
    setup = load_live(device="cpu", model="light", min_fps=1e9, on_build=notes.append)
    assert setup.keyframes and setup.working_size == MAX_CPU_WORKING_SIZE
    assert any(f"paints keyframes at working size {MAX_CPU_WORKING_SIZE}" in note for note in notes)
    assert load_live(device="cpu", model="light", working_size=SIZE, min_fps=1e9).working_size == SIZE
