"""Render the static site from papermill-executed chapters (Jupyter Book's own execution stays off)."""
from __future__ import annotations

import fcntl
import filecmp
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from .. import paths
from ..pages import cells, charts
from . import notebooks

STAGE = paths.BUILD / "stage"


def _sync(src: Path, dst: Path) -> None:
    """Copy when the content differs, keeping mtimes, so Sphinx rebuilds only what changed."""
    if dst.is_file() and filecmp.cmp(src, dst, shallow=False):
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def _put(data: bytes, dst: Path) -> None:
    """Write `data` when it differs from `dst`'s content, so Sphinx rebuilds only what changed."""
    if dst.is_file() and dst.read_bytes() == data:
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(data)


def timed(notebook: Path) -> bytes:
    """An executed chapter as its page shows it: one line under the page's header (or its title) saying how long
    papermill took to execute it, and at which scale. Added when staging, so the cached notebook stays as papermill
    wrote it and no chapter's cache key changes."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    run = nb.metadata.get("papermill", {})
    if run.get("duration") is None:  # not executed by papermill
        return notebook.read_bytes()
    scale = run.get("parameters", {}).get("scale")
    line = f"This page executed in {cells.duration(run['duration'])}" + (f" at scale `{scale}`." if scale else ".")

    def is_header(cell):
        return any(o.get("data", {}).get("text/markdown", "").startswith("**Scale: `") for o in cell.get("outputs", []))

    after = next((i for i, c in enumerate(nb.cells) if is_header(c)), None)
    if after is None:
        after = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
    nb.cells.insert(after + 1, nbformat.v4.new_markdown_cell(line, id="executed-in"))  # a fixed id: same bytes
    return nbformat.writes(nb).encode()


def execute_all(scale: str, *, params=(), force: bool = False, progress: bool = True) -> dict[str, Path]:
    """Execute every chapter at `scale`, with `params` ((NAME, VALUE) pairs, see `notebooks.site_parameters`),
    unless its cached result is current; chapter name -> notebook."""
    out = {}
    chosen = notebooks.site_parameters(scale, params)  # every name and value checked before anything runs
    for ch in notebooks.chapters():
        params = chosen[ch.name]
        path, ran = notebooks.execute(ch, params, force=force, progress=progress)
        print(f"{'executed' if ran else 'cached  '} {ch.name} {params}", file=sys.stderr)
        out[ch.name] = path
    return out


def stage(executed: dict[str, Path], stage_dir: Path = STAGE) -> Path:
    """Mirror the book into `stage_dir`, with executed notebooks (`timed`) in place of the chapters' sources."""
    wanted = {}
    for f in ("_config.yml", "_toc.yml"):
        wanted[stage_dir / f] = paths.ROOT / f
    charts.vendor_assets()
    for src in paths.BOOK.rglob("*"):
        if src.is_file() and src.stem not in executed and "__pycache__" not in src.parts:
            wanted[stage_dir / src.relative_to(paths.ROOT)] = src
    for dst, src in wanted.items():
        _sync(src, dst)
    for name, nb in executed.items():
        wanted[dst := stage_dir / "book" / f"{name}.ipynb"] = nb
        _put(timed(nb), dst)
    for old in list((stage_dir / "book").rglob("*")):  # chapters removed since the last build
        if old.is_file() and old not in wanted:
            old.unlink()
    return stage_dir


def render(stage_dir: Path = STAGE) -> Path:
    """Run Jupyter Book (strict: warnings are errors) and return the site's index.html."""
    cmd = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(stage_dir), "--warningiserror", "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise notebooks.ChapterError(f"jupyter-book build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    html = stage_dir / "_build" / "html"
    for page in html.rglob("*.html"):
        _drop_duplicate_inline_scripts(page)
    return html / "index.html"


def _drop_duplicate_inline_scripts(page: Path) -> None:
    """Jupyter Book 1.0.4 (sphinx-thebe) writes its `const THEBE_JS_URL` script twice: a console error."""
    seen, out = set(), []
    for line in page.read_text().splitlines(keepends=True):
        s = line.strip()
        if s.startswith("<script>") and s.endswith("</script>"):
            if s in seen:
                continue
            seen.add(s)
        out.append(line)
    page.write_text("".join(out))


@contextmanager
def exclusive(stage_dir: Path):
    """Hold `stage_dir` for one build: a second build into it waits, saying for whom, instead of mixing its files
    (and the assets' hashes) with the first's. The lock is the kernel's, so a killed build leaves none."""
    lock = stage_dir.with_name(stage_dir.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(os.open(lock, os.O_RDWR | os.O_CREAT, 0o644), "r+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = f.read().strip() or "unknown"
            print(f"waiting for the build already rendering into {stage_dir} (pid {holder}) to finish",
                  file=sys.stderr)
            fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        yield


def build(scale: str = "cpu", *, params=(), force: bool = False, progress: bool = True,
          stage_dir: Path = STAGE) -> Path:
    """Execute what is stale (with `params`, see `execute_all`), stage, render; returns the site's index.html."""
    executed = execute_all(scale, params=params, force=force, progress=progress)  # each chapter written atomically
    with exclusive(stage_dir):
        return render(stage(executed, stage_dir))
