"""Short notes for the HUD ("strength 0.7", "saved snapshot …"), each shown for a few seconds."""

from __future__ import annotations

import time
from collections import deque

MESSAGE_SECONDS = 3.0
_KEPT = 4  # the most messages on screen at once


class Messages:
    """The last few messages posted, each with the moment it leaves the screen."""

    def __init__(self, seconds: float = MESSAGE_SECONDS) -> None:
        self.seconds = seconds
        self._posted: deque[tuple[str, float]] = deque(maxlen=_KEPT)

    def post(self, text: str) -> None:
        self._posted.append((text, time.monotonic() + self.seconds))

    @property
    def recent(self) -> list[str]:
        """The last few messages posted, oldest first, whether or not they are still on screen."""
        return [text for text, _ in self._posted]

    def showing(self) -> list[str]:
        """The messages still on screen, oldest first."""
        now = time.monotonic()
        return [text for text, until in self._posted if until > now]
