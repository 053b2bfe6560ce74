"""Build mnist-drawable-canvas: streamlit-drawable-canvas's 0.13.0 release with our changes applied.

The release on PyPI holds only the built bundle (its TypeScript source is not in the package), so
this script edits the released files themselves, each edit a plain text replacement that must match
exactly once:
1. `send_delay_ms` (default 0) replaces the fixed 200 ms wait between the pen lifting and the drawing
   being sent to Streamlit: 0 sends at once; a positive value keeps upstream's trailing debounce.
2. The toolbar takes no pointer or touch events while it is invisible: a touch stroke that starts in
   the canvas's top-right corner, under the hidden toolbar, is drawn instead of lost.
3. A toolbar button reached with the keyboard shows a focus ring.
4. Its own names: the distribution mnist-drawable-canvas, the Streamlit component `canvas`.
5. `live`: live reading while the pen moves. Our module (components/live_reading, bundled here with
   esbuild from its npm dependencies: TensorFlow.js and its WebAssembly backend) is imported by the
   canvas only when `live` is set, and is handed the canvas on every update.
6. A stroke in progress is never cut: a reload of the initial drawing (the app's Clear) or a new pen
   waits for the pen to lift, and a reload keeps the strokes begun after the last click or key outside
   the canvas; and a stroke ends where the pen lifts, even when no move reached that point (STROKE_EDITS).
7. `story`: the drawing is sent with the live readings of its every frame (the stroke's story),
   for the app's "Why the CNN wins" panel; without it, the drawing alone.

`python components/drawable_canvas/build.py` (or `make canvas`) reads the upstream release from the
installed streamlit-drawable-canvas (requirements-dev.txt pins it), bundles the live module (its
node_modules installed by `npm ci`, which `make canvas` and `make test` run), checks every file against the
release's checksums, writes the package beside this script and records checksums before and after
in checksums.json. `--check` builds in memory and exits 1 if the committed files differ.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = HERE / "mnist_drawable_canvas"
BUILD = PACKAGE / "frontend" / "build"
LIVE = HERE.parent / "live_reading"
# The WebAssembly backend's binaries, served beside the module (single-threaded: Streamlit's page is not
# cross-origin isolated, so the threaded one would never load).
WASM_FILES = ("tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm.wasm")
UPSTREAM = "streamlit-drawable-canvas"
UPSTREAM_VERSION = "0.13.0"
# sha256 of each file of the 0.13.0 wheel that we build from (as its RECORD lists them).
UPSTREAM_FILES = {
    "streamlit_drawable_canvas/__init__.py": "4ebc63fd33d83bf06232a5012930297525521cca725931a8ca60ebf77c098be2",
    "streamlit_drawable_canvas/frontend/build/index-ynYgWHmM.js": "40c729b5694331c848834c38423b7fd2f5dcc5685d178c40e2b3ed6fe67a0a35",
    "streamlit_drawable_canvas/frontend/build/index-style.css": "ab2979a4639ac61a54c28c0ba65985ba8e9aaaf235d6601851adf24d5bb22188",
}
MANIFEST = """\
# Read by Streamlit at run time: where the component's built assets are (components v2).
[project]
name = "mnist-drawable-canvas"
version = "0.13.0+mnist.1"

