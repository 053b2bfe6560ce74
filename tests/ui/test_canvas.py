"""Our build of the drawing canvas (components/drawable_canvas): what is committed is what the build makes."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_app.config import ROOT

COMPONENT = ROOT / "components" / "drawable_canvas"
LIVE = ROOT / "components" / "live_reading"
needs_release = pytest.mark.skipif(
    importlib.util.find_spec("streamlit_drawable_canvas") is None or not (LIVE / "node_modules").is_dir(),
    reason="the build starts from streamlit-drawable-canvas 0.13.0 (requirements-dev.txt) and bundles the live "
    "module from its npm packages (make canvas): not both installed here",
)


def check(folder) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(folder / "build.py"), "--check"], capture_output=True, text=True, timeout=120
    )


@needs_release
def test_the_committed_canvas_equals_a_fresh_build():
    result = check(COMPONENT)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_release
def test_the_check_finds_a_bundle_edited_by_hand(tmp_path):
    copy = tmp_path / "drawable_canvas"
    shutil.copytree(COMPONENT / "mnist_drawable_canvas", copy / "mnist_drawable_canvas")
    for name in ("build.py", "checksums.json"):
        shutil.copy(COMPONENT / name, copy / name)
    (tmp_path / "live_reading").symlink_to(LIVE)
    (bundle,) = (copy / "mnist_drawable_canvas" / "frontend" / "build").glob("index-*.js")
    bundle.write_text(bundle.read_text().replace("Bc = 200", "Bc = 150"))
    result = check(copy)
    assert result.returncode == 1 and f"{bundle.name}: differs from a fresh build" in result.stdout


def test_the_installed_canvas_is_the_committed_one():
    """requirements.txt installs the folder: the app serves the committed files, not the release's."""
    installed = Path(importlib.util.find_spec("mnist_drawable_canvas").origin).parent  # importing needs an app
    committed = COMPONENT / "mnist_drawable_canvas"

    def files(folder: Path) -> dict[str, bytes]:
        return {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }

    assert files(installed) == files(committed)
    assert any(name.endswith(".js") for name in files(committed))
