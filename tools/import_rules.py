"""The layout's rules, read from the source: every import, including those inside functions.

1. `module_imports`: each module of a tree and the modules it imports (by `ast`, never by running it);
2. `import_cycles`: groups of our modules that import each other in a circle (Tarjan's components);
3. `broken_rules`: imports that cross the layout's lines (RULES): data flows reading -> serving ->
   ui and the CLI; training sits beside serving; tooling, tests and deployment stay outside the app;
4. the same on the names imported (`module_imports(resolve=False)`, ASSEMBLY_RULES): the UI, the CLI
   and the tools read through one `serving.reader.Reader` (`load_reader`), never loading the models,
   the digit check, the string reader or the probes themselves.
`python -m tools.import_rules` prints what it finds (exit 1 if anything).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("mnist_app", "tools", "tests", "deploy")  # top-level packages whose modules are nodes of the graph
ENTRY_POINTS = ("app", "train")  # app.py and train.py


@dataclass(frozen=True)
class Rule:
    """Modules under `where` (a dotted prefix) must not import modules under any of `forbidden`."""

    where: tuple[str, ...]
    forbidden: tuple[str, ...]
    why: str


RULES = (
    Rule(("mnist_app",), ("tools", "tests", "deploy"), "the app never imports its tooling, tests or deployment"),
    Rule(
        (
            "mnist_app.reading",
            "mnist_app.serving",
            "mnist_app.ui",
            "mnist_app.predict",
            "mnist_app.dataset",
            "mnist_app.drawings",
            "mnist_app.config",
            "mnist_app.atomic_files",
            "app",
        ),
        ("mnist_app.training",),
        "serving and everything that serves never uses training code (the image leaves it out)",
    ),
    Rule(("mnist_app.reading",), ("mnist_app.serving", "mnist_app.ui"), "reading comes first: data flows one way"),
    Rule(("mnist_app.serving",), ("mnist_app.ui",), "serving never reaches up into the UI"),
    Rule(
        ("mnist_app", "app"),
        ("streamlit_drawable_canvas",),
        "the app draws on our build of the canvas (mnist_drawable_canvas); the release is only its source",
    ),
    Rule(("mnist_app.reading",), ("tensorflow", "keras", "ydf"), "reading is NumPy and Pillow only"),
    Rule(
        (
            "mnist_app.reading",
            "mnist_app.serving",
            "mnist_app.training",
            "mnist_app.dataset",
            "mnist_app.drawings",
            "mnist_app.predict",
            "mnist_app.config",
            "mnist_app.atomic_files",
        ),
        ("streamlit", "mnist_drawable_canvas"),
        "every Streamlit call lives in ui/",
    ),
)


# Loading the parts of the reader, by the names imported: `serving.reader.load_reader` is their one home.
ASSEMBLY_RULES = (
    Rule(
        ("mnist_app.ui", "mnist_app.predict", "tools"),
        (
            "mnist_app.serving.registry",
            "mnist_app.serving.string_reader",
            "mnist_app.serving.digit_check.load",
            "mnist_app.serving.explain.CnnProbe",
            "mnist_app.serving.explain.AnnProbe",
        ),
        "the UI, the CLI and the tools read through one Reader (serving.reader.load_reader), never assembling one",
    ),
)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path) -> list[Path]:
    files = [root / f"{name}.py" for name in ENTRY_POINTS if (root / f"{name}.py").is_file()]
    for package in OURS:
        files += sorted(p for p in (root / package).rglob("*.py") if "__pycache__" not in p.parts)
    return files


def module_imports(root: Path = ROOT, resolve: bool = True) -> dict[str, set[str]]:
    """Each module of the tree -> the dotted names it imports anywhere in its body (resolved to modules of
    ours where they are ours: `from mnist_app.serving import reader` is the module mnist_app.serving.reader;
    with `resolve=False`, the names as imported: mnist_app.serving.reader.load_reader)."""
    files = source_files(root)
    modules = {module_name(path, root): path for path in files}
    graph = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        graph[name] = {
            _resolve(target, modules) if resolve else target
            for target in _imported_names(ast.parse(path.read_text(), str(path)), name, is_package)
        }
    return graph


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    names = []
    for node in ast.walk(tree):  # every level: imports hidden inside functions count too
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            names += [f"{base}.{alias.name}" for alias in node.names] + [base]
    return names


def _resolve(target: str, modules: dict[str, Path]) -> str:
    """The longest prefix of `target` that is a module of ours, else `target` itself."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return target


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other in a circle (strongly connected, more than one module,
    or one that imports itself), each sorted, our modules only."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in graph:
                continue  # a third-party or standard-library module
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                cycles.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def broken_rules(graph: dict[str, set[str]], rules: tuple[Rule, ...] = RULES) -> list[str]:
    """One line per import that breaks a rule: who imports what, and the rule's reason."""
    broken = []
    for module, targets in sorted(graph.items()):
        for rule in rules:
            if not _under(module, rule.where):
                continue
            for target in sorted(targets):
                if _under(target, rule.forbidden):
                    broken.append(f"{module} imports {target}: {rule.why}")
    return broken


def main() -> int:
    graph = module_imports()
    problems = [f"import cycle: {' <-> '.join(group)}" for group in import_cycles(graph)] + broken_rules(graph)
    problems += broken_rules(module_imports(resolve=False), ASSEMBLY_RULES)
    print("\n".join(problems) or f"{len(graph)} modules: no import cycle, no broken rule")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