[[tool.streamlit.component.components]]
name = "canvas"
asset_dir = "frontend/build"
"""


@dataclass(frozen=True)
class Edit:
    why: str
    old: str
    new: str


# A stroke in progress is never cut. Upstream applies new arguments at once: a changed initial drawing
# (the app's Clear) reloads the canvas and installs a new brush, and a changed pen does the same. When
# that reply reaches the page while the pen is down (a busy server, a slow network, a person who starts
# drawing right after pressing Clear), the stroke loses every point drawn before it; strokes begun after
# the Clear was pressed are wiped. Now a reload or a new tool waits for the pen to lift, and a reload
# keeps the strokes begun after the person's last action outside the canvas (the click or key that
# asked for it), so nothing drawn after asking is lost.
STROKE_EDITS = (
    Edit(
        "the canvas remembers when the pen went down, the last action outside it, and what waits for pen-up",
        "    lastDrawingMode: null\n  };",
        "    lastDrawingMode: null,\n    penDownAt: 0,\n    lastOutsideAction: 0,\n    afterStroke: null,\n"
        "    retoolAfterStroke: !1,\n    stopWatchingOutside: null\n  };",
    ),
    Edit(
        "pen-down times on strokes, actions outside the canvas noted, and what waited for pen-up run then",
        '  }), l.on("mouse:up", () => {\n    if (h.latest.data?.disabled || h.isTextEditing) return;\n',
        '  }), h.stopWatchingOutside = ((c) => (document.addEventListener("pointerdown", c, !0), '
        'document.addEventListener("keydown", c, !0), () => (document.removeEventListener("pointerdown", c, !0), '
        'document.removeEventListener("keydown", c, !0))))((c) => {\n'
        "    c.composedPath().includes(h.container) || (h.lastOutsideAction = performance.now());\n"
        '  }), l.on("mouse:down", () => {\n    h.penDownAt = performance.now();\n'
        '  }), l.on("before:path:created", (c) => {\n    c.path.drawnAfter = h.penDownAt;\n'
        '  }), l.on("mouse:up", () => {\n    if (h.latest.data?.disabled || h.isTextEditing) return;\n'
        "    h.retoolAfterStroke && (h.retoolAfterStroke = !1, h.latest.data && Yr(h, h.latest.data));\n"
        "    if (h.afterStroke) {\n"
        "      const c = h.afterStroke;\n      h.afterStroke = null, c();\n      return;\n    }\n",
    ),
    Edit(
        "a new tool waits for the pen to lift",
        "Yr = (e, t) => {\n  if (e.activeToolCleanup?.()",
        "Yr = (e, t) => {\n  if (e.canvas._isCurrentlyDrawing) {\n    e.retoolAfterStroke = !0;\n    return;\n  }\n"
        "  if (e.activeToolCleanup?.()",
    ),
    Edit(
        "a reload waits for the pen to lift, and keeps the strokes begun after the last action outside",
        "    const a = ++e.loadGeneration;\n    e.canvas.loadFromJSON(t.initialDrawing).then(() => {\n"
        "      if (a !== e.loadGeneration) return;\n",
        "    const a = ++e.loadGeneration, d = e.lastOutsideAction;\n"
        "    (e.canvas._isCurrentlyDrawing ? new Promise((l) => {\n      e.afterStroke = l;\n    }) : Promise.resolve()).then(() => {\n"
        "      if (a !== e.loadGeneration) return;\n"
        "      const k = n ? [] : e.canvas.getObjects().filter((l) => (l.drawnAfter ?? -1) > d);\n"
        "      return e.canvas.loadFromJSON(t.initialDrawing).then(() => k);\n"
        "    }).then((k) => {\n"
        "      if (k === void 0 || a !== e.loadGeneration) return;\n"
        "      k.forEach((l) => e.canvas.add(l));\n",
    ),
    Edit(
        "a stroke ends where the pen lifts: the release's point is added when no move reached it (a busy page)",
        "  onMouseUp({ e: t }) {\n    return !this.canvas._isMainEvent(t) || (this.drawStraightLine = !1, "
        "this.oldEnd = void 0, this._finalizeAndAddPath(), !1);\n  }",
        "  onMouseUp({ e: t }) {\n    return !this.canvas._isMainEvent(t) || (this.drawStraightLine = !1, "
        "this.oldEnd = void 0, this._points.length && this._addPoint(this.canvas.getScenePoint(t)), "
        "this._finalizeAndAddPath(), !1);\n  }",
    ),
    Edit(
        "the listeners outside the canvas go with it",
        "Hc = (e) => {\n  e.sender.cancel(),",
        "Hc = (e) => {\n  e.stopWatchingOutside?.(), e.sender.cancel(),",
    ),
)

# The sender: a zero delay sends at once; the delay is read from the latest arguments, not fixed at mount.
BUNDLE_EDITS = (
    Edit(
        "the debounce takes its delay from a function, read each time it is armed",
        "      i = null, e(n.value);\n    }, t);",
        '      i = null, e(n.value);\n    }, typeof t == "function" ? t() : t);',
    ),
    Edit(
        "a delay of 0 sends now, with no timer in between",
        "    schedule: (i) => r(i),",
        '    schedule: (i) => (typeof t == "function" ? t() : t) > 0 ? r(i) : (r.cancel(), e(i)),',
    ),
    Edit(
        "the delay is send_delay_ms from Python (upstream's 200 ms when absent)",
        "h.sender = Nh((c) => Ic(h, c), Bc)",
        "h.sender = Nh((c) => Ic(h, c), () => h.latest.data?.sendDelayMs ?? Bc)",
    ),
    *STROKE_EDITS,
)


# The stroke's story: with `story` set, the drawing goes to Streamlit with the live readings of every
# frame since the canvas was last empty (the live module keeps them); without it, as before.
STORY_EDIT = Edit(
    "the drawing carries the live module's stroke story when `story` is set",
    '  e.latest.setStateValue("drawing", {\n    raw: t,\n    data: r\n  });',
    '  e.latest.setStateValue("drawing", {\n    raw: t,\n    data: r,\n'
    "    ...e.latest.data?.story && e.liveStory ? { story: e.liveStory() } : {}\n  });",
)


def live_edit(module: str) -> Edit:
    """The canvas hands itself to the live module on every update, once `live` has been asked for."""
    return Edit(
        "live reading: the live module is loaded when `live` is set, and told of every update",
        "Vc(o, t, i), () => {",
        f'Vc(o, t, i), (t.live || o.liveReader) && import("./{module}").then((m) => {{\n'
        "    o.liveReader = !0, m.attach(o, t);\n"
        '  }).catch((l) => console.warn("Live reading is off:", l)), () => {',
    )


STYLE_EDITS = (
    Edit(
        "the hidden toolbar lets pointer and touch events through to the canvas",
        ".dc-toolbar{opacity:0;",
        ".dc-toolbar{pointer-events:none;opacity:0;",
    ),
    Edit(
        "the toolbar shown on hover or focus takes events again",
        ".dc-toolbar:focus-within{opacity:1;",
        ".dc-toolbar:focus-within{pointer-events:auto;opacity:1;",
    ),
    Edit(
        "so does the pinned toolbar",
        ".dc-toolbar[data-pinned=true]{opacity:1;",
        ".dc-toolbar[data-pinned=true]{pointer-events:auto;opacity:1;",
    ),
    Edit(
        "a toolbar button reached with the keyboard shows a clear focus ring (a faint tint before)",
        ".dc-icon-button:focus{box-shadow:none;outline:none}",
        ".dc-icon-button:focus{box-shadow:none;outline:none}"
        ".dc-icon-button:focus-visible{outline:2px solid var(--st-primary-color,#c8102e);outline-offset:1px}",
    ),
)
PYTHON_EDITS = (
    Edit(
        "say what this file is",
        "from __future__ import annotations\n",
        '"""mnist-drawable-canvas: streamlit-drawable-canvas 0.13.0 (MIT, LICENSE) with `send_delay_ms` and `live`.\n\n'
        "Built by components/drawable_canvas/build.py from the released package; edit that script, not this file.\n"
        '"""\n\nfrom __future__ import annotations\n',
    ),
    Edit(
        "its own version",
        '__version__ = importlib.metadata.version("streamlit-drawable-canvas")',
        '__version__ = importlib.metadata.version("mnist-drawable-canvas")',
    ),
    Edit(
        "its own component name",
        '    "streamlit-drawable-canvas.streamlit_drawable_canvas",',
        '    "mnist-drawable-canvas.canvas",',
    ),
    Edit(
        "the new argument",
        '    label: str = "",\n) -> CanvasResult:',
        '    label: str = "",\n    send_delay_ms: int = 0,\n    live: str | None = None,\n    story: bool = False,\n'
        ") -> CanvasResult:",
    ),
    Edit(
        "the result keeps the story",
        '        "_return_image_data",\n        "json_data",\n    )',
        '        "_return_image_data",\n        "json_data",\n        "story",\n    )',
    ),
    Edit(
        "the result is given the story",
        "        background_fit: dict[str, float] | None = None,\n    ) -> None:\n        self.json_data = json_data\n",
        "        background_fit: dict[str, float] | None = None,\n        story: dict[str, Any] | None = None,\n"
        "    ) -> None:\n        self.json_data = json_data\n        self.story = story\n",
    ),
    Edit(
        "the story, documented",
        '        offset_y}`. `None` when there is no background image.\n    """',
        "        offset_y}`. `None` when there is no background image.\n"
        "    story: dict | None\n"
        '        With `story=True` and live reading on: `{"frames": [{"t": ms since\n'
        '        the pen first touched, "stroke": 1, 2, ..., "p": {model: ten\n'
        "        probabilities}}, ...]}`, every live reading while the pen was down\n"
        "        since the canvas was last empty. `None` otherwise.\n"
        '    """',
    ),
    Edit(
        "the story comes back with the drawing",
        "        background_fit=background_fit,\n    )",
        '        background_fit=background_fit,\n        story=drawing.get("story"),\n    )',
    ),
    Edit(
        "its documentation",
        "\n    Returns\n    -------\n    result: CanvasResult",
        "\n    send_delay_ms: int\n"
        "        Milliseconds between the pen lifting and the drawing being sent to\n"
        "        Streamlit; a later change within that time restarts the wait.\n"
        "        Defaults to 0: sent at once. (streamlit-drawable-canvas waits 200.)\n"
        "    live: str | None\n"
        "        The URL of a live-reading manifest (mnist_app.training.browser_weights):\n"
        "        the networks it names read the drawing in the browser while the pen\n"
        "        moves, shown in a strip under the canvas. None (default): off.\n"
        "    story: bool\n"
        "        Send the live readings of the drawing's every frame with it\n"
        "        (`CanvasResult.story`). False (default): the drawing alone.\n"
        "\n    Returns\n    -------\n    result: CanvasResult",
    ),
    Edit(
        "a clear error for a negative delay",
        "    background_image_url = _resolve_background_image_url(background_image)\n",
        "    if send_delay_ms < 0:\n"
        '        raise ValueError(f"send_delay_ms must be 0 or more, got {send_delay_ms!r}")\n\n'
        "    background_image_url = _resolve_background_image_url(background_image)\n",
    ),
    Edit(
        "passed to the browser",
        '        "label": label,\n    }',
        '        "label": label,\n        "sendDelayMs": send_delay_ms,\n        "live": {"manifest": live} if live else None,\n'
        '        "story": story,\n    }',
    ),
)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def apply(text: str, edits: tuple[Edit, ...], name: str) -> str:
    """Every edit applied, each of which must match exactly once."""
    for edit in edits:
        found = text.count(edit.old)
        if found != 1:
            raise SystemExit(f"{name}: the edit '{edit.why}' matches {found} times, not once; is this 0.13.0?")
        text = text.replace(edit.old, edit.new)
    return text


