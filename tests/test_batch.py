import json
import logging
import re
import sys

import numpy as np
import pytest
import torch
from conftest import colourfulness, huge_jpeg, photo, save_png
from PIL import Image

import realtime.runtimes.stylizer
from realtime.atomic import remove_leftovers
from realtime.batch import BatchJob, stylize_dataset
from realtime.batch.local import LocalRunner
from realtime.batch.plan import Plan, assign_styles
from realtime.batch.settings import MANIFEST_NAME, RenderSettings
from realtime.cli import main
from realtime.errors import RealtimeError
from realtime.imaging.images import read_image


@pytest.fixture
def paintings(tmp_path, style_images):
    """Three paintings, one in a subfolder: stripes, blotches and a smooth gradient."""
    folder = tmp_path / "paintings"
    (folder / "more").mkdir(parents=True)
    for style in style_images:
        style.rename(folder / style.name)
    save_png(folder / "more" / "gradient.png", photo(40, 40, seed=9))
    return folder


@pytest.fixture
def dataset(tmp_path):
    """An ImageNet-like tree: two class folders, images of three sizes, PNG and JPEG, one corrupt file."""
    root = tmp_path / "images"
    for cls in ("cat", "dog"):
        (root / cls).mkdir(parents=True)
    save_png(root / "cat" / "a.png", photo(48, 64, seed=1))
    save_png(root / "cat" / "b.png", photo(48, 64, seed=2))
    Image.fromarray(photo(40, 56, seed=3)).save(root / "dog" / "c.jpg", quality=95)
    save_png(root / "dog" / "d.png", photo(33, 47, seed=4))
    (root / "dog" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    (root / "dog" / ".hidden.png").write_bytes(b"bookkeeping, not an image")
    return root


def run(capsys, *argv):
    """Exit code, stdout and stderr of the command; usage errors exit through argparse."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def rows(folder):
    return [json.loads(line) for line in (folder / MANIFEST_NAME).read_text().splitlines()]


def by_output(folder):
    return {row["output"]: row for row in rows(folder)}


def render(weights_file, **changes):
    """Render settings for the tiny test generator on the CPU."""
    return {"weights": str(weights_file), "device": "cpu", **changes}


def stop_after(count, status=None):
    """An `on_output` that presses Ctrl-C once `count` outputs (of `status`, if given) have finished."""
    seen = []

    def on_output(row):
        if status in (None, row["status"]):
            seen.append(row)
        if len(seen) == count:
            raise KeyboardInterrupt

    return on_output


def test_the_draw_depends_only_on_seed_and_path():
    picks = assign_styles(7, "cat/a.png", 10, 3)
    assert picks == assign_styles(7, "cat/a.png", 10, 3)
    assert len(set(picks)) == 3 and all(0 <= p < 10 for p in picks)
    draws = {tuple(assign_styles(seed, "cat/a.png", 10, 3)) for seed in range(8)}
    assert len(draws) > 1
    assert sorted(assign_styles(0, "x.png", 4, 4)) == [0, 1, 2, 3]
    with pytest.raises(RealtimeError, match="5 different styles out of 4"):
        assign_styles(0, "x.png", 4, 5)


def test_the_plan_walks_the_tree_and_names_outputs(tmp_path, dataset, paintings):
    plan = Plan.build(dataset, tmp_path / "out", paintings, per_image=2, seed=3, image_format="jpg")
    assert [task.source for task in plan.tasks] == [
        "cat/a.png",
        "cat/b.png",
        "dog/c.jpg",
        "dog/corrupt.jpg",
        "dog/d.png",
    ]
    assert plan.styles == ["blotches.png", "more/gradient.png", "stripes.png"]
    assert plan.outputs == 10
    first = plan.tasks[0].outputs
    assert len({o.style for o in first}) == 2
    names = {"blotches.png": "blotches", "more/gradient.png": "more_gradient", "stripes.png": "stripes"}
    assert {o.path for o in first} == {f"cat/a__{names[o.style]}.jpg" for o in first}
    # Adding an image changes nobody else's paintings.
    save_png(dataset / "cat" / "new.png", photo(20, 20))
    again = Plan.build(dataset, tmp_path / "out", paintings, per_image=2, seed=3, image_format="jpg")
    assert {t.source: t.outputs for t in plan.tasks} == {
        t.source: t.outputs for t in again.tasks if t.source != "cat/new.png"
    }
    single = Plan.build(dataset, tmp_path / "out", paintings)
    assert [o.path for t in single.tasks for o in t.outputs][:2] == ["cat/a.png", "cat/b.png"]


@pytest.mark.parametrize(
    ("where", "per_image", "message"),
    [
        ("inside", 1, "overlap"),
        ("missing", 1, "input folder not found"),
        ("outside", 4, "more styles than the 3 paintings"),
    ],
)
def test_plans_that_cannot_work_are_refused(tmp_path, dataset, paintings, where, per_image, message):
    source = tmp_path / "nowhere" if where == "missing" else dataset
    output = dataset / "styled" if where == "inside" else tmp_path / "out"
    with pytest.raises(RealtimeError, match=message):
        Plan.build(source, output, paintings, per_image=per_image)


def test_a_local_job_stylises_the_tree_and_records_bad_files(tmp_path, dataset, paintings, weights_file):
    out = tmp_path / "out"
    summary = stylize_dataset(
        dataset, out, paintings, per_image=2, seed=1, progress=False, image_format="png", **render(weights_file)
    )
    assert (summary.outputs, summary.written, summary.failed, summary.skipped) == (10, 8, 2, 0)
    manifest = by_output(out)
    assert len(manifest) == 10 == len(rows(out))
    failed = [row for row in manifest.values() if row["status"] == "error"]
    assert {row["input"] for row in failed} == {"dog/corrupt.jpg"}
    assert all("corrupt.jpg" in row["error"] for row in failed)
    for row in manifest.values():
        assert row["seed"] == 1 and (row["status"] == "ok") == (out / row["output"]).is_file()
        if row["status"] == "ok":
            styled = read_image(out / row["output"])
            source = read_image(dataset / row["input"])
            assert styled.shape == source.shape
            assert np.abs(styled.astype(float) - source).mean() > 5
    # The same image in two paintings gives two different pictures.
    a = sorted(o for o in manifest if o.startswith("cat/a__"))
    assert np.abs(read_image(out / a[0]).astype(float) - read_image(out / a[1])).mean() > 3
    assert not list(out.rglob(".*"))  # no temporary files left


def test_size_and_quality_shape_the_outputs(tmp_path, dataset, paintings, weights_file):
    sizes = {}
    for quality in (95, 20):
        out = tmp_path / f"q{quality}"
        stylize_dataset(
            dataset,
            out,
            paintings,
            image_format="jpg",
            progress=False,
            **render(weights_file, size=32, quality=quality),
        )
        assert read_image(out / "cat" / "a.jpg").shape == (24, 32, 3)
        sizes[quality] = sum(f.stat().st_size for f in out.rglob("*.jpg"))
    assert sizes[20] < sizes[95]


def test_an_interrupted_job_resumes_without_redoing_finished_outputs(tmp_path, dataset, paintings, weights_file):
    out = tmp_path / "out"
    plan = Plan.build(dataset, out, paintings, per_image=2, image_format="png")
    job = BatchJob(plan, RenderSettings(**render(weights_file)))
    with pytest.raises(KeyboardInterrupt):
        job.run(LocalRunner(job.settings, threads=2), progress=False, on_output=stop_after(3, "ok"))
    assert job.summary.written == 3
    first = rows(out)
    assert len(first) == job.summary.written + job.summary.failed
    assert not list(out.rglob(".*"))  # whole files only
    finished = {row["output"]: (out / row["output"]).stat().st_ino for row in first if row["status"] == "ok"}
    assert len(finished) == 3

    again = BatchJob(Plan.build(dataset, out, paintings, per_image=2, image_format="png"), job.settings)
    summary = again.run(LocalRunner(again.settings, threads=2), progress=False)
    assert summary.skipped == len(finished)
    assert summary.skipped + summary.written + summary.failed == 10 and summary.remaining == 0
    assert {name: (out / name).stat().st_ino for name in finished} == finished  # not rewritten
    manifest = rows(out)
    assert len(manifest) == 10 and len({row["output"] for row in manifest}) == 10


def test_a_rerun_with_another_seed_redoes_outputs_whose_painting_changed(tmp_path, dataset, paintings, weights_file):
    out = tmp_path / "out"
    common = dict(image_format="png", progress=False, **render(weights_file))
    stylize_dataset(dataset, out, paintings, seed=0, **common)
    summary = stylize_dataset(dataset, out, paintings, seed=5, **common)
    plan = Plan.build(dataset, out, paintings, seed=5, image_format="png")
    expected = {o.path: o.style for t in plan.tasks for o in t.outputs}
    assert {row["output"]: row["style"] for row in rows(out)} == expected
    assert summary.skipped + summary.written + summary.failed == len(expected) == 5
    assert summary.skipped < 4  # seed 5 gives some image another painting than seed 0 did


def test_leftovers_of_a_killed_writer_are_removed(tmp_path, dataset, paintings, weights_file):
    out = tmp_path / "out"
    (out / "cat").mkdir(parents=True)
    leftover = out / "cat" / ".a.k2j3l4m5.part.png"
    leftover.write_bytes(b"half an image")
    unrelated = out / "cat" / ".notes.txt"
    unrelated.write_text("mine")
    stylize_dataset(dataset, out, paintings, image_format="png", progress=False, **render(weights_file))
    assert not leftover.exists() and unrelated.exists()
    assert (out / "cat" / "a.png").is_file()
    assert remove_leftovers(tmp_path / "nowhere", ["a.png"]) == 0


def test_a_rerun_removes_dead_writers_leftovers_beside_finished_outputs(tmp_path, dataset, paintings, weights_file):
    out = tmp_path / "out"
    common = dict(image_format="png", progress=False, **render(weights_file))
    stylize_dataset(dataset, out, paintings, **common)
    assert (out / "cat" / "a.png").is_file()
    stale = [out / "cat" / ".a.k2j3l4m5.part.png", out / f".{MANIFEST_NAME.rsplit('.', 1)[0]}.x7y8z9.part.jsonl"]
    for path in stale:
        path.write_bytes(b"a killed writer's")
    summary = stylize_dataset(dataset, out, paintings, **common)
    assert summary.written == 0 and summary.skipped == 4
    assert not any(path.exists() for path in stale)


def test_an_image_past_the_frame_ceiling_is_an_error_row(tmp_path, dataset, paintings, weights_file):
    (dataset / "dog" / "huge.jpg").write_bytes(huge_jpeg())
    out = tmp_path / "out"
    summary = stylize_dataset(dataset, out, paintings, image_format="png", progress=False, **render(weights_file))
    row = next(r for r in rows(out) if r["input"].endswith("huge.jpg"))
    assert row["status"] != "ok" and "the most this app takes" in row["error"]
    assert summary.written == 4


def test_the_command_runs_resumes_and_reports(capsys, tmp_path, dataset, paintings, weights_file):
    argv = ("batch", dataset, "-o", tmp_path / "out", "--styles", paintings, "--weights", weights_file)
    code, _, err = run(capsys, *argv, "--device", "cpu", "--per-image", "2", "--seed", "4")
    assert code == 0, err
    assert "5 images × 2 of 3 paintings = 10 outputs" in err
    assert "8 written, 0 already done, 2 failed" in err
    code, _, err = run(capsys, *argv, "--device", "cpu", "--per-image", "2", "--seed", "4")
    assert code == 0 and "0 written, 8 already done, 2 failed" in err


def test_outputs_take_their_paintings_palette_unless_asked_not_to(capsys, tmp_path, dataset, weights_file):
    grey = tmp_path / "grey"
    grey.mkdir()
    save_png(grey / "pencil.png", np.repeat(photo(40, 40, seed=9)[..., :1], 3, axis=2))
    colours = {}
    for flag in ((), ("--no-palette",)):
        out = tmp_path / f"out{len(flag)}"
        argv = ("batch", dataset, "-o", out, "--styles", grey, "--weights", weights_file, "--device", "cpu", *flag)
        code, _, err = run(capsys, *argv, "--format", "png")
        assert code == 0, err
        colours[bool(flag)] = colourfulness(read_image(out / "cat" / "a.png"))
    assert colours[False] < 2.0 < colours[True]


def test_ctrl_c_says_how_far_the_command_got(capsys, tmp_path, dataset, paintings, weights_file, monkeypatch):
    stylize = realtime.runtimes.stylizer.Stylizer.stylize_frames
    calls = []

    def interrupted(self, frames, look=None):
        calls.append(len(frames))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return stylize(self, frames, look)

    monkeypatch.setattr(realtime.runtimes.stylizer.Stylizer, "stylize_frames", interrupted)
    out = tmp_path / "out"
    argv = ("batch", dataset, "-o", out, "--styles", paintings, "--weights", weights_file, "--device", "cpu")
    code, _, err = run(capsys, *argv)
    assert code == 130 and "Traceback" not in err
    done = re.search(r"interrupted with (\d+) of 5 outputs done", err)
    assert done and "run the same command again" in err, err
    recorded = rows(out)
    assert int(done.group(1)) == len(recorded) <= 3  # two stylised, the corrupt file perhaps
    assert all((out / row["output"]).is_file() for row in recorded if row["status"] == "ok")
    assert not list(out.rglob(".*"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--per-image", "9"), "asks for more styles than the 3 paintings"),
        (("--quality", "0"), "--quality: must be between 1 and 100"),
        (("--weights", "nope.safetensors"), "weights file not found"),
    ],
)
def test_bad_requests_are_one_line(capsys, tmp_path, dataset, paintings, weights_file, extra, message):
    argv = ["batch", dataset, "-o", tmp_path / "out", "--styles", paintings, "--device", "cpu"]
    if "--weights" not in extra:
        argv += ["--weights", weights_file]
    code, _, err = run(capsys, *argv, *extra)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err


def test_ray_missing_is_one_line_saying_what_to_install(capsys, tmp_path, dataset, paintings, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if it were not installed
    code, _, err = run(capsys, "batch", dataset, "-o", tmp_path / "out", "--styles", paintings, "--ray")
    assert code == 2
    assert err.strip() == "realtime: error: --ray needs Ray: pip install 'realtime[cluster]'"
    assert not (tmp_path / "out").exists()


@pytest.fixture
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def one_thread():
    """The thread count of each Ray worker here (2 CPUs, 2 workers). Another count sums in another order, which
    this tiny generator (output gain 64) turns into differences of up to 7 grey levels; the real ones, 2."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_ray_and_local_give_the_same_outputs(tmp_path, dataset, paintings, weights_file, local_ray, one_thread):
    common = dict(per_image=2, seed=2, image_format="png", progress=False, **render(weights_file))
    local = stylize_dataset(dataset, tmp_path / "local", paintings, **common)
    # One output done before the Ray run starts: it must be skipped, not redone.
    out = tmp_path / "ray"
    job = BatchJob(Plan.build(dataset, out, paintings, 2, 2, "png"), RenderSettings(**render(weights_file)))
    with pytest.raises(KeyboardInterrupt):
        job.run(LocalRunner(job.settings), progress=False, on_output=stop_after(1, "ok"))
    (done,) = [row for row in rows(out) if row["status"] == "ok"]
    summary = stylize_dataset(dataset, out, paintings, ray=True, workers=2, **common)
    assert summary.skipped == 1 and summary.runner == "Ray, 2 workers × 1 CPU"
    assert summary.written + summary.failed + summary.skipped == local.outputs == 10
    assert by_output(out) == by_output(tmp_path / "local")
    assert by_output(out)[done["output"]] == done
    for name, row in by_output(out).items():
        if row["status"] == "ok":
            difference = np.abs(read_image(out / name).astype(int) - read_image(tmp_path / "local" / name))
            assert difference.max() <= 1, name


def test_the_command_starts_and_stops_its_own_ray(capsys, tmp_path, dataset, paintings, weights_file):
    ray = pytest.importorskip("ray")
    out = tmp_path / "out"
    argv = ("batch", dataset, "-o", out, "--styles", paintings, "--weights", weights_file, "--device", "cpu")
    code, _, err = run(capsys, *argv, "--ray", "--workers", "2")
    assert code == 0, err
    assert "4 written, 0 already done, 1 failed" in err and "(Ray, 2 workers" in err
    assert not ray.is_initialized()
    assert len(rows(out)) == 5 and all((out / r["output"]).is_file() for r in rows(out) if r["status"] == "ok")
