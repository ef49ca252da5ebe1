"""Video files out through PyAV (FFmpeg), published atomically (see `atomic.py`).

Writing keeps each frame's own timestamp and duration where the format and encoder can (variable frame
rates survive; otherwise one tick a frame), pads odd sizes to the even sizes 4:2:0 needs without
resampling, tags BT.709 so players show the colours we computed, and copies an input's audio packets
untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

from realtime.atomic import atomic_output
from realtime.errors import RealtimeError
from realtime.video.ffmpeg import ffmpeg_path, ffmpeg_reason, ffmpeg_reasons
from realtime.video.settings import DEFAULT_CODEC

# Fine enough for any real frame rate (30000/1001 lands on whole ticks) and for wall-clock recording times;
# used where the format stores each frame's time and the encoder accepts it, else one tick per frame.
_TIME_BASE = Fraction(1, 90000)
# Quality-first defaults for the x26x encoders: visually lossless and fast enough to keep up with a GPU.
_X26X_OPTIONS = {"crf": "18", "preset": "veryfast"}


class AudioCopy:
    """An input's audio packets copied into an output container untouched, interleaved with its video by time.

    `source` is an input container (its first audio stream is used; none is fine) or an audio stream;
    give it a container opened for this purpose alone: the copy reads it.
    """

    def __init__(
        self,
        container: av.container.OutputContainer,
        source: av.container.InputContainer | av.audio.stream.AudioStream,
        path: Path,
    ) -> None:
        self._container = container
        stream = source if isinstance(source, av.audio.stream.AudioStream) else next(iter(source.streams.audio), None)
        self._out = self._add_stream(stream, path) if stream is not None else None
        self._packets = stream.container.demux(stream) if stream is not None else iter(())
        self._pending: av.Packet | None = None

    def _add_stream(self, stream: av.audio.stream.AudioStream, path: Path) -> av.stream.Stream:
        name = stream.codec_context.name
        # FFmpeg's header check refuses the pairs a format cannot hold, with its reason (see `VideoWriter._start`);
        # PyAV's list of a format's codecs is no guide, as it leaves out what .ts takes (AAC, MP3, H.264). PCM is
        # the exception: .ts drops it without a word, and .mp4 takes mono PCM only, failing on the rest at the end.
        listed = name in self._container.supported_codecs
        refusal = f"the input's {name} audio cannot be copied into a {path.suffix or 'this'} file"
        if name.startswith("pcm_") and (not listed or self._container.format.name == "mp4"):
            raise RealtimeError(f"{refusal}; choose an .mkv or .mov output")
        try:
            return self._container.add_stream_from_template(stream)
        except ValueError as exc:
            raise RealtimeError(f"{refusal} ({exc}); choose an .mkv or .mov output") from None

    def mux_until(self, limit: Fraction | None) -> None:
        """Copy audio packets that start before `limit` seconds (all of them for None)."""
        if self._out is None:
            return
        while True:
            packet = self._pending or next(self._packets, None)
            self._pending = None
            if packet is None:
                return
            if packet.dts is None:
                continue  # the demuxer's end-of-stream marker
            if limit is not None and packet.pts is not None and packet.pts * packet.time_base > limit:
                self._pending = packet
                return
            packet.stream = self._out
            self._container.mux(packet)


class VideoWriter(AbstractContextManager):
    """Encode RGB frames to a video file that appears at `path` only once it is complete.

    `audio_from`, an input container or an audio stream, has its audio copied untouched (`AudioCopy`);
    `options` go to FFmpeg's muxer.

    Frame size comes from the first frame; odd sizes are padded by one edge-repeated row or column
    (4:2:0 needs even sizes), never scaled. `codec=None` picks H.264, or the format's own codec
    where it cannot hold H.264 (VP9 for .webm). `time_s` of None places frames at index / fps; explicit
    times (seconds, increasing) keep real capture times or an input's variable frame rate, where the
    format and encoder can store them (otherwise they are rounded to whole frames at `fps`).
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        codec: str | None = DEFAULT_CODEC,
        audio_from: av.container.InputContainer | av.audio.stream.AudioStream | None = None,
        options: dict[str, str] | None = None,
    ) -> None:
        if not fps > 0:
            raise RealtimeError(f"frame rate must be positive, got {fps}")
        self.path = Path(path)
        self.fps = float(fps)
        self.frames_written = 0
        self._rate = Fraction(fps).limit_denominator(1001)
        self._last_pts: int | None = None
        self._durations: dict[int, int] = {}  # ticks each frame is shown, by pts, until the encoder returns it
        self._size: tuple[int, int] | None = None
        self._atomic = atomic_output(self.path)
        tmp = self._atomic.__enter__()
        try:
            self._container = self._open(tmp, options)
            self._video = self._add_video_stream(codec)
            self._audio = AudioCopy(self._container, audio_from, self.path) if audio_from is not None else None
        except BaseException as exc:
            self._atomic.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._closed = False

    def write(self, frame_rgb: np.ndarray, time_s: float | None = None, duration_s: float | None = None) -> None:
        """Encode one H×W×3 uint8 RGB frame shown from `time_s` for `duration_s` seconds (default one frame
        at `fps`); the last frame's duration is where the video ends."""
        if frame_rgb.dtype != np.uint8 or frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3:
            raise ValueError(f"expected an H×W×3 uint8 RGB frame, got {frame_rgb.dtype} {frame_rgb.shape}")
        if self._size is None:
            self._start(frame_rgb.shape[0], frame_rgb.shape[1])
        elif frame_rgb.shape[:2] != self._size:
            raise RealtimeError(
                f"frame size changed from {self._size[1]}×{self._size[0]} to {frame_rgb.shape[1]}×{frame_rgb.shape[0]}"
                " mid-video"
            )
        pts = round(time_s / self._time_base) if time_s is not None else self.frames_written * self._frame_ticks
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1  # equal or backwards stamps would stop the muxer
        frame = av.VideoFrame.from_ndarray(_pad_even(frame_rgb), format="rgb24")
        frame = frame.reformat(
            format=self._video.codec_context.pix_fmt,
            dst_colorspace=Colorspace.ITU709,
            dst_color_range=self._color_range,
            dst_color_trc=ColorTrc.BT709,
            dst_color_primaries=ColorPrimaries.BT709,
        )
        frame.pts = pts
        frame.time_base = self._time_base
        self._durations[pts] = max(1, round(duration_s / self._time_base)) if duration_s else self._frame_ticks
        with self._writing():
            if self._audio is not None:
                self._audio.mux_until(pts * self._time_base)
            self._mux_video(frame)
        self._last_pts = pts
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder, copy the remaining audio and move the finished file onto `path`."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.frames_written == 0:
                raise RealtimeError(f"no frames were written, so {self.path} was not created")
            with self._writing(reasons=True):
                self._mux_video(None)
                if self._audio is not None:
                    self._audio.mux_until(None)
                self._container.close()  # writes the trailer, where some formats refuse a stream
        except BaseException as exc:
            self._abort(exc)
            raise
        self._atomic.__exit__(None, None, None)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.close()
        elif not self._closed:
            self._closed = True
            self._abort(exc)

    def _abort(self, exc: BaseException) -> None:
        try:
            self._container.close()
        except av.FFmpegError:
            pass  # the file is being discarded; a failed trailer write changes nothing
        finally:
            self._atomic.__exit__(type(exc), exc, exc.__traceback__)

    def _open(self, tmp: Path, options: dict[str, str] | None) -> av.container.OutputContainer:
        # The temporary name keeps the target's extension, so FFmpeg picks the same muxer from it.
        try:
            return av.open(ffmpeg_path(tmp), "w", options=options)
        except ValueError:
            raise RealtimeError(
                f"cannot tell the video format of {self.path} from its extension; use .mp4, .mkv or .mov"
            ) from None
        except (av.FFmpegError, OSError) as exc:
            raise RealtimeError(f"cannot write {self.path}: {ffmpeg_reason(exc)}") from None

    def _add_video_stream(self, codec: str | None) -> av.video.stream.VideoStream:
        codec = codec or _format_codec(self._container, self.path)
        try:
            encoder = av.codec.Codec(codec, "w")
        except av.codec.codec.UnknownCodecError:
            raise RealtimeError(
                f"unknown video encoder '{codec}' (try libx264, libx265, libvpx-vp9 or mpeg4)"
            ) from None
        if encoder.type != "video":
            raise RealtimeError(f"'{codec}' is not a video encoder")
        try:
            stream = self._container.add_stream(codec, rate=self._rate)
        except ValueError:
            raise RealtimeError(
                f"a {self.path.suffix} file cannot hold {codec} video; choose another --codec or an .mp4 or .mkv output"
            ) from None
        if encoder.name in ("libx264", "libx265"):
            stream.options = dict(_X26X_OPTIONS)
        stream.codec_context.pix_fmt = _pixel_format(encoder)
        # yuvj* formats are full range by definition; the frames are converted to match.
        self._color_range = ColorRange.JPEG if stream.codec_context.pix_fmt.startswith("yuvj") else ColorRange.MPEG
        stream.codec_context.color_range = self._color_range
        stream.codec_context.colorspace = 1  # AVCOL_SPC_BT709
        stream.codec_context.color_primaries = ColorPrimaries.BT709
        stream.codec_context.color_trc = ColorTrc.BT709
        return stream

    def _start(self, height: int, width: int) -> None:
        """Open the encoder at the frame size and write the header. Frames keep their own times where the
        format stores them and the encoder takes the fine time base; elsewhere they get one tick each."""
        self._size = (height, width)
        self._video.width, self._video.height = width + width % 2, height + height % 2
        context = self._video.codec_context
        keeps_times = self._container.format.flags & av.format.Flags.variable_fps.value
        if not keeps_times:
            context.max_b_frames = 0  # AVI stores decode order only: reordered frames would read back shuffled
        with self._writing(reasons=True):
            if not (keeps_times and _opens_with(context, _TIME_BASE)):
                context.time_base = 1 / self._rate
                context.open()
            self._time_base = self._video.time_base = context.time_base
            self._container.start_encoding()
        self._frame_ticks = max(1, round(1 / (self.fps * self._time_base)))

    @contextmanager
    def _writing(self, reasons: bool = False) -> Iterator[None]:
        """FFmpeg failing to encode or mux, as one line naming the file and FFmpeg's reason. `reasons`
        asks FFmpeg for its own words: only around one-off calls (opening, finishing), never per frame,
        since a decoder thread beside us could log meanwhile (see `ffmpeg_reasons`)."""
        try:
            with ffmpeg_reasons() if reasons else nullcontext():
                yield
        except (av.FFmpegError, ValueError) as exc:
            raise RealtimeError(f"cannot write {self.path}: {ffmpeg_reason(exc)}") from None

    def _mux_video(self, frame: av.VideoFrame | None) -> None:
        """Encode `frame` (None flushes) and mux what comes out. Encoders drop frame durations, so each
        packet gets its frame's back: the last one's decides where the video ends."""
        for packet in self._video.encode(frame):
            packet.duration = self._durations.pop(packet.pts, packet.duration)
            self._container.mux(packet)


