"""Chapters as papermill-parameterized notebooks: discovery, parameter validation, cached execution.

The executed-notebook cache is keyed by the chapter's source, its parameters, the source of every library
module the chapter imports (transitively) and the curated runs, so a change in `lib/` re-executes
exactly the chapters that use the changed module. Jupyter Book's own cache only looks at code cells.
"""
from __future__ import annotations

import ast
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from .. import paths, sources

_BAR = re.compile(r"\d+%\||\x1b\[A|TqdmWarning|\d+it \[")  # tqdm progress bars and their warnings
_CHOICES = re.compile(r"^\s*([\w.-]+(?:\s*\|\s*[\w.-]+)+)")
_RANGE = re.compile(r"range ([\[(])\s*([-\w.+]+)\s*,\s*([-\w.+]+)\s*([\])])")  # in help: "range (0, inf)"
_SUFFIXES = re.compile(r"\((\.\w+(?:,\s*\.\w+)*)\)")  # in a path's help: "(.csv, .parquet)", the file types taken


class ParameterError(ValueError):
    """A parameter name or value a chapter does not accept."""


class ChapterError(RuntimeError):
    """A chapter failed while executing."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: type
    default: object
    help: str
    choices: tuple = ()

    def parse(self, chapter: str, text) -> object:
        """Convert a command-line string (or a Python value) to this parameter's type, or raise ParameterError."""
        def fail(valid):
            raise ParameterError(f"invalid value {text!r} for parameter {self.name!r} of chapter {chapter}; "
                                 f"valid: {valid}")

        if not isinstance(text, str):
            value = text
            if self.type is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is not self.type:
                fail(f"a {self.type.__name__}")
        elif self.type is bool:
            low = text.lower()
            if low not in ("true", "false", "1", "0", "yes", "no"):
                fail("true or false")
            value = low in ("true", "1", "yes")
        elif self.type in (int, float):
            try:
                value = self.type(text)
            except ValueError:
                fail(f"a number ({self.type.__name__})")
        else:
            value = text
        if self.choices and value not in self.choices:
            fail(", ".join(map(str, self.choices)))
        if self.type in (int, float) and not math.isfinite(value):
            fail("a finite number")
        if self.type in (int, float) and (m := _RANGE.search(self.help)):
            lo, hi = float(m.group(2)), float(m.group(3))
            below = value < lo or (m.group(1) == "(" and value == lo)
            above = value > hi or (m.group(4) == ")" and value == hi)
            if below or above:
                fail(f"a number in {m.group(1)}{m.group(2)}, {m.group(3)}{m.group(4)}")
        if self.is_path and value:
            # A file the user names is theirs: resolved against the directory the command runs in (never the
            # repository or the kernel's), and checked before anything executes.
            path = Path(value).expanduser().resolve()
            if not path.is_file():
                fail(f"an existing file ({path} is {'a directory' if path.is_dir() else 'missing'}), or '' for none")
            if (m := _SUFFIXES.search(self.help)) and path.suffix.lower() not in re.split(r",\s*", m.group(1)):
                fail(f"a file of type {m.group(1)} ({path.name} is {path.suffix or 'without a suffix'}), or '' for none")
            value = str(path)
        return value

    @property
    def is_path(self) -> bool:
        """A string parameter whose help starts with 'path': it names a file."""
        return self.type is str and self.help.startswith("path")


@dataclass(frozen=True)
class Chapter:
    """A page: a MyST notebook, or a variant of one (`VARIANTS`) executed with `fixed` parameters as its defaults."""

    name: str  # the page's name: the file's stem, e.g. "01_first_ladder", or a variant's
    path: Path
    fixed: tuple = ()  # (name, value) pairs a variant sets
    title: str | None = None  # a variant's own title, in place of the source's first heading

    @property
    def parameters(self) -> dict[str, Parameter]:
        declared = parse_parameters(self.path)
        for name, value in self.fixed:
            declared[name] = replace(declared[name], default=value)
        return declared

    def validate(self, overrides: dict) -> dict:
        """Parsed, type-checked overrides (after a variant's fixed parameters); an unknown name or a bad value
        raises ParameterError."""
        params = self.parameters
        out = {name: params[name].parse(self.name, value) for name, value in self.fixed}
        for name, text in overrides.items():
            if name not in params:
                valid = ", ".join(f"{p.name} ({p.type.__name__})" for p in params.values()) or "none"
                raise ParameterError(f"unknown parameter {name!r} for chapter {self.name}; valid: {valid}")
            out[name] = params[name].parse(self.name, text)
        return out


