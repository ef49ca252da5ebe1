"""The job's record: one JSON line per output, appended as outputs finish, read back to resume.

JSON lines append safely while the job runs (a crash can cut only the last line, which is then ignored)
and load directly into pandas (`pd.read_json(path, lines=True)`) and Ray (`ray.data.read_json(path)`).
Fields: `input`, `style`, `output` (paths relative to the input, styles and output folders), `seed`,
`status` (`ok` or `error`) and `error` (the reason, or null).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from realtime.atomic import atomic_output
from realtime.errors import RealtimeError

FIELDS = ("input", "style", "output", "seed", "status", "error")
OK = "ok"
ERROR = "error"


def row(source: str, style: str, output: str, seed: int, error: str | None = None) -> dict[str, Any]:
    """A manifest row: `ok` without an error, `error` with one."""
    return {
        "input": source,
        "style": style,
        "output": output,
        "seed": seed,
        "status": ERROR if error else OK,
        "error": error,
    }


class Manifest:
    """The manifest file of one output folder; one writer at a time (the process that runs the job)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: TextIO | None = None

    def rows(self) -> list[dict[str, Any]]:
        """Every complete, well-formed row in the file (none when there is no file yet)."""
        if not self.path.exists():
            return []
        found = []
        try:
            with self.path.open(encoding="utf-8") as lines:
                for line in lines:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue  # a line cut short by a crash
                    if isinstance(entry, dict) and all(key in entry for key in FIELDS):
                        found.append(entry)
        except OSError as exc:
            raise RealtimeError(f"cannot read the manifest {self.path}: {exc.strerror}") from None
        return found

    def open(self, output_root: Path, planned: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """Start a run: keep the rows of planned (output, style) pairs that are complete, drop the rest, and
        return the pairs kept.

        Complete = the manifest says ok and the file is there (outputs are written atomically, so a file
        that is there is whole). Failed rows are dropped so a rerun tries them again, and rows of another
        assignment (another seed, a changed folder) so the manifest keeps one row per output of this job.
        """
        done: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in self.rows():
            key = (entry["output"], entry["style"])
            if key in planned and entry["status"] == OK and (output_root / entry["output"]).is_file():
                done[key] = entry
        with atomic_output(self.path) as tmp, tmp.open("w", encoding="utf-8") as out:
            out.writelines(json.dumps(entry) + "\n" for entry in done.values())
        self._file = self.path.open("a", encoding="utf-8")
        return set(done)

    def append(self, entry: dict[str, Any]) -> None:
        """Record one finished output, flushed at once so an interrupted job keeps everything it finished."""
        if self._file is None:
            raise RuntimeError("the manifest is not open")
        clean = {key: entry[key] for key in FIELDS}
        clean["seed"] = int(clean["seed"])  # Ray hands back numpy integers, which json cannot write
        self._file.write(json.dumps(clean) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