def upstream_files() -> dict[str, bytes]:
    """The released files, read from the installed distribution and checked against the release."""
    try:
        distribution = importlib.metadata.distribution(UPSTREAM)
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit(
            f"{UPSTREAM}=={UPSTREAM_VERSION} is not installed: pip install -r requirements-dev.txt"
        ) from None
    if distribution.version != UPSTREAM_VERSION:
        raise SystemExit(f"{UPSTREAM} {distribution.version} is installed; this build starts from {UPSTREAM_VERSION}")
    contents = {}
    for name, expected in UPSTREAM_FILES.items():
        content = Path(distribution.locate_file(name)).read_bytes()
        if sha256(content) != expected:
            raise SystemExit(f"{name} differs from the {UPSTREAM_VERSION} release (sha256 {sha256(content)})")
        contents[name] = content
    return contents


def live_files() -> dict[str, bytes]:
    """The live module bundled by esbuild (live-<sha>.js) and the WebAssembly binaries it loads."""
    modules = LIVE / "node_modules"
    if not (modules / ".bin" / "esbuild").exists():
        raise SystemExit(f"{modules} is missing: run `npm ci --prefix {LIVE}` (make canvas does)")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "live.js"
        subprocess.run(
            [
                str(modules / ".bin" / "esbuild"),
                "src/live.js",
                "--bundle",
                "--format=esm",
                "--minify",
                "--target=es2020",
                "--legal-comments=eof",
                "--log-level=warning",
                f"--outfile={out}",
            ],
            cwd=LIVE,
            check=True,
        )
        module = out.read_bytes()
    files = {f"live-{sha256(module)[:8]}.js": module}
    for name in WASM_FILES:
        files[name] = (modules / "@tensorflow" / "tfjs-backend-wasm" / "dist" / name).read_bytes()
    return files


