"""How often one browser tab may share: a sliding window of its last shares."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

WINDOW_S = 60.0


@dataclass
class ShareRate:
    """At most `per_minute` shares in any 60 s."""

    per_minute: int
    times: deque[float] = field(default_factory=deque)

    def wait_s(self, now: float) -> float:
        """Seconds until another share is taken (0: now)."""
        while self.times and now - self.times[0] >= WINDOW_S:
            self.times.popleft()
        return 0.0 if len(self.times) < self.per_minute else WINDOW_S - (now - self.times[0])

    def record(self, now: float) -> None:
        self.times.append(now)
