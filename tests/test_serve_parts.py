"""The parts of `realtime serve` on their own: the shared generator's batches, settings messages, upload checks,
the newest-frame box, and the page's files and hotkeys."""

from __future__ import annotations

import asyncio
import io
import re
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import colourfulness, make_weights, photo
from PIL import Image

from realtime.errors import RealtimeError
from realtime.imaging.palette import Palette
from realtime.runtimes.look import Look
from realtime.runtimes.stylizer import Stylizer
from realtime.serving.controls import ViewerSettings, parse_message
from realtime.serving.generator import Job, SharedGenerator
from realtime.serving.settings import is_loopback
from realtime.serving.uploads import UploadLimits, UploadRejected, decode_upload, display_name

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "realtime" / "serving" / "static"


def test_frames_waiting_from_several_viewers_go_through_the_generator_together_each_in_its_own_style():
    stylizer = Stylizer(make_weights(), "cpu")
    targets = [stylizer.styles.target(name) for name in ("style0", "style1", "style0")]
    frames = [photo(32, 48, seed=i) for i in range(3)]
    expected = [stylizer.stylize_frames(f[None], Look(t))[0] for f, t in zip(frames, targets)]
    entered, release, batches = threading.Event(), threading.Event(), []
    run = stylizer.stylize_frames

    def held_first_call(batch: np.ndarray, look: Look | None = None) -> np.ndarray:
        batches.append(len(batch))
        entered.set()
        release.wait(30)  # the first call holds the generator while the other viewers' frames queue
        return run(batch, look)

    stylizer.stylize_frames = held_first_call
    generator = SharedGenerator(stylizer, max_batch=4)

    async def three_viewers() -> list[np.ndarray]:
        first = asyncio.ensure_future(generator.stylize(Job(frames[0], Look(targets[0]))))
        await asyncio.get_running_loop().run_in_executor(None, entered.wait, 30)
        others = [asyncio.ensure_future(generator.stylize(Job(f, Look(t)))) for f, t in zip(frames[1:], targets[1:])]
        await asyncio.sleep(0)
        release.set()
        return [await first, *[await o for o in others]]

    try:
        got = asyncio.run(three_viewers())
    finally:
        release.set()
        generator.close()
    assert batches == [1, 2]
    assert generator.stats.largest_batch == 2 and generator.stats.frames == 3
    # Each viewer got its own style: what the generator makes of its frame alone (up to the runtime's rounding).
    alone_in_the_other_style = stylizer.stylize_frames(frames[1][None], Look(targets[0]))[0]
    for frame, want in zip(got, expected):
        assert np.abs(frame.astype(float) - want).mean() < 2.0  # bf16 runtimes round a batch a little differently
    assert np.abs(got[1].astype(float) - alone_in_the_other_style).mean() > 5.0


