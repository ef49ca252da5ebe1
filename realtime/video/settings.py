"""What a video run can be asked for, and its defaults: torch- and FFmpeg-free, so the command line can parse it."""

from __future__ import annotations

from dataclasses import dataclass

from realtime.errors import RealtimeError
from realtime.model.style_spec import StyleSpec, number_suffix

DEFAULT_CODEC = "libx264"
# Frames per generator call: a GPU needs several to be busy; on a CPU one frame already fills every core.
DEFAULT_BATCH = {"cuda": 4, "cpu": 1}
# Seconds of video per chunk when a run is chunked: a few keyframe intervals, enough chunks to share out, and
# little lost to a kill.
DEFAULT_CHUNK_SECONDS = 30.0
# Chunk files are MP4 whatever the output: it stores every packet's decode time, which Matroska does not, and
# with a 90 kHz movie clock its start offsets are exact, so the joined file keeps every frame's time.
CHUNK_SUFFIX = ".mp4"
DEFAULT_FADE = 0.5  # seconds a scheduled style change takes to blend in
# Weight of the previous frame, carried along the motion, where the motion is trusted: `--stabilize` with no
# value, and live's default. Most flicker gone, motion still crisp.
STABILIZE_STRENGTH = 0.6


@dataclass(frozen=True)
class TimedStyle:
    """One `--style` entry of a video: `NAME|PATH[:WEIGHT][@SECONDS]` (no `@` means from the start)."""

    spec: StyleSpec
    start: float = 0.0

    @classmethod
    def parse(cls, text: str) -> TimedStyle:
        head, start = number_suffix(text, "@", "style start time", "0 or more seconds", lambda t: t >= 0, unit="s")
        return cls(StyleSpec.parse(head)) if start is None else cls(StyleSpec.parse(head), start)


@dataclass(frozen=True)
class VideoSettings:
    """How every frame of a run is made and written: `size` caps the long side (0: the input's, up to 8K),
    `batch` frames per generator call (0: `DEFAULT_BATCH` for the device), `stabilize` (0 ≤ F < 1) the weight
    of the motion-warped previous output, `codec` the encoder (None: H.264, or the format's own where it
    cannot hold H.264)."""

    size: int = 0
    batch: int = 0
    stabilize: float = 0.0
    codec: str | None = None

    def __post_init__(self) -> None:
        if self.size < 0:
            raise RealtimeError(f"size must be 0 or more, got {self.size}")
        if self.batch < 0:
            raise RealtimeError(f"batch must be 1 or more, got {self.batch}")
        if not 0.0 <= self.stabilize < 1.0:
            raise RealtimeError(f"--stabilize must be at least 0 and below 1, got {self.stabilize}")

    def batch_for(self, device_type: str) -> int:
        return self.batch or DEFAULT_BATCH.get(device_type, 1)
