"""The package's own source files a piece of code depends on, found by following its imports.

A leaf: the executed-notebook cache key (build/notebooks) and the provenance of a run (store/provenance)
both hash these closures, so a change re-executes (or re-attributes) exactly what it can affect.
Imports are followed at module granularity, lazy ones (inside functions) included.
"""
from __future__ import annotations

import ast
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
NAME = PACKAGE.name  # "supercollapse"


def module_file(module: str) -> Path | None:
    """The file of a dotted `supercollapse...` module name (a package's __init__.py), or None."""
    parts = module.split(".")
    if parts[0] != NAME:
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for f in (base.with_suffix(".py"), base / "__init__.py"):
        if f.is_file():
            return f
    return None


def imports(source: str, module: str | None = None, is_package: bool = False) -> set[str]:
    """Dotted names of `supercollapse` modules that `source` imports; `module` resolves relative imports."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == NAME}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if module is None:
                    continue
                pkg = module.split(".") if is_package else module.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != NAME:
                continue
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names if module_file(f"{base}.{a.name}")}
    return {m for m in out if module_file(m)}


def _parents(module: str) -> list[str]:
    """A module's enclosing packages: importing a.b.c runs a/__init__ and a/b/__init__ first."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def closure(modules) -> list[Path]:
    """Every package file that importing `modules` can execute, in a stable order."""
    todo, seen = set(modules), set()
    while todo:
        mod = todo.pop()
        if mod in seen or module_file(mod) is None:
            continue
        seen.add(mod)
        f = module_file(mod)
        todo |= set(_parents(mod)) | imports(f.read_text(), mod, f.name == "__init__.py")
    return sorted({module_file(m) for m in seen})


def code_closure(source: str) -> list[Path]:
    """The package files a piece of code (a chapter's cells) depends on."""
    return closure(imports(source) | {NAME})


def digest(files) -> str:
    """SHA-256 (16 hex digits) of files' package-relative names and contents."""
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.resolve().relative_to(PACKAGE)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]
