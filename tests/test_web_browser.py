"""The exported site end to end in a real browser: headless Chromium (Debian's package) driven by Playwright opens
it from a plain static file server, its fake camera fed from a clip written here, the generator on WASM.

With compare on, the page draws the frame it fed the generator beside what came back, so each check compares the
page's picture with the Python runtime's for exactly that frame. Skips where Chromium or Playwright is missing.
"""

from __future__ import annotations

import base64
import functools
import http.server
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from browser_kit import CHROMIUM, TIMEOUT, camera_flags, distance, drop_file, launch, wait_for, write_y4m
from conftest import make_weights, photo, save_png

from realtime.runtimes.stylizer import Stylizer
from realtime.web.site import export_site

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")

CAMERA = (240, 320)  # the fake camera's frame, height × width: the working size below, so nothing is resized
SIZE = 320
FRAMES_JS = "Number(document.getElementById('output').dataset.frames || 0)"
STATE_JS = "document.body.dataset.state"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    """The site on a plain static server: no special headers, as most hosts serve it (WASM then has one thread)."""
    site = export_site(make_weights(), tmp_path_factory.mktemp("web") / "site", style_size=64)
    handler = functools.partial(_Quiet, directory=str(site.path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture
def camera_frame() -> np.ndarray:
    return photo(*CAMERA, seed=7)


@pytest.fixture
def clip(tmp_path, camera_frame) -> Path:
    return write_y4m(tmp_path / "clip.y4m", camera_frame)


@pytest.fixture
def page(site_url, clip):
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright, sync_api, camera_flags(clip))
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.set_default_timeout(TIMEOUT * 1000)
            page.goto(f"{site_url}?backend=wasm&size={SIZE}")
            page.wait_for_function(f"() => {STATE_JS} === 'running' && {FRAMES_JS} > 0")
            yield page
        finally:
            browser.close()


def _shown(page) -> np.ndarray:
    """The canvas as it is now, from a frame painted after this call began."""
    seen = page.evaluate(f"() => {FRAMES_JS}")
    page.wait_for_function(f"() => {FRAMES_JS} > {seen + 1}")
    url = page.evaluate("document.getElementById('output').toDataURL('image/png')")
    png = np.frombuffer(base64.b64decode(url.split(",", 1)[1]), np.uint8)
    return cv2.imdecode(png, cv2.IMREAD_COLOR)[..., ::-1]


def _halves(page) -> tuple[np.ndarray, np.ndarray]:
    """(the frame the page fed the generator, what it shows for it), from compare's side-by-side picture."""
    shown = _shown(page)
    assert shown.shape == (CAMERA[0], 2 * CAMERA[1], 3)
    return shown[:, : CAMERA[1]], shown[:, CAMERA[1] :]


def _pick(page, index: int) -> None:
    page.click(f"#styles li:nth-child({index + 1}) button")
    page.wait_for_selector(f'#styles li:nth-child({index + 1}) button[aria-pressed="true"]')


def test_the_page_paints_what_the_python_runtime_paints_and_switches_styles(page, camera_frame):
    stylizer = Stylizer(make_weights(), "cpu", style_size=64)
    page.keyboard.press("m")  # mirror off: the page's frame is then the camera's as it is
    page.keyboard.press("c")
    assert page.text_content("#backend") == "WASM · 1 thread" and page.text_content("#size") == "320×240"

    fed, shown = _halves(page)
    camera = cv2.cvtColor(cv2.cvtColor(camera_frame, cv2.COLOR_RGB2YUV_I420), cv2.COLOR_YUV2RGB_I420)  # as it travels
    assert distance(fed, camera) < 4.0 < distance(fed, camera[:, ::-1])  # not mirrored
    expected = stylizer.stylize_frames(fed[None], stylizer.look(["style0"]))[0]
    assert distance(shown, expected) < 0.5
    assert distance(shown, fed) > 10.0

    _pick(page, 1)
    fed, other = _halves(page)
    expected = stylizer.stylize_frames(fed[None], stylizer.look(["style1"]))[0]
    assert distance(other, expected) < 0.5 < 4.0 < distance(other, shown)


def test_a_dropped_picture_becomes_a_style_with_its_palette(page, tmp_path):
    y, x = np.mgrid[0:40, 0:52]
    stripes = np.stack([(np.sin(x / 1.5) > 0) * 255, (np.sin(y / 2.5) > 0) * 120, np.full_like(x, 30)], 2)
    painting = save_png(tmp_path / "my painting.png", stripes.astype(np.uint8))
    page.keyboard.press("c")
    before = _halves(page)[1]

    drop_file(page, painting.name, painting.read_bytes())
    page.wait_for_selector('#styles button[aria-pressed="true"] >> text="my painting"')
    assert page.locator("#styles li").count() == 3
    fed, shown = _halves(page)
    stylizer = Stylizer(make_weights(), "cpu", style_size=64)
    expected = stylizer.stylize_frames(fed[None], stylizer.look([str(painting)]))[0]
    assert distance(shown, expected) < 1.0 < 4.0 < distance(shown, before)

    drop_file(page, "notes.png", b"not a picture")
    wait_for(lambda: "not a picture" in page.text_content("#notice"), what="the refusal")
    assert page.locator("#styles li").count() == 3


def test_the_page_has_the_live_windows_hotkeys_and_snapshots(page):
    page.click("#mirror")  # a focused checkbox leaves the hotkeys working
    assert not page.is_checked("#mirror")
    for key, index in (("n", 1), ("ArrowRight", 0), ("p", 1), ("9", 1), ("1", 0)):  # 9: no such style
        page.keyboard.press(key)
        page.wait_for_selector(f'#styles li:nth-child({index + 1}) button[aria-pressed="true"]')
    full = _shown(page)
    page.keyboard.press("-")
    wait_for(lambda: page.text_content("#strength-value") == "0.9", what="strength down")
    assert distance(_shown(page), full) > 1.0
    page.keyboard.press("m")
    wait_for(lambda: page.is_checked("#mirror"), what="mirror on")
    page.keyboard.press("[")
    wait_for(lambda: page.text_content("#size") == "256×192", what="a smaller working size")
    wait_for(lambda: _shown(page).shape[:2] == (192, 256), what="frames at the smaller size")
    page.keyboard.press("h")
    assert page.is_visible("#help")
    with page.expect_download() as snapshot:
        page.keyboard.press("s")
    assert snapshot.value.suggested_filename.startswith("realtime-style0-")
    shot = cv2.imread(snapshot.value.path())
    assert shot is not None and shot.shape[:2] == (192, 256)
    page.keyboard.press("]")
    wait_for(lambda: page.text_content("#size") == "320×240", what="the working size back")


def test_the_webgpu_backend_paints_the_same_picture(site_url, tmp_path):
    """WebGPU in software (SwiftShader, a frame every few seconds): the page's other backend paints what the
    Python runtime paints too. Skips where this Chromium offers no WebGPU adapter."""
    frame = photo(48, 64, seed=7)
    clip = write_y4m(tmp_path / "small.y4m", frame)
    flags = [flag for flag in camera_flags(clip) if flag != "--disable-gpu"]
    flags += ["--enable-unsafe-webgpu", "--enable-unsafe-swiftshader", "--use-webgpu-adapter=swiftshader"]
    flags += ["--enable-features=Vulkan"]
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright, sync_api, flags)
        try:
            page = browser.new_page()
            page.set_default_timeout(3 * TIMEOUT * 1000)
            page.goto(f"{site_url}?backend=webgpu&size=64")
            if not page.evaluate("async () => Boolean(navigator.gpu && (await navigator.gpu.requestAdapter()))"):
                pytest.skip("this Chromium offers no WebGPU adapter, not even SwiftShader's")
            page.wait_for_function(f"() => {STATE_JS} !== 'loading' && {FRAMES_JS} > 0")
            assert page.text_content("#backend") == "WebGPU"
            page.keyboard.press("m")
            page.keyboard.press("c")
            shown = _shown(page)
        finally:
            browser.close()
    fed, painted = shown[:, :64], shown[:, 64:]
    stylizer = Stylizer(make_weights(), "cpu", style_size=64)
    expected = stylizer.stylize_frames(fed[None], stylizer.look(["style0"]))[0]
    assert distance(painted, expected) < 0.5 < 10.0 < distance(painted, fed)


@pytest.mark.parametrize(
    ("camera", "grant", "says"),
    [(True, False, "The camera was refused"), (False, True, "No camera found")],
    ids=["refused", "none"],
)
def test_the_page_says_why_there_is_no_picture(site_url, clip, camera, grant, says):
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright, sync_api, camera_flags(clip if camera else None, grant))
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT * 1000)
            page.goto(site_url)
            page.wait_for_function(f"() => {STATE_JS} === 'error'")
            assert page.is_visible("#message")
            assert page.text_content("#message").startswith(says)
        finally:
            browser.close()
