"""The layout by job, checked from the source: no import cycle, data flowing one way, an image that imports."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_app.config import ROOT
from tools.import_rules import ASSEMBLY_RULES, broken_rules, import_cycles, module_imports

DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def test_no_import_cycle_and_no_import_across_the_layout():
    graph = module_imports(ROOT)
    assert "mnist_app.serving.reader" in graph and "tools.bench.app_bench" in graph, "the tree was not read"
    assert import_cycles(graph) == []
    assert broken_rules(graph) == []
    assert broken_rules(module_imports(ROOT, resolve=False), ASSEMBLY_RULES) == []


def test_a_planted_cycle_and_a_planted_crossing_are_refused(tmp_path):
    """The same checks on a copy of the app with two faults planted inside functions, where they hide best."""
    shutil.copytree(ROOT / "mnist_app", tmp_path / "mnist_app", ignore=shutil.ignore_patterns("__pycache__"))
    model_files = tmp_path / "mnist_app" / "serving" / "model_files.py"
    model_files.write_text(
        model_files.read_text() + "\n\ndef _planted():\n    from mnist_app.serving import registry\n"
    )
    ink = tmp_path / "mnist_app" / "reading" / "ink.py"
    ink.write_text(ink.read_text() + "\n\ndef _planted():\n    import keras.ops\n")
    graph = module_imports(tmp_path)
    cycles = import_cycles(graph)
    assert len(cycles) == 1 and {"mnist_app.serving.model_files", "mnist_app.serving.registry"} <= set(cycles[0])
    assert broken_rules(graph) == ["mnist_app.reading.ink imports keras.ops: reading is NumPy and Pillow only"]


def test_a_reader_assembled_by_hand_is_refused(tmp_path):
    """The UI, the CLI and the tools read through `load_reader`: loading a model or the digit check
    themselves, even inside a function, is refused."""
    shutil.copytree(ROOT / "mnist_app", tmp_path / "mnist_app", ignore=shutil.ignore_patterns("__pycache__"))
    view = tmp_path / "mnist_app" / "ui" / "digit_view.py"
    view.write_text(
        view.read_text() + "\n\ndef _planted():\n    from mnist_app.serving.registry import load_predictors\n"
        "    from mnist_app.serving.digit_check import DIGIT_TWINS, load\n"
    )
    broken = broken_rules(module_imports(tmp_path, resolve=False), ASSEMBLY_RULES)
    assert [line.split(":")[0] for line in broken] == [
        "mnist_app.ui.digit_view imports mnist_app.serving.digit_check.load",
        "mnist_app.ui.digit_view imports mnist_app.serving.registry",
        "mnist_app.ui.digit_view imports mnist_app.serving.registry.load_predictors",
    ]


def is_test_file(module: str) -> bool:
    return module.startswith("tests.") and module.rsplit(".", 1)[-1].startswith("test_")


def test_test_files_share_helpers_instead_of_importing_each_other():
    graph = module_imports(ROOT)
    crossings = [
        f"{module} imports {target}"
        for module, targets in graph.items()
        if is_test_file(module)
        for target in targets
        if is_test_file(target)
    ]
    assert crossings == []


def image_files() -> list[Path]:
    """The files `docker build` sends (.dockerignore applied) and the Dockerfile copies."""
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    ignored = [pattern for pattern in ignored if pattern and not pattern.startswith("#")]
    copied = [
        name for source in re.findall(r"^COPY (.+) \S+$", DOCKERFILE.read_text(), re.M) for name in source.split()
    ]
    files = []
    for name in copied:
        path = ROOT / name
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            relative = file.relative_to(ROOT).as_posix()
            if not any(_ignored(relative, pattern) for pattern in ignored):
                files.append(file)
    return files


def _ignored(relative: str, pattern: str) -> bool:
    """Docker's rule, as far as we use it: a pattern matches the path or one of its parent folders."""
    parts = relative.split("/")
    return any(fnmatch.fnmatch("/".join(parts[:end]), pattern) for end in range(1, len(parts) + 1)) or (
        pattern.startswith("**/") and any(fnmatch.fnmatch(part, pattern[3:]) for part in parts)
    )


def test_the_image_ships_the_app_and_leaves_out_training_tooling_and_tests():
    shipped = {file.relative_to(ROOT).as_posix() for file in image_files()}
    assert {"app.py", "requirements.txt", "mnist_app/serving/reader.py", "models/cnn.keras"} <= shipped
    assert ".streamlit/config.toml" in shipped
    assert "components/drawable_canvas/mnist_drawable_canvas/pyproject.toml" in shipped  # pip installs the canvas
    assert "components/drawable_canvas/build.py" not in shipped
    assert not [name for name in shipped if name.startswith(("mnist_app/training/", "tools/", "tests/", "deploy/"))]
    assert not [name for name in shipped if "__pycache__" in name]


# Imports each module with every installed distribution blocked that requirements.txt does not bring in.
IMPORT_WITH_APP_REQUIREMENTS = r"""
import importlib, importlib.metadata as md, re, sys

def names(lines):
    for line in lines:
        if line.strip().startswith("./"):  # a local package: its name is in its pyproject.toml
            import tomllib
            with open(line.strip() + "/pyproject.toml", "rb") as file:
                yield tomllib.load(file)["project"]["name"], set()
            continue
        match = re.match(r"\s*([A-Za-z0-9._-]+)(\[([^\]]*)\])?", line.split("#")[0])
        if match and not line.strip().startswith("-"):
            yield match.group(1), {e.strip() for e in (match.group(3) or "").split(",") if e.strip()}

def closure(requirements):
    norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
    seen, todo = set(), list(requirements)
    while todo:
        name, extras = todo.pop()
        if norm(name) in seen:
            continue
        seen.add(norm(name))
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:  # an optional dependency that is not installed: nothing to allow
            continue
        for line in requires:
            extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)", line)
            if extra and extra.group(1) not in extras:
                continue
            todo += list(names([line.split(";")[0]]))
    return seen

allowed = closure(list(names(open(sys.argv[1]).read().splitlines())) + list(names(open(sys.argv[2]).read().splitlines())))
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
blocked = {module for module, dists in md.packages_distributions().items() if not any(norm(d) in allowed for d in dists)}

class Blocker:
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in blocked:
            raise ImportError(f"{fullname} is not installed by requirements.txt")

sys.meta_path.insert(0, Blocker())
failed = []
for module in sys.argv[3:]:
    try:
        importlib.import_module(module)
    except Exception as error:
        failed.append(f"{module}: {type(error).__name__}: {error}")
print("\n".join(failed))
sys.exit(1 if failed else 0)
"""


@pytest.mark.slow
def test_every_module_in_the_image_imports_with_requirements_txt_alone():
    modules = [
        ".".join(file.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for file in image_files()
        if file.suffix == ".py" and file.name != "app.py" and file.relative_to(ROOT).parts[0] != "components"
    ]  # the canvas under components/ is installed by requirements.txt as a package, not imported from here
    assert "mnist_app.ui.draw_tab" in modules and "mnist_app.serving.registry" in modules
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_WITH_APP_REQUIREMENTS, "requirements.txt", "requirements-data.txt", *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def test_the_blocker_refuses_a_development_only_package():
    """The check above can fail: KerasTuner (requirements-dev.txt only) does not import under it."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            IMPORT_WITH_APP_REQUIREMENTS,
            "requirements.txt",
            "requirements-data.txt",
            "keras_tuner",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1 and "keras_tuner" in result.stdout
