"""Chunk files joined into one video without re-encoding: their packets copied in order, the source's audio
copied beside them, the whole published atomically.

Each chunk file starts with a keyframe and was encoded with the same settings, so its packets simply follow
the previous chunk's; their times are the source's own, so nothing is shifted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av

from realtime.atomic import atomic_output
from realtime.errors import RealtimeError
from realtime.video.ffmpeg import ffmpeg_path, ffmpeg_reason, ffmpeg_reasons
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


def join_chunks(parts: Sequence[Path], output: str | Path, audio_from: str | Path | None = None) -> int:
    """Write the video packets of `parts`, in order, to `output` with the audio of `audio_from` (None: silent);
    the packets written."""
    if not parts:
        raise RealtimeError("no chunks to join")
    output = Path(output)
    packets = 0
    with atomic_output(output) as tmp:
        try:
            with ffmpeg_reasons(), av.open(ffmpeg_path(tmp), "w") as out:
                inputs = [av.open(ffmpeg_path(part)) for part in parts]
                audio_source = av.open(ffmpeg_path(audio_from)) if audio_from is not None else None
                try:
                    video = out.add_stream_from_template(inputs[0].streams.video[0])
                    audio = AudioCopy(out, audio_source, output) if audio_source is not None else None
                    for part in inputs:
                        for packet in part.demux(part.streams.video[0]):
                            if packet.size == 0:
                                continue  # the demuxer's end-of-stream marker
                            if audio is not None:
                                audio.mux_until(packet.dts * packet.time_base)
                            packet.stream = video
                            out.mux(packet)
                            packets += 1
                    if audio is not None:
                        audio.mux_until(None)
                finally:
                    for container in [*inputs, audio_source]:
                        if container is not None:
                            container.close()
        except (av.FFmpegError, ValueError) as exc:
            raise RealtimeError(f"cannot join the chunks into {output}: {ffmpeg_reason(exc)}") from None
    return packets
