#!/usr/bin/env python3
"""Drive the real `realtime live` window under Xvfb: send hotkeys with xdotool, check screenshots.

Needs Debian's `xvfb`, `xdotool` and `imagemagick` (for `import`). Checks, on a generated video file:
the window shows stylised frames; `n` changes the style (a paused frame re-rendered differently);
`c` splits the frame into photo | stylised with a divider; `s` saves a snapshot; `r` records; `q`
quits with exit code 0 and the recording finalised. Every wait polls for a condition with a
deadline; nothing relies on a fixed sleep being long enough.

    python scripts/xvfb_live_check.py [--weights W] [--size N] [--keep DIR]

Exit status: 0 all checks passed, 1 a check failed, 77 the X tools are missing (skip).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

TITLE = "realtime live"
TOOLS = ("Xvfb", "xdotool", "import")
CLIP_SIZE = (480, 360)
SKIP = 77


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def make_clip(path: Path, frames: int = 90, fps: int = 30) -> None:
    """A moving test pattern: a gradient with a bright disc sweeping across."""
    w, h = CLIP_SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    y, x = np.mgrid[0:h, 0:w]
    for i in range(frames):
        img = np.stack([x * 255 // w, y * 255 // h, np.full_like(x, 90 + i)], axis=2).astype(np.uint8)
        cv2.circle(img, (40 + i * 4, h // 2), 50, (240, 240, 240), -1)
        cv2.rectangle(img, (w - 140, 40), (w - 40, 140), (20, 20, 200), -1)
        writer.write(img)
    writer.release()


def wait_for(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.2) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


class Display:
    """An Xvfb server on a free display number, for the length of a `with` block.

    Xvfb picks the number itself and reports it once it serves (`-displayfd`): choosing one here by
    looking for a free socket races with any other Xvfb starting at the same moment (xvfb-run, a
    parallel test), and the loser would then drive the winner's screen.
    """

    def __enter__(self) -> Display:
        read_end, write_end = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(write_end,),
        )
        os.close(write_end)
        with os.fdopen(read_end) as reported:
            number = reported.readline().strip()  # blocks until Xvfb serves; empty if it died
        if not number:
            self.proc.wait(timeout=10)
            raise AssertionError(f"Xvfb did not start (exit code {self.proc.returncode})")
        self.name = f":{number}"
        self.env = {**os.environ, "DISPLAY": self.name}
        self.env.pop("QT_QPA_PLATFORM", None)
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def xdotool(self, *args: str) -> str:
        return subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, text=True, check=False
        ).stdout.strip()

    def window(self) -> str | None:
        found = self.xdotool("search", "--name", f"^{TITLE}$").split()
        return found[0] if found else None

    def geometry(self, wid: str) -> tuple[int, int, int, int]:
        fields = dict(line.split("=", 1) for line in self.xdotool("getwindowgeometry", "--shell", wid).splitlines())
        return int(fields["X"]), int(fields["Y"]), int(fields["WIDTH"]), int(fields["HEIGHT"])

    def key(self, wid: str, key: str) -> None:
        self.xdotool("key", "--window", wid, key)

    def screenshot(self, path: Path, wid: str) -> np.ndarray:
        """The window's pixels (RGB), cropped from a screenshot of the whole screen."""
        subprocess.run(["import", "-window", "root", str(path)], env=self.env, check=True, capture_output=True)
        screen = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        x, y, w, h = self.geometry(wid)
        return screen[y : y + h, x : x + w]


def steady_shot(
    display: Display, wid: str, path: Path, timeout: float = 60.0, differs_from: np.ndarray | None = None
) -> np.ndarray:
    """A screenshot once the window stopped changing (and, if given, differs from `differs_from`)."""
    state: dict[str, np.ndarray] = {}

    def settled() -> bool:
        shot = display.screenshot(path, wid)
        previous, state["last"] = state.get("last"), shot
        if previous is None or previous.shape != shot.shape or not np.array_equal(previous, shot):
            return False
        return differs_from is None or shot.shape != differs_from.shape or _diff(shot, differs_from) > 2.0

    wait_for(settled, timeout, f"a steady window for {path.name}", interval=0.3)
    return state["last"]


