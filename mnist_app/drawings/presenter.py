"""Who may delete the room's drawings and show held-back ones: whoever holds the presenter key.

The key comes from `MNIST_APP_PRESENTER_KEY` (replicas share it through the environment) or, in the
app, from Streamlit's secrets (`presenter_key`). Without either, the server makes a random one at
start and prints it once in its log, as Jupyter prints its token. Keys are compared in constant
time, and a tab that keeps guessing waits longer after each wrong try.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass

ENV_VAR = "MNIST_APP_PRESENTER_KEY"
LONGEST_WAIT_S = 300.0


def configured_key() -> str | None:
    """The key set in the environment, if any (blank counts as unset)."""
    return (os.environ.get(ENV_VAR) or "").strip() or None


def new_key() -> str:
    """A random key, easy to read aloud to a co-presenter (hex, 16 characters)."""
    return secrets.token_hex(8)


def announcement(key: str) -> str:
    """The log line for a key the server made itself."""
    return (
        f"Presenter key for the Room tab's presenter tools: {key}\n"
        f"  (made at random for this server; set {ENV_VAR}, or presenter_key in .streamlit/secrets.toml, "
        "to choose your own and to share one key between replicas)"
    )


def matches(given: str, key: str) -> bool:
    """Whether `given` is the key, in time that does not depend on where they differ."""
    return bool(given) and hmac.compare_digest(given.encode(), key.encode())


@dataclass
class Attempts:
    """Wrong keys tried in one tab: after `free` of them, each further try waits 2, 4, 8 ... s (at most 5 min)."""

    free: int
    wrong: int = 0
    not_before: float = 0.0  # a monotonic time

    def wait_s(self, now: float) -> float:
        """Seconds before the next try is taken (0: now)."""
        return max(0.0, self.not_before - now)

    def failed(self, now: float) -> None:
        self.wrong += 1
        if self.wrong >= self.free:
            self.not_before = now + min(LONGEST_WAIT_S, 2.0 ** (self.wrong - self.free + 1))

    def succeeded(self) -> None:
        self.wrong, self.not_before = 0, 0.0
