"""`realtime demo`: the live window on a camera, or built-in footage when there is none; with no display,
the same loop renders that footage to a video file while cycling through a few styles.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from realtime.errors import RealtimeError
from realtime.live.catalog import StyleCatalog
from realtime.live.hotkeys import Action
from realtime.live.session import LiveSession
from realtime.live.settings import DEMO_SECONDS, LiveOptions
from realtime.live.stats import LiveSummary
from realtime.runtimes.stylizer import Stylizer
from realtime.sources.capture import FrameSource, VideoCaptureSource
from realtime.sources.sample import SampleSource

SECONDS_PER_STYLE = 2.0
DEMO_STYLES = 4


def demo_styles(builtins: Sequence[str], count: int = DEMO_STYLES) -> list[str]:
    """A few built-ins spread over the bank (empty when there are none: the catalog then uses sample photos)."""
    if len(builtins) <= count:
        return list(builtins)
    stride = len(builtins) / count
    return [builtins[int(i * stride)] for i in range(count)]


def demo_source() -> tuple[FrameSource, str | None]:
    """Camera 0 when one opens, else the built-in footage; the second value says why the camera was not used."""
    try:
        return VideoCaptureSource(0), None
    except RealtimeError as exc:
        return SampleSource(), str(exc).rsplit("; ", 1)[0]  # without the hint about --source


def render_demo(
    stylizer: Stylizer, output: str | Path, *, seconds: float = DEMO_SECONDS, options: LiveOptions
) -> LiveSummary:
    """Stylise `seconds` of the built-in footage into `output`, morphing to the next style every few seconds.

    Every frame of the footage's 30 fps timeline is shown (no drops), so the video is smooth on any machine;
    keyframes, where `options` asks for them, follow a fixed schedule rather than this machine's speed. The
    summary's fps is how fast this machine stylised.
    """
    source = SampleSource(drop=False)
    catalog = StyleCatalog(demo_styles(stylizer.weights.bank.names()))
    frames = max(1, round(seconds * source.fps))
    per_style = max(1, round(SECONDS_PER_STYLE * source.fps))
    bar = tqdm(total=frames, desc="demo", unit="frame", file=sys.stderr)

    def schedule(session: LiveSession) -> list[Action]:
        done = session.stats.frames
        bar.update(done - bar.n)
        return [Action.MORPH] if done and done % per_style == 0 else []

    options = replace(options, record=Path(output), max_frames=frames, realtime=False)
    try:
        summary = LiveSession(stylizer, source, catalog, options, inputs=[schedule]).run()
        bar.update(summary.frames - bar.n)
    finally:
        bar.close()
    return summary
