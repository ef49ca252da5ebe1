"""The page of `realtime serve` end to end in a real browser: headless Chromium (Debian's package) driven by
Playwright, its fake camera fed from a .y4m clip written here. Skips where Chromium or Playwright is missing.

What the page shows is read back by drawing the <video> into a canvas; every wait polls a condition with a
generous timeout.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from conftest import make_weights, photo, save_png

from realtime.imaging.frames import resize_frame
from realtime.runtimes.settings import STROKE_REFERENCE
from realtime.runtimes.stylizer import Stylizer

pytest.importorskip("aiortc", reason="realtime serve needs the serve extra")

from browser_kit import CHROMIUM, TIMEOUT, camera_flags, distance, drop_file, launch, wait_for, write_y4m
from webrtc_kit import ServerThread  # it needs aiortc

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")

CAMERA = (240, 320)  # the fake camera's frame, height × width
WORKING = 160
GRAB = (60, 80)  # what is compared: the page's picture scaled to this
GRAB_JS = """([w, h]) => {
  const video = document.getElementById("output");
  if (!video.videoWidth) return null;
  const canvas = document.createElement("canvas");
  canvas.width = w; canvas.height = h;
  const g = canvas.getContext("2d");
  g.drawImage(video, 0, 0, w, h);
  return Array.from(g.getImageData(0, 0, w, h).data);
}"""


def _grab(page) -> np.ndarray | None:
    pixels = page.evaluate(GRAB_JS, [GRAB[1], GRAB[0]])
    return None if pixels is None else np.array(pixels, np.uint8).reshape(*GRAB, 4)[..., :3]


def _picture(page, differs_from: np.ndarray | None = None, by: float = 4.0) -> np.ndarray:
    """The page's current picture, once it shows one (and one `by` grey levels away from `differs_from`)."""

    def ready() -> list[np.ndarray]:
        shot = _grab(page)
        if shot is None or (differs_from is not None and distance(shot, differs_from) < by):
            return []
        return [shot]

    return wait_for(ready, what="the page to show a new picture")[0]


def _settled(page, differs_from: np.ndarray | None = None) -> np.ndarray:
    """A picture after the change has gone through (two grabs a moment apart that agree)."""
    first = _picture(page, differs_from)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(0.5)
        again = _grab(page)
        if distance(again, first) < 2.0:
            return again
        first = again
    return first


@pytest.fixture
def camera_frame() -> np.ndarray:
    return photo(*CAMERA, seed=7)


@pytest.fixture
def browser(tmp_path, camera_frame):
    clip = write_y4m(tmp_path / "clip.y4m", camera_frame)
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright, sync_api, camera_flags(clip))
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def server():
    running = ServerThread(Stylizer(make_weights(), "cpu", style_size=64), working_size=WORKING, token="t0ken")
    yield running
    running.close()