def build() -> dict[str, bytes]:
    """The package's files by path relative to this folder, built from the upstream release."""
    source = upstream_files()
    live = live_files()
    live_module = next(name for name in live if name.startswith("live-"))
    bundle = apply(
        source["streamlit_drawable_canvas/frontend/build/index-ynYgWHmM.js"].decode(),
        (*BUNDLE_EDITS, STORY_EDIT, live_edit(live_module)),
        "bundle",
    )
    style = apply(source["streamlit_drawable_canvas/frontend/build/index-style.css"].decode(), STYLE_EDITS, "style")
    wrapper = apply(source["streamlit_drawable_canvas/__init__.py"].decode(), PYTHON_EDITS, "__init__.py")
    bundle_name = f"index-{sha256(bundle.encode())[:8]}.js"  # a new name for new content: no stale browser cache
    return {
        "mnist_drawable_canvas/__init__.py": wrapper.encode(),
        "mnist_drawable_canvas/pyproject.toml": MANIFEST.encode(),
        f"mnist_drawable_canvas/frontend/build/{bundle_name}": bundle.encode(),
        "mnist_drawable_canvas/frontend/build/index-style.css": style.encode(),
        **{f"mnist_drawable_canvas/frontend/build/{name}": content for name, content in live.items()},
    }


