"""`realtime serve` without a browser: Python WebRTC clients on loopback against a server on a tiny generator.

Assertions compare what comes back with the generator's own output for the frame sent (the video codec
adds a little noise, so "closer to the stylised frame than to the raw one"), and every wait polls for a
condition with a generous timeout.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import make_weights, photo, png_claiming, save_png

from realtime.cli import main
from realtime.model.weights import save_weights
from realtime.runtimes.settings import STROKE_REFERENCE
from realtime.runtimes.stylizer import Stylizer

pytest.importorskip("aiortc", reason="realtime serve needs the serve extra")

from webrtc_kit import Client, ServerThread, get_json, post, wait_for  # it needs aiortc

SIZE = 96  # the server's working size: frames come back at most this large


def _stylizer() -> Stylizer:
    return Stylizer(make_weights(), "cpu", style_size=64)


@functools.cache
def _reference() -> Stylizer:
    """A stylizer of the test's own for the expected pictures (the server's belongs to its generator thread)."""
    return _stylizer()


def _stylized(frame: np.ndarray, style: str) -> np.ndarray:
    """What the generator makes of `frame` in a built-in style."""
    stylizer = _reference()
    return stylizer.stylize_frames(frame[None], stylizer.look([style]))[0]


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


@pytest.fixture
def server():
    running = ServerThread(_stylizer(), working_size=SIZE)
    yield running
    running.close()


@pytest.fixture
def clip() -> list[np.ndarray]:
    """Four different frames at the working size, so what returns can be matched to what was sent."""
    return [photo(72, SIZE, seed=i) for i in range(4)]


def _client(server: ServerThread, frames, **kwargs) -> Client:
    return Client(server.base, frames, token=server.server.options.token, **kwargs)


def test_a_client_gets_its_frames_back_stylised_and_can_switch_style(server, clip):
    client = _client(server, clip)
    try:
        assert client.connect() == 200
        wait_for(lambda: client.state() is not None, what="the first state message")
        assert client.state()["style"] == "style0"
        got = client.frames_after(6)
        assert got.shape == clip[0].shape
        styled = [_stylized(frame, "style0") for frame in clip]
        nearest_styled = min(_distance(got, s) for s in styled)
        nearest_raw = min(_distance(got, f) for f in clip)
        assert nearest_styled < 0.5 * nearest_raw, (nearest_styled, nearest_raw)

        client.set(style="style1")
        wait_for(lambda: client.state()["style"] == "style1", what="the style change")
        got = client.frames_after(4)
        other = [_stylized(frame, "style1") for frame in clip]
        assert min(_distance(got, s) for s in other) < min(_distance(got, s) for s in styled)
    finally:
        client.close()
    wait_for(lambda: server.status()["viewers"] == 0, what="the viewer to be freed")


def test_settings_travel_on_the_data_channel_and_bad_ones_are_one_line_errors(server, clip):
    client = _client(server, clip[:1])
    try:
        assert client.connect({"style": "style1", "strength": 0.0}) == 200
        wait_for(lambda: client.state() is not None, what="the first state message")
        assert client.state()["style"] == "style1"
        assert _distance(client.frames_after(3), clip[0]) < 6  # strength 0: the photo itself, up to codec noise

        client.set(strength=1.0, compare=True)
        wait_for(lambda: client.state()["compare"], what="compare mode")
        got = client.frames_after(4)
        half = SIZE // 2 - 2
        assert _distance(got[:, :half], clip[0][:, :half]) < 6  # compare: the photo on the left …
        assert _distance(got[:, -half:], clip[0][:, -half:]) > 12  # … stylised on the right

        client.set(size_step=-1)
        wait_for(lambda: client.state()["size"] < SIZE, what="a smaller working size")
        small = client.state()["size"]
        wait_for(lambda: max(client.received[-1][1].shape[:2]) == small, what="frames at the smaller size")
        # a picture smaller than the stroke's painting size is painted at its own size: larger strokes
        assert client.state()["painted_stroke"] == pytest.approx(STROKE_REFERENCE / small, abs=0.01)

        client.set(strength="lots")
        client.set(volume=11)
        wait_for(lambda: len([m for m in client.messages if "error" in m]) >= 2, what="two errors")
        errors = [m["error"] for m in client.messages if "error" in m]
        assert "strength must be a number between 0 and 1" in errors[0]
        assert "unknown setting 'volume'" in errors[1]
        assert client.state()["strength"] == 1.0  # the bad messages changed nothing
        client.frames_after(2)  # and the stream goes on
    finally:
        client.close()


def test_several_viewers_each_keep_their_own_style(server, clip):
    clients = [_client(server, clip[:1]) for _ in range(2)]
    try:
        for client, style in zip(clients, ("style0", "style1")):
            assert client.connect({"style": style}) == 200
        got = [client.frames_after(4) for client in clients]
        for frame, style, other in ((got[0], "style0", "style1"), (got[1], "style1", "style0")):
            assert _distance(frame, _stylized(clip[0], style)) < _distance(frame, _stylized(clip[0], other))
        assert server.status()["viewers"] == 2
    finally:
        for client in clients:
            client.close()


def test_over_max_clients_a_viewer_is_told_the_server_is_busy(clip):
    running = ServerThread(_stylizer(), working_size=SIZE, max_clients=1)
    first, second = _client(running, clip[:1]), _client(running, clip[:1])
    try:
        assert first.connect() == 200
        assert second.connect() == 503
        assert second.answer["error"].startswith("busy: 1 viewer connected")
        first.frames_after(3)  # the first viewer is unaffected
    finally:
        first.close()
        second.close()
        running.close()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "expected JSON"),
        (json.dumps({"type": "offer"}).encode(), "expected JSON"),
        (json.dumps({"sdp": "v=0", "type": "answer"}).encode(), "expected JSON"),
        (json.dumps({"sdp": "garbage", "type": "offer"}).encode(), "the offer has no video track"),
        (json.dumps({"sdp": "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "type": "offer"}).encode(), "malformed SDP"),
        (json.dumps({"sdp": "v=0", "type": "offer", "settings": {"style": "nope"}}).encode(), "unknown style 'nope'"),
        (json.dumps({"sdp": "v=0", "type": "offer", "settings": [1]}).encode(), "settings are an object"),
    ],
)
def test_bad_offers_are_clear_http_errors_and_free_their_slot(server, clip, body, message):
    status, reply = post(server.base + "offer", body)
    assert status == 400
    assert message in reply["error"]
    assert "\n" not in reply["error"]
    assert server.status()["viewers"] == 0


def test_the_server_keeps_serving_after_bad_requests(server, clip):
    for body in (b"{", b'{"sdp": "x", "type": "offer"}'):
        assert post(server.base + "offer", body)[0] == 400
    assert post(server.base + "api/styles", b"not an image", content_type="image/png")[0] == 415
    client = _client(server, clip[:1])
    try:
        assert client.connect() == 200
        client.frames_after(2)
    finally:
        client.close()


def test_a_token_is_needed_off_localhost_and_checked(clip):
    running = ServerThread(_stylizer(), working_size=SIZE, token="s3cret")
    try:
        base = running.base
        for token in (None, "wrong"):
            status, reply = post(base + "offer", b"{}", token=token)
            assert status == 401
            assert reply["error"] in (
                "wrong token",
                "this server needs its token: open the address it printed (…/?token=…)",
            )
        with pytest.raises(Exception, match="401"):
            get_json(base + "api/styles")
        assert get_json(base + "api/styles", "s3cret")[0]["id"] == "style0"
        client = Client(base, clip[:1], token="s3cret")
        try:
            assert client.connect() == 200
            client.frames_after(2)
        finally:
            client.close()
    finally:
        running.close()


def test_a_host_that_is_not_this_machine_gets_a_token_and_a_local_server_refuses_other_hosts(server):
    from realtime.serving.server import StyleServer
    from realtime.serving.settings import ServeOptions

    public = StyleServer(_stylizer(), ServeOptions(host="0.0.0.0", port=8123))
    try:
        assert public.options.token and len(public.options.token) >= 16
        assert public.url.endswith(f":8123/?token={public.options.token}")
    finally:
        public.generator.close()
        public.gallery.close()
    import urllib.request

    request = urllib.request.Request(server.base + "api/styles", headers={"Host": "evil.example:80"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403


def test_an_uploaded_painting_becomes_a_style_a_viewer_can_pick(server, clip, style_images, tmp_path):
    before = set(os.listdir(tmp_path))
    status, style = post(
        server.base + "api/styles?name=../../etc/stripes.png", style_images[0].read_bytes(), content_type="image/png"
    )
    assert status == 201
    assert style["kind"] == "upload" and style["name"] == "stripes"  # the client's path is only a label
    assert set(os.listdir(tmp_path)) == before  # and nothing was written anywhere
    assert style["id"] in [s["id"] for s in get_json(server.base + "api/styles")]
    import urllib.request

    with urllib.request.urlopen(server.base + style["thumbnail"].lstrip("/"), timeout=30) as thumb:
        assert thumb.headers["Content-Type"] == "image/jpeg" and thumb.read(3) == b"\xff\xd8\xff"

    client = _client(server, clip[:1])
    try:
        assert client.connect() == 200
        builtin = client.frames_after(3)
        client.set(style=style["id"])
        wait_for(lambda: client.state()["style"] == style["id"], what="the uploaded style")
        uploaded = client.frames_after(4)
        assert _distance(uploaded, builtin) > 3
    finally:
        client.close()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"", "image/png", 400, "the upload is empty"),
        (b"GIF89a but not really", "image/gif", 415, "the upload is not an image"),
        (b"%PDF-1.4\n", "application/pdf", 415, "the upload is not an image"),
        (png_claiming(50_000, 50_000), "image/png", 413, "the most is 40,000,000"),
        (b"--x\r\n", "multipart/form-data; boundary=x", 415, "not a form"),
    ],
)
def test_bad_uploads_are_refused_with_a_reason(server, body, content_type, status, message):
    got, reply = post(server.base + "api/styles", body, content_type=content_type)
    assert got == status
    assert message in reply["error"]
    assert [s["kind"] for s in get_json(server.base + "api/styles")] == ["builtin", "builtin"]


def test_an_oversized_upload_is_refused_before_it_is_read(server):
    got, reply = post(server.base + "api/styles", b"\0" * (20 * 1024 * 1024 + 1), content_type="image/png")
    assert got == 413
    assert reply["error"] == "the upload is 20,971,521 bytes; the most is 20,971,520 (20 MB)"


def test_a_tiff_upload_is_refused_by_type(server, tmp_path):
    path = tmp_path / "x.tif"
    from PIL import Image

    Image.fromarray(photo(16, 16)).save(path)
    got, reply = post(server.base + "api/styles", path.read_bytes(), content_type="image/tiff")
    assert got == 415 and "TIFF images are not taken" in reply["error"]


_VANISHING_CLIENT = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    import numpy as np
    from webrtc_kit import Client
    client = Client({url!r}, [np.full((64, 64, 3), 90, np.uint8)], fps=10)
    assert client.connect() == 200
    client.frames_after(2)
    print("receiving", flush=True)
    time.sleep(600)
    """
)


