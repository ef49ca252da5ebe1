"""`realtime export-web` and `realtime serve --client-side` without a browser: what the site holds, that its graphs
paint what the Python runtime paints, the folder written whole or not at all, and the server's files and checks.
The page itself in Chromium: tests/test_web_browser.py."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_weights, photo, save_png
from test_cli import one_error_line, run

from realtime.errors import RealtimeError
from realtime.imaging.frames import pad_for_generator
from realtime.imaging.images import read_image
from realtime.imaging.palette import Palette
from realtime.model.weights import save_weights
from realtime.runtimes.stylizer import Stylizer
from realtime.web.site import MANIFEST, export_site

ort = pytest.importorskip("onnxruntime")


def _rgba(picture: np.ndarray) -> np.ndarray:
    return np.concatenate([picture, np.full((*picture.shape[:2], 1), 255, np.uint8)], axis=-1)[None]


@pytest.fixture
def painting(tmp_path) -> Path:
    folder = tmp_path / "paintings"
    folder.mkdir()
    y, x = np.mgrid[0:40, 0:52]
    stripes = np.stack([(np.sin(x / 1.5) > 0) * 255, (np.sin(y / 2.5) > 0) * 120, np.full_like(x, 30)], 2)
    return save_png(folder / "stripes.png", stripes.astype(np.uint8))


@pytest.fixture
def site(tmp_path, painting):
    return export_site(make_weights(), tmp_path / "site", [painting], style_size=64)


def test_the_site_holds_the_page_runtime_graphs_and_every_style(site):
    manifest = json.loads((site.path / MANIFEST).read_text())
    assert [s["name"] for s in manifest["styles"]] == ["style0", "style1", "stripes"]
    assert [s["palette"] is None for s in manifest["styles"]] == [True, True, False]
    for style in manifest["styles"]:
        assert read_image(site.path / style["thumbnail"]).shape[2] == 3
    channels = manifest["model"]["channels"]
    assert (site.path / manifest["targets"]).stat().st_size == 3 * channels * channels * 4
    for name in ("index.html", "app.js", "engine.js", "styles.js", "colors.js", "sizing.js", "style.css", "_headers"):
        assert (site.path / name).is_file(), name
    assert (site.path / "ort" / "ort-wasm-simd-threaded.jsep.wasm").stat().st_size > 1e6
    assert "Integrity: sha512-" in (site.path / "ort" / "NOTICE").read_text()
    assert "Cross-Origin-Embedder-Policy: require-corp" in (site.path / "_headers").read_text()
    # Every byte on disk is counted in the report.
    on_disk = sum(p.stat().st_size for p in site.path.rglob("*") if p.is_file())
    assert site.total == on_disk


def test_the_generator_graph_paints_what_the_python_runtime_paints(site):
    manifest = json.loads((site.path / MANIFEST).read_text())
    targets = np.fromfile(site.path / manifest["targets"], "<f4").reshape(3, *[manifest["model"]["channels"]] * 2)
    session = ort.InferenceSession(str(site.path / manifest["generator"]))
    stylizer = Stylizer(make_weights(), "cpu", style_size=64)
    frame = photo(48, 64, seed=3)
    for index, strength in ((0, 1.0), (1, 0.5)):
        feeds = {
            "rgba": _rgba(frame),
            "target": targets[index : index + 1],
            "strength": np.array([strength], np.float32),
            "keep_colors": np.zeros(1, np.float32),
        }
        painted = session.run(None, feeds)[0][0]
        expected = stylizer.stylize_frames(frame[None], stylizer.look([f"style{index}"], strength=strength))[0]
        assert np.all(painted[..., 3] == 255)
        assert np.abs(painted[..., :3].astype(int) - expected).max() <= 1
        assert np.abs(painted[..., :3].astype(int) - frame).mean() > 10  # it did paint


def test_the_encoder_graph_gives_a_pictures_target_and_the_site_its_palette(site, painting):
    manifest = json.loads((site.path / MANIFEST).read_text())
    stylizer = Stylizer(make_weights(), "cpu", style_size=64)
    picture = read_image(painting)
    padded = pad_for_generator(torch.from_numpy(picture).permute(2, 0, 1)[None].float())
    encoder = ort.InferenceSession(str(site.path / manifest["encoder"]))
    target = encoder.run(None, {"rgba": _rgba(padded[0].permute(1, 2, 0).byte().numpy())})[0][0]
    assert np.allclose(target, stylizer.styles.target(str(painting)).numpy(), rtol=1e-4, atol=1e-6)
    listed = manifest["styles"][2]["palette"]
    palette = Palette.of(picture)
    assert np.allclose(listed["mean"], palette.mean, atol=1e-3)
    assert np.allclose(listed["moment"], palette.moment, atol=1e-3)


def test_export_replaces_an_earlier_site_and_refuses_other_folders(tmp_path, site, monkeypatch):
    (site.path / "styles" / "stale.jpg").write_text("from an earlier export")
    again = export_site(make_weights(styles=1), site.path)
    assert not (again.path / "styles" / "stale.jpg").exists()
    assert len(json.loads((again.path / MANIFEST).read_text())["styles"]) == 1

    # A site kept with files of its own (a host's CNAME) is not stripped of them; nor is a link followed.
    (site.path / "CNAME").write_text("demo.example.org")
    with pytest.raises(RealtimeError, match="CNAME"):
        export_site(make_weights(), site.path)
    assert (site.path / "CNAME").read_text() == "demo.example.org"
    (site.path / "CNAME").unlink()
    (tmp_path / "link").symlink_to(site.path)
    with pytest.raises(RealtimeError, match="is a link"):
        export_site(make_weights(), tmp_path / "link")
    monkeypatch.chdir(site.path / "styles")
    with pytest.raises(RealtimeError, match="current folder"):
        export_site(make_weights(), site.path)

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(RealtimeError, match="holds other files"):
        export_site(make_weights(), mine)
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    with pytest.raises(RealtimeError, match="no built-in styles"):
        export_site(make_weights(styles=0), tmp_path / "empty")
    assert not (tmp_path / "empty").exists()


def test_a_killed_exports_leftover_is_removed_and_a_failed_one_leaves_nothing(tmp_path, monkeypatch):
    leftover = tmp_path / ".site.k1ll3d.part"
    (leftover / "model").mkdir(parents=True)
    export_site(make_weights(), tmp_path / "site")
    assert not leftover.exists()

    def broken(model):
        raise RealtimeError("the exporter failed")

    monkeypatch.setattr("realtime.web.site.export_page_graphs", broken)
    with pytest.raises(RealtimeError, match="exporter failed"):
        export_site(make_weights(), tmp_path / "other")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_export_web_command_writes_the_site_and_refuses_bad_input_in_one_line(capsys, tmp_path, painting):
    weights = tmp_path / "tiny.safetensors"
    save_weights(make_weights(), weights)
    out = tmp_path / "site"
    args = ("export-web", out, "--weights", weights, "--style-size", "64")
    code, stdout, err = run(capsys, *args, "--styles", painting.parent)
    assert code == 0, err
    assert stdout.strip() == str(out)
    assert "onnxruntime-web" in err and " MB" in err
    assert len(json.loads((out / MANIFEST).read_text())["styles"]) == 3

    code, _, err = run(capsys, *args, "--styles", tmp_path / "missing")
    assert code == 2 and "missing" in one_error_line(err)
    code, _, err = run(capsys, "export-web", painting, "--weights", weights)
    assert code == 2 and "is a file" in one_error_line(err)
    code, _, err = run(capsys, "export-web", tmp_path / "x", "--weights", tmp_path / "nope.safetensors")
    assert code == 2 and "not found" in one_error_line(err)


class _Serving:
    """A SiteServer on a loop of its own thread."""

    def __init__(self, folder: Path, **options: object) -> None:
        from realtime.serving.settings import ServeOptions
        from realtime.serving.site import SiteServer

        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.server = SiteServer(folder, ServeOptions(port=0, **options))
        self.url = asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(30)
        self.base = f"http://127.0.0.1:{self.server.port}/"

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)


def test_the_site_server_hands_out_the_files_isolated_and_nothing_else(site):
    pytest.importorskip("aiohttp")
    serving = _Serving(site.path)
    try:
        status, headers, body = serving.get("")
        assert status == 200 and b'type="module"' in body
        assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        status, headers, body = serving.get("ort/ort-wasm-simd-threaded.jsep.wasm")
        assert status == 200 and headers["Content-Type"] == "application/wasm" and body[:4] == b"\0asm"
        for path in ("nope.js", "model/", "..%2f..%2fetc%2fpasswd", "%2e%2e/%2e%2e/etc/passwd", "a%00b"):
            status, _, body = serving.get(path)
            assert status == 404 and body.decode().count("\n") == 1, path
        status, _, body = serving.get("", {"Host": "rebound.example"})
        assert status == 403 and b"localhost only" in body
    finally:
        serving.close()


def test_the_site_server_needs_its_token_off_localhost(site):
    pytest.importorskip("aiohttp")
    serving = _Serving(site.path, token="s3cret")
    try:
        assert serving.get("site.json")[0] == 401
        assert serving.get("site.json?token=wrong")[0] == 401
        status, headers, _ = serving.get("?token=s3cret")
        assert status == 200 and "realtime_token=s3cret" in headers["Set-Cookie"]
        assert serving.get("site.json", {"Cookie": "realtime_token=s3cret"})[0] == 200
        assert serving.url.endswith("/?token=s3cret")
    finally:
        serving.close()


def test_serve_client_side_refuses_a_bad_certificate_in_one_line(capsys, tmp_path):
    cert = tmp_path / "cert.pem"
    cert.write_text("not a certificate")
    code, _, err = run(capsys, "serve", "--client-side", "--certfile", cert, "--keyfile", cert)
    assert code == 2 and "cannot use" in one_error_line(err)
