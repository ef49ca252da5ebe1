from pathlib import Path

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