def _expected(frame: np.ndarray, style: str) -> np.ndarray:
    stylizer = Stylizer(make_weights(), "cpu", style_size=64)
    work = resize_frame(frame, (CAMERA[0] * WORKING // CAMERA[1], WORKING))
    out = stylizer.stylize_frames(work[None], stylizer.look([style]))[0]
    return resize_frame(out, GRAB)


def _open(browser, server):
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.set_default_timeout(TIMEOUT * 1000)
    page.goto(server.url)
    page.wait_for_selector('#styles button[aria-pressed="true"]')
    return page


def _pick(page, style_id: str) -> None:
    page.click(f'#styles button[data-id="{style_id}"]')
    page.wait_for_selector(f'#styles button[data-id="{style_id}"][aria-pressed="true"]')


def test_the_page_shows_stylised_video_switches_styles_takes_uploads_and_keeps_viewers_apart(
    browser, server, camera_frame, style_images, tmp_path
):
    raw = resize_frame(camera_frame, GRAB)
    expected = {name: _expected(camera_frame, name) for name in ("style0", "style1")}
    a = _open(browser, server)

    # Stylised frames, not the raw camera: nearer the generator's output than the photo.
    shown = _settled(a)
    assert distance(shown, expected["style0"]) < 0.5 * distance(shown, raw)
    a.screenshot(path=str(tmp_path / "page-style0.png"))

    # Clicking another style changes the picture, to that style's.
    _pick(a, "style1")
    other = _settled(a, differs_from=shown)
    assert distance(other, expected["style1"]) < distance(other, expected["style0"])

    # A painting dropped on the page becomes a style and is picked.
    painting = save_png(tmp_path / "my painting.png", cv2.imread(str(style_images[0]))[..., ::-1].copy())
    drop_file(a, painting.name, painting.read_bytes())
    a.wait_for_selector('#styles button[aria-pressed="true"] >> text="my painting"')
    uploaded = _settled(a, differs_from=other)
    assert distance(uploaded, other) > 4.0

    # A second page has its own style: the first keeps the painting while the second starts on the first style.
    b = _open(browser, server)
    assert b.locator('#styles button[aria-pressed="true"]').get_attribute("data-id") == "style0"
    second = _settled(b)
    assert distance(second, expected["style0"]) < distance(second, expected["style1"])
    assert distance(_grab(a), uploaded) < 4.0 < distance(second, uploaded)
    wait_for(lambda: server.status()["viewers"] == 2, what="two viewers")

    # Closing a page frees its viewer; the other goes on.
    b.close()
    wait_for(lambda: server.status()["viewers"] == 1, what="the closed page to be freed")
    frames = a.evaluate("document.getElementById('output').getVideoPlaybackQuality().totalVideoFrames")
    wait_for(
        lambda: a.evaluate("document.getElementById('output').getVideoPlaybackQuality().totalVideoFrames") > frames + 5,
        what="the first page to keep playing",
    )


def test_the_page_has_the_live_windows_hotkeys(browser, server, camera_frame):
    page = _open(browser, server)
    _settled(page)

    def checked(box: str) -> bool:
        return page.is_checked(f"#{box}")

    for key, box in (("m", "mirror"), ("c", "compare"), ("Space", "paused")):
        page.keyboard.press(key)
        wait_for(lambda box=box: checked(box), what=f"{box} on")
    page.keyboard.press("Space")
    wait_for(lambda: not checked("paused"), what="pause off")
    page.keyboard.press("c")
    wait_for(lambda: not checked("compare"), what="compare off")

    page.keyboard.press("-")
    wait_for(lambda: page.input_value("#strength") == "0.9", what="strength down")
    # the working size is below the strokes' painting size, so the page says what it paints them at
    painted = f"(painted {STROKE_REFERENCE / WORKING:.1f} at this size)"
    page.keyboard.press(">")
    wait_for(lambda: page.text_content("#stroke") == f"strokes 1.25 {painted}", what="larger strokes")
    page.keyboard.press("<")
    wait_for(lambda: page.text_content("#stroke") == f"strokes 1 {painted}", what="strokes back")
    width = "document.getElementById('output').videoWidth"
    page.keyboard.press("[")
    wait_for(lambda: page.text_content("#size") == "size 128", what="a smaller working size")
    wait_for(lambda: page.evaluate(width) == 128, what="frames at the smaller size")
    page.keyboard.press("]")
    wait_for(lambda: page.text_content("#size") == f"size {WORKING}", what="the working size back")
    wait_for(lambda: page.evaluate(width) == WORKING, what="frames at the working size again")

    for key, style in (("n", "style1"), ("ArrowRight", "style0"), ("p", "style1"), ("1", "style0"), ("b", "style1")):
        page.keyboard.press(key)
        page.wait_for_selector(f'#styles button[data-id="{style}"][aria-pressed="true"]')

    assert page.is_hidden("#help")
    page.keyboard.press("h")
    assert page.is_visible("#help") and page.is_visible("#hud")
    page.keyboard.press("h")
    assert page.is_hidden("#help") and page.is_hidden("#hud")

    with page.expect_download() as snapshot:
        page.keyboard.press("s")
    assert snapshot.value.suggested_filename.endswith(".png")
    shot = cv2.imread(snapshot.value.path())
    assert shot is not None and shot.shape[1] == WORKING

    page.keyboard.press("q")
    wait_for(lambda: server.status()["viewers"] == 0, what="hanging up to free the viewer")
    assert page.is_visible("#connect")
