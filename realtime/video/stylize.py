"""Stylise a video file in one pass: every frame through the generator, same timestamps, audio copied.

The frames go through `pipeline.run_frames`; the output file is never left half-written (`VideoWriter`).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import av
from tqdm import tqdm

from realtime.atomic import refuse_overwrite
from realtime.errors import RealtimeError
from realtime.imaging.frames import fit_size
from realtime.imaging.limits import working_side
from realtime.runtimes.stylizer import Stylizer
from realtime.video.ffmpeg import ffmpeg_path
from realtime.video.pipeline import FrameSettings, run_frames
from realtime.video.reader import VideoReader
from realtime.video.schedule import StyleSchedule
from realtime.video.settings import VideoSettings
from realtime.video.stabilize import TemporalStabilizer
from realtime.video.writer import VideoWriter


@dataclass
class VideoResult:
    """What a run produced and where its time went (stage seconds are busy time, stages overlap).

    `video_seconds` and `announced_frames` are what the input's header says (0 frames: it does not say);
    `decoded_seconds` is how far decoding got, from the first frame's start to the last one's end.
    """

    source: str
    output: str
    frames: int
    announced_frames: int
    width: int
    height: int
    video_seconds: float
    decoded_seconds: float
    seconds: float
    audio: str | None
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def incomplete(self) -> bool:
        """Clearly less decoded than the header promised, in frames or in time: the input is truncated or
        damaged. The slack absorbs headers that round, and a last frame of unknown length."""
        fewer_frames = self.frames < 0.95 * self.announced_frames - 1
        shorter = self.decoded_seconds < 0.95 * self.video_seconds - 0.1
        return fewer_frames or shorter

    @property
    def realtime_factor(self) -> float:
        """Seconds of video per second of processing (above 1 is faster than real time)."""
        return self.video_seconds / self.seconds if self.seconds > 0 else 0.0


def check_paths(source: str | Path, output: str | Path) -> None:
    """Refuse before any work an output that is not a file name or would replace the input."""
    if str(output) == "-":
        raise RealtimeError("video output must be a file name, not - (the container is finalised by seeking back)")
    if Path(output).is_dir():
        raise RealtimeError(f"output is a folder, expected a file name: {output}")
    refuse_overwrite(output, [source])


def stylize_video(
    source: str | Path,
    output: str | Path,
    stylizer: Stylizer,
    schedule: StyleSchedule,
    settings: VideoSettings | None = None,
    *,
    progress: bool = True,
) -> VideoResult:
    """Stylise every frame of `source` into `output`, same timestamps, audio copied untouched."""
    settings = settings or VideoSettings()
    check_paths(source, output)
    began = time.perf_counter()
    with VideoReader(source) as reader:
        audio_codec, announced, duration = reader.audio_codec, reader.announced_frames, reader.duration
        audio = av.open(ffmpeg_path(source)) if audio_codec else None
        batch = settings.batch_for(stylizer.device.type)
        frames = FrameSettings(output_shape(reader, settings.size), batch, origin=reader.first_time)
        try:
            with (
                VideoWriter(output, reader.fps, settings.codec, audio_from=audio) as writer,
                tqdm(
                    total=reader.frame_count or None,
                    unit="frame",
                    desc=reader.path.name,
                    file=sys.stderr,
                    disable=not progress,
                    dynamic_ncols=True,
                ) as bar,
            ):
                run = run_frames(
                    reader,
                    writer,
                    stylizer.stylize_frames,
                    schedule,
                    TemporalStabilizer(settings.stabilize),
                    frames,
                    fps=reader.fps,
                    on_frame=lambda: bar.update(1),
                )
        finally:
            if audio is not None:
                audio.close()
    height, width = frames.shape
    return VideoResult(
        source=str(reader.path),
        output=str(writer.path),
        frames=run.written,
        announced_frames=announced,
        width=width,
        height=height,
        video_seconds=duration or run.written / reader.fps,
        decoded_seconds=run.end - run.start,
        seconds=time.perf_counter() - began,
        audio=audio_codec,
        stages=run.busy,
    )


def output_shape(reader: VideoReader, size: int) -> tuple[int, int]:
    """(height, width) of every output frame: the first frame's, its long side capped at `size` (0: up to 8K)."""
    return fit_size(reader.height, reader.width, working_side(size))
