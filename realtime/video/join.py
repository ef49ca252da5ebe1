"""Chunk files joined into one video without re-encoding: their packets copied in order, the source's audio
copied beside them, the whole published atomically.

Each chunk file starts with a keyframe and was encoded with the same settings, so its packets simply follow
the previous chunk's; their times are the source's own, so nothing is shifted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av

from realtime.atomic import atomic_output
from realtime.errors import RealtimeError
from realtime.video.ffmpeg import ffmpeg_path, ffmpeg_reason, ffmpeg_reasons
from realtime.video.settings import CHUNK_SUFFIX
from realtime.video.writer import AudioCopy


def check_joinable(output: str | Path, codec: str, audio_from: str | Path | None) -> None:
    """Refuse before any work what the join would refuse at the end: a format that stores no frame times (the
    chunks' reordered frames would play shuffled), an encoder it cannot hold, audio it cannot take."""
    output = Path(output)
    try:
        container = av.open(ffmpeg_path(output), "w")  # FFmpeg creates the file only when writing starts
    except ValueError:
        raise RealtimeError(
            f"cannot tell the video format of {output} from its extension; use .mp4, .mkv or .mov"
        ) from None
    try:
        if not container.format.flags & av.format.Flags.variable_fps.value:
            raise RealtimeError(
                f"a {output.suffix} file stores no frame times, so chunks cannot join into it; use .mp4, .mkv or .mov"
            )
        try:
            container.add_stream(codec)
        except ValueError:
            raise RealtimeError(
                f"a {output.suffix} file cannot hold {codec} video; choose another --codec or an .mp4 or .mkv output"
            ) from None
        if audio_from is not None:
            with av.open(ffmpeg_path(audio_from)) as source:
                AudioCopy(container, source, output)
    finally:
        container.close()
    chunk = av.open(ffmpeg_path(output.with_name(f"chunk{CHUNK_SUFFIX}")), "w")
    try:
        chunk.add_stream(codec)
    except ValueError:
        raise RealtimeError(
            f"chunks are {CHUNK_SUFFIX} files, which cannot hold {codec} video; run in one pass"
        ) from None
    finally:
        chunk.close()


def join_chunks(parts: Sequence[Path], output: str | Path, audio_from: str | Path | None = None) -> int:
    """Write the video packets of `parts`, in order, to `output` with the audio of `audio_from` (None: silent);
    the packets written. One part is open at a time, so a film of thousands of chunks stays far from the limit
    on open files."""
    if not parts:
        raise RealtimeError("no chunks to join")
    output = Path(output)
    packets = 0
    last_dts: Fraction | None = None
    with atomic_output(output) as tmp:
        try:
            with ffmpeg_reasons(), av.open(ffmpeg_path(tmp), "w") as out:
                with av.open(ffmpeg_path(parts[0])) as first:
                    video = out.add_stream_from_template(first.streams.video[0])
                audio_source = av.open(ffmpeg_path(audio_from)) if audio_from is not None else None
                try:
                    audio = AudioCopy(out, audio_source, output) if audio_source is not None else None
                    for part in parts:
                        with av.open(ffmpeg_path(part)) as container:
                            for packet in container.demux(container.streams.video[0]):
                                if packet.size == 0:
                                    continue  # the demuxer's end-of-stream marker
                                last_dts = _follow(packet, last_dts)
                                if audio is not None:
                                    audio.mux_until(last_dts)
                                packet.stream = video
                                out.mux(packet)
                                packets += 1
                    if audio is not None:
                        audio.mux_until(None)
                finally:
                    if audio_source is not None:
                        audio_source.close()
        except (av.FFmpegError, ValueError) as exc:
            raise RealtimeError(f"cannot join the chunks into {output}: {ffmpeg_reason(exc)}") from None
    return packets


def _follow(packet: av.Packet, last_dts: Fraction | None) -> Fraction:
    """Make `packet`'s decode time follow the previous packet's; its decode time in seconds. Each chunk's encoder
    starts decoding before the first frame by its own B-frame delay, measured on its first frames: where frames
    after a cut are further apart than before it (a variable frame rate), that start can fall at or before the
    previous chunk's last decode time. One tick later is enough, and stays before the frame's own time."""
    base = packet.time_base
    if last_dts is not None and packet.dts * base <= last_dts:
        packet.dts = math.floor(last_dts / base) + 1
    return packet.dts * base
