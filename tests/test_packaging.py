from pathlib import Path

import pytest
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_package_discovery_finds_every_subpackage_and_the_shipped_weights():
    """pyproject discovers `realtime*`; weights/ installs as realtime.shipped through the realtime/shipped link."""
    found = set(find_packages(str(ROOT), include=["realtime*"]))
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "realtime").rglob("__init__.py")}
    assert on_disk <= found
    assert {"realtime", "realtime.cli", "realtime.model", "realtime.shipped"} <= found
    shipped = ROOT / "realtime" / "shipped"
    assert shipped.resolve() == (ROOT / "weights").resolve()
    assert sorted(p.name for p in shipped.glob("*.safetensors")) == sorted(
        p.name for p in (ROOT / "weights").glob("*.safetensors")
    )
    assert any(shipped.glob("*.safetensors"))


def test_the_exported_sites_page_and_runtime_install_with_the_package():
    """Every file of the page and of the vendored onnxruntime-web is package data, so an installed app exports."""
    import fnmatch

    tomllib = pytest.importorskip("tomllib")
    from realtime.web.site import ONNXRUNTIME_FILES, VENDORED

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["realtime.web"]
    web = ROOT / "realtime" / "web"
    files = [p.relative_to(web).as_posix() for folder in ("page", "vendor") for p in (web / folder).rglob("*")]
    files = [name for name in files if (web / name).is_file()]
    assert {"page/index.html", "page/app.js", "vendor/onnxruntime-web/NOTICE"} <= set(files)
    assert all(any(fnmatch.fnmatch(name, pattern) for pattern in data) for name in files)
    assert all((VENDORED / name).is_file() for name in ONNXRUNTIME_FILES)
