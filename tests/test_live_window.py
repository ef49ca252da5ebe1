"""The real live window under Xvfb, driven with xdotool (skipped where those tools are missing).

The checks live in scripts/xvfb_live_check.py, which also runs on its own and keeps screenshots.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "xvfb_live_check.py"
_spec = importlib.util.spec_from_file_location("xvfb_live_check", SCRIPT)
xvfb_live_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(xvfb_live_check)

pytestmark = pytest.mark.skipif(
    bool(xvfb_live_check.missing_tools()),
    reason=f"needs {', '.join(xvfb_live_check.TOOLS)} (apt-get install xvfb xdotool imagemagick)",
)


def test_hotkeys_drive_the_real_window(tmp_path, weights_file):
    results = xvfb_live_check.run_check(tmp_path, weights=str(weights_file), size=128)
    assert results["style change (mean |diff|)"] > 2
    assert results["recording frames"] >= 1
    assert any("stopped: quit" in line for line in results["app output"])
