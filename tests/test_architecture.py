"""docs/architecture.md against the code: the threads it lists are the threads the code starts."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# How the code names a thread it starts: Thread(name=...), a pool's thread_name_prefix, a Thread subclass's
# stages, and asyncio's default executor.
STARTS = [
    re.compile(r"threading\.Thread\([^)]*name=f?\"([^\"{]+)"),
    re.compile(r"thread_name_prefix=\"([^\"]+)\""),
    re.compile(r"_Stage\(\"([^\"]+)\""),
]


def started_threads() -> set[str]:
    names = set()
    for path in (ROOT / "realtime").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in STARTS:
            names.update(name.strip() for name in pattern.findall(text))
        if "run_in_executor(None" in text:
            names.add("asyncio")
    return names


def documented_threads() -> set[str]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = text.split("## Threads", 1)[1].split("\n\n")[2]  # the heading, one sentence, then the table
    names = set()
    for row in table.splitlines()[2:]:
        names.update(re.findall(r"`([^`]+)`", row.split("|")[1]))
    return names


def test_the_architecture_lists_every_thread_the_code_starts():
    started = started_threads()
    assert {"capture", "keyframes", "shared generator", "decode", "asyncio"} <= started  # the scan finds them
    assert documented_threads() == started