def test_viewers_painting_pictures_share_a_call_each_in_its_own_palette():
    stylizer = Stylizer(make_weights(), "cpu")
    grey = np.repeat(photo(16, 16, seed=9).mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
    palette, target, frame = Palette.of(grey), stylizer.styles.target("style0"), photo(32, 48)
    generator = SharedGenerator(stylizer, max_batch=4)

    async def two_viewers() -> list[np.ndarray]:
        jobs = [Job(frame, Look(target, palette)), Job(frame, Look(target))]
        return await asyncio.gather(*(generator.stylize(job) for job in jobs))

    try:
        recoloured, own = asyncio.run(two_viewers())
    finally:
        generator.close()
    assert generator.stats.batches == 1
    assert colourfulness(recoloured) < 2.0 < colourfulness(own)


def test_viewers_with_different_strengths_are_stylised_apart_and_each_gets_its_own():
    stylizer = Stylizer(make_weights(), "cpu")
    target = stylizer.styles.target("style1")
    frame = photo(32, 48)
    generator = SharedGenerator(stylizer)

    async def two() -> list[np.ndarray]:
        return list(
            await asyncio.gather(
                generator.stylize(Job(frame, Look(target, strength=0.0))), generator.stylize(Job(frame, Look(target)))
            )
        )

    try:
        photo_again, styled = asyncio.run(two())
    finally:
        generator.close()
    assert np.abs(photo_again.astype(int) - frame.astype(int)).max() <= 1
    assert np.abs(styled.astype(int) - frame.astype(int)).mean() > 10


def test_viewers_with_different_strokes_each_get_their_own():
    stylizer = Stylizer(make_weights(), "cpu")
    target = stylizer.styles.target("style1")
    frame = photo(192, 256)  # larger than stroke 4's painting size (128 px), smaller than stroke 1's
    generator = SharedGenerator(stylizer)

    async def two() -> list[np.ndarray]:
        jobs = (Job(frame, Look(target, stroke=4.0)), Job(frame, Look(target, stroke=1.0)))
        return list(await asyncio.gather(*(generator.stylize(job) for job in jobs)))

    try:
        broad, own_size = asyncio.run(two())
    finally:
        generator.close()
    assert np.abs(own_size.astype(float) - stylizer(frame, Look(target, stroke=0.0))).mean() < 1.0
    assert np.abs(broad.astype(float) - own_size).mean() > 2.0


def test_a_closed_generator_refuses_work():
    generator = SharedGenerator(Stylizer(make_weights(), "cpu"))
    generator.close()
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(generator.stylize(Job(photo(16, 16), Look(generator.stylizer.styles.target("style0")))))


def test_settings_messages_are_checked_before_anything_changes():
    settings = ViewerSettings("style0", size=320, max_size=320)
    settings.apply({"strength": 0.25, "mirror": True, "size_step": -1, "stroke": 9})
    assert (settings.strength, settings.mirror, settings.size, settings.stroke) == (0.25, True, 256, 4.0)
    settings.apply({"size_step": 1})
    settings.apply({"size_step": 1})
    assert settings.size == 320  # never above the server's own
    for bad, message in (
        ({"strength": "1"}, "strength must be a number"),
        ({"strength": float("nan")}, "strength must be a number"),
        ({"stroke": "big"}, "stroke must be a number"),
        ({"mirror": 1}, "mirror must be true or false"),
        ({"size": 4000}, "size must be a whole number from 64 to 320"),
        ({"size_step": 2}, "size_step must be 1 or -1"),
        ({"fps": 60}, "unknown setting 'fps'"),
        ({"mirror": False, "strength": []}, "strength must be a number"),
    ):
        with pytest.raises(RealtimeError, match=re.escape(message)):
            settings.apply(bad)
    assert settings.mirror  # the last bad message set nothing, not even its good field
    for text, message in (
        ("{", "messages are JSON"),
        ("[1]", '"set" or "ping"'),
        ('{"set": 3}', "settings are an object"),
    ):
        with pytest.raises(RealtimeError, match=re.escape(message)):
            parse_message(text)
    assert parse_message('{"ping": 5}') == {"ping": 5}


def _encoded(frame: np.ndarray, kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format=kind)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP", "BMP", "GIF"])
def test_uploads_of_every_image_type_taken_decode_to_rgb(kind):
    picture = decode_upload(_encoded(photo(40, 30), kind), UploadLimits())
    assert picture.shape == (40, 30, 3) and picture.dtype == np.uint8


def test_uploads_are_capped_in_bytes_and_pixels():
    data = _encoded(photo(40, 30), "PNG")
    with pytest.raises(UploadRejected, match=r"the upload is [\d,]+ bytes; the most is 100$") as too_long:
        decode_upload(data, UploadLimits(max_bytes=100))
    assert too_long.value.status == 413
    with pytest.raises(UploadRejected, match="30×40 = 1,200 pixels; the most is 1,000") as too_big:
        decode_upload(data, UploadLimits(max_pixels=1000))
    assert too_big.value.status == 413
    with pytest.raises(UploadRejected, match="not an image") as not_image:
        decode_upload(data[:20], UploadLimits())
    assert not_image.value.status == 415


def test_an_uploads_given_name_is_a_label_only():
    assert display_name("../../etc/passwd", "upload 3") == "passwd"
    assert display_name("C:\\Users\\me\\Starry Night.jpg", "x") == "Starry Night"
    assert display_name("\x00\x1b[31m.png", "upload 3") == "[31m"
    assert display_name("", "upload 3") == "upload 3"
    assert len(display_name("a" * 500 + ".png", "x")) == 40


def test_only_loopback_hosts_count_as_local():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.org", ""))


def test_the_newest_frame_box_keeps_only_the_newest():
    track = pytest.importorskip("realtime.serving.track", reason="realtime serve needs the serve extra")
    box = track.NewestFrame()
    assert box.take() is None
    for i in range(3):
        box.put(i)
    frame, _ = box.take()
    assert (frame, box.dropped, box.take()) == (2, 2, None)


def test_the_page_installs_with_the_package():
    line = re.search(r'^"realtime.serving" = \[(.*?)\]', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    patterns = re.findall(r'"([^"]+)"', line.group(1))  # the package-data line (tomllib is Python 3.11+)
    files = sorted(p.name for p in STATIC.iterdir())
    assert files == ["app.js", "index.html", "style.css"]
    assert all(any(Path("static", name).match(pattern) for pattern in patterns) for name in files)


def test_the_page_offers_every_hotkey_of_the_live_window():
    from realtime.live.hotkeys import HOTKEYS

    script = (STATIC / "app.js").read_text()
    page = (STATIC / "index.html").read_text()
    bound = set(re.findall(r'^  (?:"(.)"|(\w+)): ', script, re.MULTILINE))
    keys = {a or b for a, b in bound}
    # The live window's keys, as the browser names them (digits are handled apart from the table).
    wanted = {"ArrowRight", "n", "ArrowLeft", "p", "b", "+", "-", ">", "<", "]", "[", "m", "c", " ", "r", "s", "h", "q"}
    wanted.add("Escape")
    assert wanted <= keys
    assert "(Number(key) + 9) % 10" in script
    help_rows = re.findall(r"<tr><th>(.*?)</th>", page)
    assert len(help_rows) == len(HOTKEYS)
