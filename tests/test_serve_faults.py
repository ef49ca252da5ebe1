"""`realtime serve` against hostile and careless clients: half-open calls, other sites' pages, bodies past their
caps, malformed JSON and headers, uploads that would cost memory. Loopback only; every loop is bounded, and
each test ends by checking that the server still serves.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json

import numpy as np
import pytest
from conftest import make_weights, photo, png_claiming
from PIL import Image

from realtime.runtimes.stylizer import Stylizer

pytest.importorskip("aiortc", reason="realtime serve needs the serve extra")

from aiortc import RTCPeerConnection  # after the skip: it needs the serve extra
from webrtc_kit import TIMEOUT, Client, ServerThread, get_json, post, wait_for

# The server's patience, short for tests, yet long enough for a busy 2-core CI machine.
QUICK = {"connect_seconds": 5.0, "quiet_seconds": 3.0}
TOKEN = "s3cret-token"


def _server(**options) -> ServerThread:
    return ServerThread(Stylizer(make_weights(), "cpu", style_size=64), working_size=64, **{**QUICK, **options})


@pytest.fixture
def server():
    running = _server(max_clients=1)
    yield running
    running.close()


def _png(h: int = 24, w: int = 24) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(photo(h, w, seed=7)).save(buffer, "PNG")
    return buffer.getvalue()


def raw(server: ServerThread, method: str, path: str, body: bytes = b"", headers=None, chunked: bool = False):
    """One request as a client writes it, byte for byte: (status, JSON or bytes, headers). A server that
    answers before the body is all sent may close the connection under it; the answer is still read."""
    conn = http.client.HTTPConnection("127.0.0.1", server.server.port, timeout=TIMEOUT)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.putheader("Transfer-Encoding", "chunked") if chunked else conn.putheader("Content-Length", len(body))
        conn.endheaders()
        try:
            if chunked:
                for at in range(0, len(body), 65536):
                    piece = body[at : at + 65536]
                    conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                conn.send(b"0\r\n\r\n")
            else:
                conn.send(body)
        except OSError:
            pass
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data.startswith(b"{") else data, response.headers
    finally:
        conn.close()


def serves(server: ServerThread) -> bool:
    return "viewers" in get_json(server.base + "api/status", server.server.options.token)


def _offer_sdp() -> str:
    """A real browser-like offer (sendrecv video, ICE gathered) from a peer that then goes away."""

    async def make() -> str:
        pc = RTCPeerConnection()
        pc.addTransceiver("video", direction="sendrecv")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        await pc.close()
        return sdp

    return asyncio.run(make())


# ---- viewer places --------------------------------------------------------------------------------


def test_an_offer_whose_call_never_connects_frees_its_place(server):
    body = json.dumps({"sdp": _offer_sdp(), "type": "offer"}).encode()
    assert post(server.base + "offer", body)[0] == 200  # the only place, taken by a peer that never answers
    assert post(server.base + "offer", body)[0] == 503
    wait_for(lambda: server.status()["viewers"] == 0, 20, "the half-open viewer to be freed")
    client = Client(server.base, [photo(48, 64)], fps=10)
    try:
        assert client.connect() == 200
        client.frames_after(2)
    finally:
        client.close()


def test_a_client_whose_camera_goes_quiet_is_freed(server):
    quiet = Client(server.base, [photo(48, 64)], fps=10)
    try:
        assert quiet.connect() == 200
        quiet.frames_after(2)
        quiet.loop.call_soon_threadsafe(quiet.track.stop)  # the camera stops sending; the call itself stays up
        wait_for(lambda: server.status()["viewers"] == 0, 20, "the quiet viewer to be freed")
        wait_for(lambda: quiet.pc.connectionState in ("closed", "failed"), 15, "the call to end")
    finally:
        quiet.close()
    assert serves(server)


# ---- other sites' pages ---------------------------------------------------------------------------


def test_requests_from_another_sites_page_are_refused(server):
    evil = {"Origin": "http://evil.example"}
    status, reply, _ = raw(server, "POST", "/api/styles", _png(), {**evil, "Content-Type": "image/png"})
    assert status == 403 and "another site's page (http://evil.example)" in reply["error"]
    offer = json.dumps({"sdp": _offer_sdp(), "type": "offer"}).encode()
    assert raw(server, "POST", "/offer", offer, {**evil, "Content-Type": "application/json"})[0] == 403
    assert raw(server, "POST", "/offer", offer, {"Origin": "null", "Content-Type": "application/json"})[0] == 403
    assert server.status()["viewers"] == 0
    assert [s["kind"] for s in get_json(server.base + "api/styles")] == ["builtin", "builtin"]
    own = {"Origin": f"http://127.0.0.1:{server.server.port}", "Content-Type": "image/png"}
    assert raw(server, "POST", "/api/styles", _png(), own)[0] == 201  # the server's own page


def test_an_allowed_origin_gets_the_answers_its_page_needs():
    page = "https://demo.example:8443"
    running = _server(token=TOKEN, allow_origins=(page,))
    try:
        status, _, headers = raw(running, "OPTIONS", "/api/styles", headers={"Origin": page})
        assert status == 204 and headers["Access-Control-Allow-Origin"] == page
        auth = {"Origin": page, "Authorization": f"Bearer {TOKEN}", "Content-Type": "image/png"}
        status, _, headers = raw(running, "POST", "/api/styles", _png(), auth)
        assert status == 201 and headers["Access-Control-Allow-Origin"] == page
        other = {**auth, "Origin": "https://other.example"}
        assert raw(running, "POST", "/api/styles", _png(), other)[0] == 403
        assert raw(running, "OPTIONS", "/api/styles", headers={"Origin": "https://other.example"})[0] == 403
    finally:
        running.close()


def test_json_endpoints_take_json_and_uploads_take_an_image_type(server):
    offer = json.dumps({"sdp": _offer_sdp(), "type": "offer"}).encode()
    status, reply, _ = raw(server, "POST", "/offer", offer, {"Content-Type": "text/plain"})
    assert status == 415 and "application/json" in reply["error"]
    status, reply, _ = raw(server, "POST", "/api/styles", _png(), {"Content-Type": "text/plain"})
    assert status == 415 and "the upload is not an image" in reply["error"]
    assert server.status()["viewers"] == 0 and len(get_json(server.base + "api/styles")) == 2


# ---- bounded work before a refusal ----------------------------------------------------------------


def test_a_chunked_offer_past_its_cap_is_refused_while_it_streams(server):
    body = b'{"sdp": "' + b"a" * (300 * 1024) + b'", "type": "offer"}'
    status, reply, _ = raw(server, "POST", "/offer", body, {"Content-Type": "application/json"}, chunked=True)
    assert status == 413 and "larger than 256 kB" in reply["error"]
    assert serves(server)


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"sdp": "\xff\xfe", "type": "offer"}', b"{not json", b"[1, 2]"],
    ids=["nested 100,000 deep", "not UTF-8", "bad syntax", "not an object"],
)
def test_malformed_json_is_a_400_not_a_crash(server, body):
    status, reply, _ = raw(server, "POST", "/offer", body, {"Content-Type": "application/json"})
    assert status == 400 and reply["error"].startswith("expected JSON")
    assert serves(server)


@pytest.mark.parametrize(
    ("name", "value"),
    [("Authorization", b"Bearer \xff\xfe\xfd"), ("Cookie", b"realtime_token=\xc3\x28\xff")],
)
def test_header_bytes_that_are_not_text_are_refused_not_crashed(name, value):
    running = _server(token=TOKEN)
    try:
        status, reply, _ = raw(running, "GET", "/api/status", headers={name: value})
        assert status == 401 and reply["error"] == "wrong token"
        assert serves(running)
    finally:
        running.close()


def test_uploads_are_decoded_a_few_at_a_time(server):
    """Uploads still arriving hold their places; one more is told to retry, and no memory is spent on it."""
    png = _png()
    slow = []
    try:
        for _ in range(2):
            conn = http.client.HTTPConnection("127.0.0.1", server.server.port, timeout=TIMEOUT)
            conn.putrequest("POST", "/api/styles?name=slow")
            conn.putheader("Content-Type", "image/png")
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            conn.send(b"%x\r\n%s\r\n" % (16, png[:16]))  # the body has begun, and goes on later
            slow.append(conn)
        probe = png_claiming(10, 10)  # refused when its turn comes (415), so probing changes nothing

        def busy() -> bool:
            status, reply = post(server.base + "api/styles", probe, content_type="image/png")
            assert status in (415, 503), reply
            return status == 503

        wait_for(busy, 15, "a third upload to be refused while two are read")
        for conn in slow:
            rest = png[16:]
            conn.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(rest), rest))
            assert conn.getresponse().status == 201
        status, _ = post(server.base + "api/styles", png, content_type="image/png")
        assert status == 201
    finally:
        for conn in slow:
            conn.close()
    assert [s["kind"] for s in get_json(server.base + "api/styles")].count("upload") == 3


def test_formats_decoded_whole_have_the_lower_pixel_cap(server):
    status, reply = post(server.base + "api/styles", png_claiming(5000, 4000), content_type="image/png")
    assert status == 413 and "the most is 16,000,000 for PNG" in reply["error"]
    big = io.BytesIO()
    Image.fromarray(np.kron(photo(30, 40), np.ones((150, 150, 1), np.uint8))).save(big, "JPEG", quality=80)
    status, reply = post(server.base + "api/styles", big.getvalue(), content_type="image/jpeg")
    assert status == 201, reply  # a 27 MP JPEG decodes straight to a fraction of its size
    assert serves(server)