def encoder_for(path: str | Path, codec: str | None) -> str:
    """The encoder a video file at `path` gets: `codec`, else H.264, or the format's own where it cannot hold
    H.264 (VP9 for .webm). Nothing is created: FFmpeg opens the file only when encoding starts."""
    if codec:
        return codec
    try:
        container = av.open(ffmpeg_path(path), "w")
    except ValueError:
        raise RealtimeError(
            f"cannot tell the video format of {path} from its extension; use .mp4, .mkv or .mov"
        ) from None
    try:
        return _format_codec(container, Path(path))
    finally:
        container.close()


def _format_codec(container: av.container.OutputContainer, path: Path) -> str:
    if container.default_video_codec == "none":
        raise RealtimeError(f"a {path.suffix} file cannot hold video; use an .mp4 or .mkv output")
    return DEFAULT_CODEC if DEFAULT_CODEC in container.supported_codecs else container.default_video_codec


def _pad_even(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _pixel_format(encoder: av.Codec) -> str:
    """yuv420p, what players expect, where the encoder takes it; otherwise, or where the encoder prefers a
    full-range yuvj* format (MJPEG lists yuv420p but refuses its limited range), the encoder's first choice."""
    formats = [f.name for f in encoder.video_formats or ()]
    if formats and (formats[0].startswith("yuvj") or "yuv420p" not in formats):
        return formats[0]
    return "yuv420p"


def _opens_with(context: av.video.codeccontext.VideoCodecContext, time_base: Fraction) -> bool:
    """Open the encoder with `time_base`; False where it refuses (MPEG-1/2 take only their standard frame
    rates, MPEG-4 part 2 only 16-bit denominators), and FFmpeg leaves the context closed for another try."""
    context.time_base = time_base
    try:
        context.open()
    except av.FFmpegError:
        return False
    return True