def new_frames(display: Display, wid: str, path: Path, count: int) -> Callable[[], bool]:
    """A condition that holds once the window has shown `count` different pictures since it was made."""
    seen: list[np.ndarray] = []

    def enough() -> bool:
        shot = display.screenshot(path, wid)
        if not seen or shot.shape != seen[-1].shape or _diff(shot, seen[-1]) > 0.5:
            seen.append(shot)
        return len(seen) > count

    return enough


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def run_check(workdir: Path, weights: str | None = None, size: int = 128, timeout: float = 120.0) -> dict[str, object]:
    """Run every check; raises AssertionError on the first failure, returns measurements otherwise."""
    clip = workdir / "clip.mp4"
    make_clip(clip)
    outdir = workdir / "out"
    outdir.mkdir(exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "realtime",
        "live",
        "--source",
        str(clip),
        "--size",
        str(size),
        "--output-dir",
        str(outdir),
    ]
    if weights:
        command += ["--weights", weights]
    results: dict[str, object] = {}
    with Display() as display:
        env = {**display.env, "OMP_NUM_THREADS": display.env.get("OMP_NUM_THREADS", "1")}
        log = (workdir / "live.log").open("w")
        app = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wid = wait_for(display.window, timeout, "the live window to appear")
            wait_for(
                lambda: display.geometry(wid)[2:] == CLIP_SIZE, 30, f"the window to be the clip's size {CLIP_SIZE}"
            )
            w = CLIP_SIZE[0]
            wait_for(
                lambda: display.screenshot(workdir / "0-start.png", wid).mean() > 5, timeout, "frames in the window"
            )

            # HighGUI keeps only the last key of a burst, so each key waits for the window to show its effect.
            def press(key: str, name: str) -> np.ndarray:
                before = display.screenshot(workdir / f"{name}.png", wid)
                display.key(wid, key)
                return steady_shot(display, wid, workdir / f"{name}.png", timeout, differs_from=before)

            press("space", "1-paused")  # the frame holds still from here on
            press("h", "2-help")
            first = press("h", "3-clean")  # HUD off: only the picture
            second = press("n", "4-next-style")
            results["style change (mean |diff|)"] = round(_diff(first, second), 1)

            split = press("c", "5-compare")
            half = w // 2
            right_same = _diff(split[:, half + 2 :], second[:, half + 2 :])
            left_changed = _diff(split[:, : half - 2], second[:, : half - 2])
            divider = split[:, half - 1 : half + 1]
            assert right_same < 1.0, f"compare: right half should stay stylised (diff {right_same:.1f})"
            assert left_changed > 5.0, f"compare: left half should show the photo (diff {left_changed:.1f})"
            assert divider.min() >= 250, "compare: no white divider in the middle"
            results["compare right-half diff"] = round(right_same, 2)
            results["compare left-half diff"] = round(left_changed, 1)

            press("s", "6-snapshot")  # its message appears
            snapshot = wait_for(lambda: list(outdir.glob("snapshot-*.png")), timeout, "the snapshot file")
            results["snapshot"] = snapshot[0].name

            press("h", "7-hud")
            display.key(wid, "space")  # playing again: the picture moves
            wait_for(new_frames(display, wid, workdir / "8-playing.png", 2), timeout, "the video to play again")
            display.key(wid, "r")
            wait_for(
                new_frames(display, wid, workdir / "9-hud-recording.png", 4), timeout, "4 new frames while recording"
            )
            display.key(wid, "q")
            code = app.wait(timeout=timeout)
            assert code == 0, f"q: exit code {code}, expected 0 (see {workdir / 'live.log'})"
            assert display.window() is None, "q: the window is still open"
            recordings = list(outdir.glob("recording-*.mp4"))
            assert len(recordings) == 1, f"expected one recording in {outdir}, found {recordings}"
            frames = cv2.VideoCapture(str(recordings[0])).get(cv2.CAP_PROP_FRAME_COUNT)
            assert frames >= 1, "the recording has no frames"
            results["recording frames"] = int(frames)
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
            log.close()
    output = (workdir / "live.log").read_text()
    assert "Traceback" not in output, f"the app printed a traceback:\n{output}"
    results["app output"] = output.strip().splitlines()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", help="weights file for the app (default: its own default)")
    parser.add_argument("--size", type=int, default=128, help="working size (small keeps a CPU quick)")
    parser.add_argument("--keep", type=Path, help="folder to keep the screenshots, clip and log in")
    args = parser.parse_args()
    missing = missing_tools()
    if missing:
        print(f"skipped: missing {', '.join(missing)} (apt-get install xvfb xdotool imagemagick)")
        return SKIP
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="xvfb-live-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        results = run_check(workdir, args.weights, args.size)
    except AssertionError as exc:
        print(f"FAILED: {exc}\nscreenshots and log: {workdir}")
        return 1
    for name, value in results.items():
        print(f"{name}: {value}")
    print(f"passed; screenshots and log: {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
