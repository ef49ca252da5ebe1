import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is Python 3.11+")
def test_every_subpackage_is_listed_for_the_wheel():
    """pyproject lists packages by hand (weights/ installs as realtime.shipped); a new one must be added there."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "realtime").rglob("__init__.py")}
    assert on_disk | {"realtime.shipped"} == set(config["packages"])
    assert config["package-dir"]["realtime.shipped"] == "weights"