def _toc_files() -> list[str]:
    """Files named in `_toc.yml`, in reading order."""
    import yaml

    toc = yaml.safe_load((paths.ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                files.append(e["file"])
            walk(e.get("sections"))
            for part in e.get("parts", []) if isinstance(e, dict) else []:
                walk(part.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def _code_cells(path: Path) -> list[tuple[list[str], str]]:
    """(tags, source) of each `{code-cell}` in a MyST notebook."""
    import jupytext

    nb = jupytext.read(path, fmt="md:myst")
    return [(c.metadata.get("tags", []), c.source) for c in nb.cells if c.cell_type == "code"]


def _variants() -> dict[str, Chapter]:
    """The pages of `book/variants.yml`: another chapter's source executed with fixed parameters."""
    import yaml

    f = paths.BOOK / "variants.yml"
    spec = yaml.safe_load(f.read_text()) if f.is_file() else {}
    out = {}
    for name, v in (spec or {}).items():
        ch = Chapter(name, paths.BOOK / f"{v['source']}.md", tuple(sorted(v.get("parameters", {}).items())),
                     v.get("title"))
        unknown = sorted({k for k, _ in ch.fixed} - set(parse_parameters(ch.path)))
        if unknown:
            raise ParameterError(f"{f}: variant {name} sets {', '.join(unknown)}, which {v['source']} does not take")
        out[name] = ch
    return out


def chapters() -> list[Chapter]:
    """Executable chapters (MyST notebooks with code cells, and their variants) in table-of-contents order."""
    out, variants = [], _variants()
    for f in _toc_files():
        path = paths.ROOT / (f if f.endswith(".md") else f + ".md")
        if path.stem in variants:
            out.append(variants[path.stem])
        elif path.is_file() and _code_cells(path):
            out.append(Chapter(path.stem, path))
    return out


def get_chapter(name: str) -> Chapter:
    """A chapter by file stem, or by the stem without its number prefix (`first_ladder`)."""
    found = chapters()
    for ch in found:
        if name in (ch.name, ch.name.split("_", 1)[-1], str(ch.path), ch.path.name):
            return ch
    raise ParameterError(f"unknown chapter {name!r}; valid: {', '.join(c.name for c in found)}")


def site_parameters(scale: str, pairs=()) -> dict[str, dict]:
    """Validated parameters of every chapter for a site build: `scale` wherever a chapter takes it, then each
    (NAME, VALUE) of `pairs`. NAME is `CHAPTER:PARAM` for one chapter (`collapse:published_logs`), or `PARAM` for
    every chapter that takes it. Raises ParameterError, before anything runs, on a name no chapter takes."""
    found = chapters()
    raw = {ch.name: ({"scale": scale} if "scale" in ch.parameters else {}) for ch in found}
    for name, value in pairs:
        where, _, param = name.rpartition(":")
        if where:
            raw[get_chapter(where).name][param] = value
            continue
        takers = [ch.name for ch in found if param in ch.parameters]
        if not takers:
            raise ParameterError(f"no chapter takes parameter {param!r}; see `supercollapse list`")
        for taker in takers:
            raw[taker][param] = value
    return {ch.name: ch.validate(raw[ch.name]) for ch in found}


def parse_parameters(path: Path) -> dict[str, Parameter]:
    """The `parameters` cell's assignments: `name = literal  # help`; `a | b | c: ...` in help lists choices."""
    cells = [src for tags, src in _code_cells(path) if "parameters" in tags]
    if not cells:
        return {}
    src = cells[0]
    lines = src.splitlines()
    out = {}
    for node in ast.parse(src).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        default = ast.literal_eval(node.value)
        line = lines[node.lineno - 1]
        help_ = line.split("#", 1)[1].strip() if "#" in line else ""
        m = _CHOICES.match(help_)
        choices = tuple(c.strip() for c in m.group(1).split("|")) if m and isinstance(default, str) else ()
        out[name] = Parameter(name, type(default), default, help_, choices)
    return out


def library_closure(source: str) -> list[Path]:
    """Library files a piece of code depends on: its `supercollapse` imports, followed transitively per module."""
    return sources.code_closure(source)


def cache_key(chapter: Chapter, params: dict) -> str:
    """Hash of everything an executed chapter depends on; a parameter given at its default counts as not given."""
    defaults = {name: p.default for name, p in chapter.parameters.items()}
    params = {k: v for k, v in params.items() if k not in defaults or v != defaults[k]}
    h = hashlib.sha256()
    h.update(chapter.path.read_bytes())
    h.update(json.dumps(params, sort_keys=True).encode())
    if chapter.fixed or chapter.title:  # a variant: its own parameters and title (the base chapter's key unchanged)
        h.update(json.dumps([chapter.fixed, chapter.title]).encode())
    code = "\n".join(src for _, src in _code_cells(chapter.path))
    h.update(sources.digest(library_closure(code)).encode())
    # The curated runs' bytes, not only their names: an edited or damaged entry re-executes the chapters, which
    # then report it (every read verifies) instead of showing a page made before the damage.
    curated = paths.CURATED_RUNS
    for f in sorted(curated.rglob("*")) if curated.is_dir() else []:
        if f.is_file():
            h.update(str(f.relative_to(curated)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def executed_dir() -> Path:
    return paths.cache_dir() / "executed"


def executed_path(chapter: Chapter, params: dict) -> Path:
    return executed_dir() / f"{chapter.name}-{cache_key(chapter, params)}.ipynb"


def _unreadable(path: Path) -> str | None:
    """Why an executed notebook cannot be read (truncated, not JSON, no cells), or None."""
    try:
        if not isinstance(json.loads(path.read_text())["cells"], list):
            return "its cells are not a list"
    except (OSError, ValueError, KeyError, TypeError) as e:
        return f"unreadable notebook ({type(e).__name__}: {e})"
    return None


def executed_problems() -> list[tuple[Path, str]]:
    """Executed notebooks that cannot be read, and executions a kill interrupted: (path, why)."""
    out = []
    for p in sorted(executed_dir().iterdir()) if executed_dir().is_dir() else []:
        if paths.is_stale_temp(p):
            out.append((p, "an interrupted execution (safe to delete)"))
        elif p.suffix == ".ipynb" and (why := _unreadable(p)):
            out.append((p, f"{why}; it is executed again when needed"))
    return out


def execute(chapter: Chapter, params: dict, *, force: bool = False, progress: bool = True) -> tuple[Path, bool]:
    """Execute `chapter` with validated `params` through papermill; returns (notebook, executed_now).

    The result is written under a temporary name and renamed, so a failed or killed run leaves no entry; the
    temporary folders of killed runs are removed here, and a cached result that cannot be read is executed again.
    """
    import jupytext
    import papermill as pm
    from nbclient.exceptions import DeadKernelError

    out = executed_path(chapter, params)
    if out.is_file() and not force and _unreadable(out) is None:
        return out, False
    out.parent.mkdir(parents=True, exist_ok=True)
    for p in out.parent.iterdir():  # what killed executions left behind
        if paths.is_stale_temp(p):
            shutil.rmtree(p, ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=paths.temp_prefix()) as tmp:
        src, dst = Path(tmp) / "in.ipynb", Path(tmp) / "out.ipynb"
        jupytext.write(jupytext.read(chapter.path, fmt="md:myst"), src, fmt="ipynb")
        env_before = os.environ.get("SUPERCOLLAPSE_PROGRESS")
        os.environ["SUPERCOLLAPSE_PROGRESS"] = "1" if progress else "0"
        try:
            # The kernel's own start-up warnings (e.g. "running over TCP without encryption": it listens on
            # localhost only) are not the reader's business, nor its "KeyboardInterrupt caught in kernel" when a
            # failed cell ends the run (the failure is reported in one line): its log level is CRITICAL.
            pm.execute_notebook(str(src), str(dst), parameters=params, kernel_name="python3",
                                cwd=str(chapter.path.parent), progress_bar=progress, log_output=progress,
                                extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
        except pm.PapermillExecutionError as e:
            raise ChapterError(f"chapter {chapter.name} failed in cell {e.exec_count}: {e.ename}: {e.evalue}") from None
        except DeadKernelError:
            raise ChapterError(f"chapter {chapter.name}: its kernel died (killed, often for lack of memory); "
                               "nothing was written; rerun it, or run it at a smaller scale") from None
        finally:
            if env_before is None:
                os.environ.pop("SUPERCOLLAPSE_PROGRESS", None)
            else:
                os.environ["SUPERCOLLAPSE_PROGRESS"] = env_before
        _tidy(dst, changed_text(chapter, params), chapter.title, chapter.fixed)
        os.replace(dst, out)
    return out, True


def changed_text(chapter: Chapter, params: dict) -> str:
    """The line a page shows when it was executed with parameters other than its defaults; '' when none."""
    declared = chapter.parameters
    changed = {k: v for k, v in params.items() if k in declared and v != declared[k].default}
    if not changed:
        return ""
    shown = ", ".join(f"`{k} = {Path(v).name if declared[k].is_path and v else v!r}`" for k, v in changed.items())
    return f"**Executed with parameters other than the chapter's defaults:** {shown}."


def _tidy(path: Path, note: str = "", title: str | None = None, fixed: tuple = ()) -> None:
    """Fold papermill's injected-parameters cell and put `note` (changed parameters) after it, as text; drop
    progress bars (they went to the terminal); give a variant its `title` (the first heading's text) and show its
    `fixed` parameters as the defaults of its parameters cell (a reader copies that cell to re-run the page)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    if title:
        first = next(c for c in nb.cells if c.cell_type == "markdown")
        first.source = re.sub(r"^# .*$", lambda _: f"# {title}", first.source, count=1, flags=re.M)
    for i, cell in enumerate(list(nb.cells)):
        tags = cell.metadata.get("tags", [])
        if "parameters" in tags:
            for name, value in fixed:
                shown = f'"{value}"' if isinstance(value, str) else repr(value)
                cell.source = re.sub(rf"^{re.escape(name)}\s*=[^#\n]*?(\s*#.*)?$",
                                     lambda m: f"{name} = {shown}{m.group(1) or ''}", cell.source, flags=re.M)
        if "injected-parameters" in tags:
            if "hide-input" not in tags:
                cell.metadata["tags"] = tags + ["hide-input"]
            if note:
                nb.cells.insert(i + 1, nbformat.v4.new_markdown_cell(note))
        if cell.cell_type == "code":  # a bar's blank chunks ("\n", "\r") would each be an empty box on the page
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr"
                                                            and (_BAR.search(o.text) or not o.text.strip()))]
    nbformat.write(nb, path)