def test_a_client_that_vanishes_mid_call_is_freed_and_the_others_go_on(server, clip, monkeypatch):
    import aioice.ice

    # A vanished peer says nothing: the server notices when ICE consent checks fail (6 misses 5 s apart by
    # default); shorter checks here so the test waits seconds, not half a minute.
    monkeypatch.setattr(aioice.ice, "CONSENT_INTERVAL", 0.3)
    staying = _client(server, clip[:1])
    script = _VANISHING_CLIENT.format(tests=str(Path(__file__).parent), url=server.base)
    vanishing = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert staying.connect() == 200
        assert vanishing.stdout.readline().strip() == "receiving"
        wait_for(lambda: server.status()["viewers"] == 2, what="two viewers")
        vanishing.kill()  # no goodbye: no DTLS close, no RTCP BYE
        vanishing.wait(30)
        wait_for(lambda: server.status()["viewers"] == 1, what="the vanished viewer to be freed")
        staying.frames_after(3)
    finally:
        vanishing.kill()
        staying.close()


def test_serve_without_the_extra_says_what_to_install(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "aiortc" else real(name, *a))
    assert main(["serve"]) == 2
    assert capsys.readouterr().err == "realtime: error: realtime serve needs aiortc: pip install 'realtime[serve]'\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--certfile", "cert.pem"], "--certfile and --keyfile go together"),
        (["--certfile", "nope.pem", "--keyfile", "nope.key"], "no such file: nope.pem"),
        (["--styles", "no-such-folder"], "styles folder not found: no-such-folder"),
        (["--port", "70000"], "--port must be at most 65535"),
    ],
)
def test_serve_checks_its_options_before_loading_the_model(args, message, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert main(["serve", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_serve_stops_cleanly_on_sigterm_and_closes_its_viewers(tmp_path):
    weights = tmp_path / "tiny.safetensors"
    save_weights(make_weights(), weights)
    folder = tmp_path / "paintings"
    folder.mkdir()
    save_png(folder / "blotches.png", photo(32, 32, seed=3))
    command = [sys.executable, "-m", "realtime", "serve", "--port", "0", "--weights", str(weights)]
    command += ["--device", "cpu", "--size", "64", "--styles", str(folder), "--max-clients", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    client = None
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        names = [s["name"] for s in get_json(url + "api/styles")]
        assert names == ["style0", "style1", "blotches"]
        client = Client(url, [photo(48, 64)], fps=10)
        assert client.connect({"style": "blotches"}) == 200
        client.frames_after(2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 128 + signal.SIGTERM
        wait_for(lambda: client.pc.connectionState in ("closed", "failed"), what="the call to end")
    finally:
        process.kill()
        if client is not None:
            client.close()
    err = process.stderr.read()
    assert "realtime: stopped by SIGTERM; every viewer was disconnected" in err
    assert "Traceback" not in err
