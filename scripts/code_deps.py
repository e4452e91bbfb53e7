"""Which project modules a rule entry point imports, so that each rule depends on exactly those files.

Snakemake reruns a rule when its ``script:`` changes, but not when a library module that the script imports does;
the rules therefore declare those modules as inputs. The set is the transitive closure of ``scripts.*`` imports
(module level and inside functions), read from the source with ``ast`` — no module is executed.

Each file's imports are remembered on disk by the SHA-256 of its content (``IMPORTS_CACHE``, in Snakemake's own
ignored folder): parsing every module again took a third of a no-op run's time in the Snakefile.
"""
import ast
import hashlib
import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPORTS_CACHE = ROOT / ".snakemake" / "cityres_imports.json"


def _module_file(module: str) -> Path | None:
    """The file of a ``scripts.*`` module (a package's ``__init__.py``), or None for other modules."""
    if module != "scripts" and not module.startswith("scripts."):
        return None
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> frozenset[str]:
    """Dotted names of every module imported anywhere in a file (``from a import b`` may name module a.b)."""
    return _imports_of_version(path, path.stat().st_mtime_ns)


def _statements(nodes: list[ast.AST]) -> Iterator[ast.AST]:
    """Every statement in `nodes` and in the blocks nested in them (function and class bodies, branches, loops,
    try/except, match cases): an import is a statement, so expressions need not be visited (ast.walk would)."""
    for node in nodes:
        yield node
        for block in ("body", "orelse", "finalbody", "handlers", "cases"):
            yield from _statements(getattr(node, block, None) or [])


@cache
def _known_imports() -> dict[str, list[str]]:
    """The disk cache: content SHA-256 → imported names (empty when missing or unreadable). It only grows, by one
    small entry per edited version of a file."""
    try:
        return json.loads(IMPORTS_CACHE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save_known_imports() -> None:
    """Write the cache atomically (a read-only project still works, parsing every time)."""
    try:
        IMPORTS_CACHE.parent.mkdir(parents=True, exist_ok=True)
        partial = IMPORTS_CACHE.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(_known_imports(), sort_keys=True), encoding="utf-8")
        os.replace(partial, IMPORTS_CACHE)
    except OSError:
        pass


def _parsed_imports(text: bytes, path: Path) -> list[str]:
    """Dotted names of every module imported anywhere in a file's source, sorted (``from a import b`` may name
    module a.b; relative imports are not project modules here)."""
    names = set()
    for node in _statements(ast.parse(text, filename=str(path)).body):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return sorted(names)


@cache
def _imports_of_version(path: Path, mtime_ns: int) -> frozenset[str]:
    """_imports of one version of a file (by modification time): each module is read once per process, not once
    per entry point that reaches it (the Snakefile asks for about twenty; tests build hundreds of DAGs), and parsed
    only when the disk cache does not know its content."""
    text = path.read_bytes()
    key, known = hashlib.sha256(text).hexdigest(), _known_imports()
    if key not in known:
        known[key] = _parsed_imports(text, path)
        _save_known_imports()
    return frozenset(known[key])


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
