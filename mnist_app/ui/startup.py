"""A server's start: load what every visitor needs before the first one arrives, and say when it is ready.

Streamlit has no start-up hook in a page script; its server (`st.App`, built in app.py) has a lifespan,
which its maintainers point to for start-up work. The lifespan starts `load_for_visitors` in a thread
and returns at once, so the server answers /_stcore/health while it loads (alive: the liveness probe)
and READY_PATH with 503 until everything is loaded (ready: the readiness and startup probes, Compose's
healthcheck, `make cluster`).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from mnist_app.config import READY_PATH, SHOWN_MODELS

LOGGER = logging.getLogger(__name__)


@dataclass
class Readiness:
    state: str = "starting"  # "starting", "ready" or "failed"
    detail: str = ""  # what failed, or how long loading took


READINESS = Readiness()


def load_for_visitors(readiness: Readiness = READINESS) -> None:
    """Load the models, the digit check and the string reader, and read one drawing with the shown models and
    the CNN's saliency map (their first answer costs more than the rest); `readiness` says how it went."""
    # Imported here, once the server runs: its caches' decorators check for Streamlit's runtime.
    from mnist_app.ui import resources

    started = time.perf_counter()
    try:
        reader = resources.load_reader_now()
        reader.whole_reader()
        reader.read_digit(warm_up_drawing(), SHOWN_MODELS, "light", saliency=("cnn",))  # as the Draw tab reads
        importlib.import_module("mnist_app.ui.page")  # the page's modules: not imported by its first visitor's run
    except Exception as error:  # whatever stops the loading, /ready says so and the server stays up
        LOGGER.exception("loading the models failed")
        readiness.state, readiness.detail = "failed", f"{type(error).__name__}: {error}"
        return
    readiness.state, readiness.detail = "ready", f"loaded in {time.perf_counter() - started:.1f} s"


def warm_up_drawing() -> np.ndarray:
    """A white bar on black, as the canvas sends it (RGBA): a warm-up input for the whole pipeline."""
    image = np.zeros((280, 280, 4), np.uint8)
    image[..., 3] = 255
    image[60:220, 130:150, :3] = 255
    return image


@contextlib.asynccontextmanager
async def lifespan(app: object) -> AsyncIterator[None]:
    """The server's lifespan: start loading, then serve at once (the health endpoint answers meanwhile)."""
    from mnist_app.ui.failover import run_whole_page_for_new_sessions

    run_whole_page_for_new_sessions()
    threading.Thread(target=load_for_visitors, name="load-for-visitors", daemon=True).start()
    yield


async def ready(request: Request) -> PlainTextResponse:
    """READY_PATH: 200 once loaded; 503 while starting, or if loading failed (with the reason)."""
    if READINESS.state == "ready":
        return PlainTextResponse(f"ok: {READINESS.detail}")
    text = READINESS.state + (f": {READINESS.detail}" if READINESS.detail else "")
    return PlainTextResponse(text, status_code=503)


def routes() -> list[Route]:
    return [Route(READY_PATH, ready)]
