"""Which project modules a rule entry point imports, so that each rule depends on exactly those files.

Snakemake reruns a rule when its ``script:`` changes, but not when a library module that the script imports does;
the rules therefore declare those modules as inputs. The set is the transitive closure of ``scripts.*`` imports
(module level and inside functions), read from the source with ``ast`` — no module is executed.
"""
import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _module_file(module: str) -> Path | None:
    """The file of a ``scripts.*`` module (a package's ``__init__.py``), or None for other modules."""
    if module != "scripts" and not module.startswith("scripts."):
        return None
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    """Dotted names of every module imported anywhere in a file (``from a import b`` may name module a.b)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@cache
def imported_files(entry: str) -> tuple[str, ...]:
    """Project files (relative to the project root, sorted) that ``entry`` imports directly or indirectly, with
    the package ``__init__.py`` files on the way; the entry itself is not included."""
    start = ROOT / entry
    seen: set[Path] = set()
    todo = [start]
    while todo:
        path = todo.pop()
        for module in _imports(path):
            parts = module.split(".")
            for depth in range(1, len(parts) + 1):   # a package's __init__ runs before its modules
                found = _module_file(".".join(parts[:depth]))
                if found and found not in seen and found != start:
                    seen.add(found)
                    todo.append(found)
    return tuple(sorted(str(p.relative_to(ROOT)) for p in seen))
