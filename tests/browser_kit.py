"""Waiting on conditions, and a real headless Chromium (Debian's package, driven by Playwright) whose fake
camera plays a clip written here: what the tests of both browser pages share. Nothing here needs aiortc."""

from __future__ import annotations

import base64
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

TIMEOUT = 60.0  # seconds a condition may take on a busy 2-core machine before a test gives up
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
QUIET = "--no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
QUIET += " --disable-component-update --disable-sync"
# What a browser does when a file is dropped on the page: a drop event on the document carrying it.
_DROP_JS = """([name, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const files = new DataTransfer();
  files.items.add(new File([bytes], name, { type: "image/png" }));
  document.dispatchEvent(new DragEvent("drop", { dataTransfer: files, bubbles: true, cancelable: true }));
}"""


def wait_for(condition: Callable[[], object], timeout: float = TIMEOUT, what: str = "condition") -> object:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def drop_file(page, name: str, data: bytes) -> None:
    """Drop a file called `name` holding `data` (sent as image/png) on the page."""
    page.evaluate(_DROP_JS, [name, base64.b64encode(data).decode()])


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two pictures, in grey levels."""
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def write_y4m(path: Path, frame: np.ndarray, frames: int = 30) -> Path:
    """An uncompressed clip Chromium's fake camera plays in a loop (4:2:0, the layout it reads)."""
    h, w = frame.shape[:2]
    planes = cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{w} H{h} F15:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)
    return path


def camera_flags(clip: Path | None, grant: bool = True) -> list[str]:
    """Chromium's flags for a fake camera playing `clip` (None: no camera at all), granted without asking or,
    with `grant` off, refused as a headless browser refuses a prompt nobody answers."""
    flags = QUIET.split()
    if clip is not None:
        flags += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={clip}"]
    if grant:
        flags.append("--use-fake-ui-for-media-stream")
    return flags


def launch(playwright, sync_api, flags: list[str]):
    """A headless Chromium with `flags`; the test skips where it cannot start (a snap wrapper without snapd)."""
    import pytest

    try:
        return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
    except sync_api.Error as exc:
        pytest.skip(f"{CHROMIUM} does not start: {str(exc).splitlines()[0]}")