def checksums(built: dict[str, bytes]) -> str:
    record = {
        "upstream": f"{UPSTREAM}=={UPSTREAM_VERSION}",
        "before": UPSTREAM_FILES,
        "after": {name: sha256(content) for name, content in sorted(built.items())},
    }
    return json.dumps(record, indent=1) + "\n"


def committed() -> dict[str, bytes]:
    return {
        str(path.relative_to(HERE)): path.read_bytes()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def differences() -> list[str]:
    """What differs between a fresh build and the committed package ([] when they are the same)."""
    built = build()
    on_disk = committed()
    problems = [f"{name}: differs from a fresh build" for name in built if on_disk.get(name) != built[name]]
    problems += [f"{name}: not produced by the build" for name in on_disk if name not in built]
    if (HERE / "checksums.json").read_text() != checksums(built):
        problems.append("checksums.json: differs from a fresh build")
    return problems


def write() -> None:
    built = build()
    for old in [*BUILD.glob("index-*.js"), *BUILD.glob("live-*.js")]:
        old.unlink()
    for name, content in built.items():
        path = HERE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (HERE / "checksums.json").write_text(checksums(built))
    print(f"built {len(built)} files from {UPSTREAM} {UPSTREAM_VERSION} into {PACKAGE}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare a fresh build with the committed files")
    args = parser.parse_args(argv)
    if args.check:
        problems = differences()
        print("\n".join(problems) or "the committed package equals a fresh build")
        return 1 if problems else 0
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
