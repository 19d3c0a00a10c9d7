"""The built site, checked in a real headless browser with no network: charts render, math renders, no errors."""
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from supercollapse.build import site

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", "--dump-dom"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return site.build(scale="smoke", progress=False, stage_dir=tmp_path_factory.mktemp("stage"))


def open_page(page: Path):
    with tempfile.TemporaryDirectory() as profile:
        r = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", page.as_uri()],
                           capture_output=True, text=True, timeout=120)
    console = [line for line in r.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    return r.stdout, console


def test_site_has_every_chapter(built):
    html = built.parent
    assert built.is_file()
    assert (html / "_static" / "vendor" / "vega-bundle.js").is_file()
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert (html / "book" / "01_first_ladder.html").is_file()
    for page in html.rglob("*.html"):
        assert "cdn.jsdelivr.net" not in page.read_text(), f"{page.name} loads from a CDN"


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make browser)")
def test_every_chart_and_formula_renders_offline(built):
    pages = sorted(p for p in built.parent.joinpath("book").glob("*.html"))
    charts_seen = 0
    for page in pages:
        dom, console = open_page(page)
        errors = [c for c in console if re.search(r"error|Uncaught|Failed", c, re.I)]
        assert not errors, f"{page.name}: console errors {errors}"
        n_charts = dom.count('class="sc-chart')
        embedded = len(re.findall(r'class="sc-chart[^"]*vega-embed', dom))
        assert embedded == n_charts, f"{page.name}: {n_charts - embedded} of {n_charts} charts did not render"
        charts_seen += n_charts
        if 'class="math' in page.read_text():  # a page with formulas: MathJax typeset them
            assert "<mjx-container" in dom, f"{page.name}: MathJax did not typeset its formulas"
    assert charts_seen > 0
    dom, _ = open_page(built.parent / "book" / "intro.html")
    assert "<mjx-container" in dom, "MathJax did not typeset the intro's formulas"
