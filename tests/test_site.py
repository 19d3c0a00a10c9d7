"""The built site, checked in a real headless browser with no network, at a desktop and a phone width: every chart
drew marks and fits its column, math renders, the console has no warnings or errors, and in dark mode charts and
tables sit on the dark page, not on a light box.

Each page is opened through a copy that carries `CHECK` (a script that records console messages and, once the
charts have rendered, writes what it measured into the DOM). `SUPERCOLLAPSE_SITE=DIR` checks an existing site
(e.g. `_build/stage/_build/html` after `supercollapse build`) instead of building one at `smoke` scale;
Every check also saves a screenshot of the page (each width, and dark mode) into `SUPERCOLLAPSE_SCREENSHOTS`
(default `_build/screenshots`); the suite's output names the folder.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from supercollapse.build import site
from supercollapse.pages import charts

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=20000"]
WIDTHS = (1400, 420)  # a desktop window (the text column is 836 px there) and a phone

# Runs first on the page: keeps every console message, then (after the charts' vegaEmbed calls) measures each chart.
CHECK = """<script>(function(){
var log=[];['warn','error'].forEach(function(k){var f=console[k];console[k]=function(){
  log.push(k+': '+Array.prototype.map.call(arguments,String).join(' '));return f.apply(console,arguments);};});
window.addEventListener('error',function(e){log.push('error: '+e.message);});
function measure(){
  var charts=[].map.call(document.querySelectorAll('.sc-chart'),function(c){
    var svg=c.querySelector('svg'),col=c.closest('article')||document.body;
    var marks=svg?[].filter.call(svg.querySelectorAll('g.role-mark > path, g.role-mark > line, g.role-mark > text'),
      function(m){return m.tagName!=='path'||(m.getAttribute('d')||'').length>1;}).length:0;
    var r=svg?svg.getBoundingClientRect():{right:0,width:0},cr=col.getBoundingClientRect();
    return {embedded:c.classList.contains('vega-embed'),marks:marks,width:Math.round(r.width),
            column:Math.round(cr.width),overflow:Math.round(r.right-cr.right)};});
  var out=document.createElement('pre');out.id='sc-report';
  var empty=[].filter.call(document.querySelectorAll('.cell_output > .output.stderr, .cell_output > .output.stdout'),
    function(o){var pre=o.querySelector('pre');return !pre||!pre.textContent.trim();}).length;
  out.textContent=JSON.stringify({charts:charts,console:log,math:document.querySelectorAll('mjx-container').length,empty:empty,
    page:document.documentElement.scrollWidth-window.innerWidth});
  document.body.appendChild(out);}
window.addEventListener('load',function(){setTimeout(measure,5000);});})();</script>"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if os.environ.get("SUPERCOLLAPSE_SITE"):
        return Path(os.environ["SUPERCOLLAPSE_SITE"]).resolve() / "index.html"
    return site.build(scale="smoke", progress=False, stage_dir=tmp_path_factory.mktemp("stage"))


def screenshot(name: str) -> str:
    """The flag that saves the page's screenshot as `name`.png in the screenshots folder (taken in the same run)."""
    shots = Path(os.environ.get("SUPERCOLLAPSE_SCREENSHOTS") or site.paths.BUILD / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    return f"--screenshot={shots.resolve() / name}.png"


def chromium(page: Path, width: int, *extra):
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--window-size={width},1800", f"--user-data-dir={profile}",
                               *extra, page.as_uri()], capture_output=True, text=True, timeout=180)


def measure(page: Path, width: int) -> dict:
    """The page's report at `width`: per chart (embedded, marks, width, column, overflow), console, math, page."""
    probe = page.with_name(f"_probe_{page.name}")
    probe.write_text(page.read_text().replace("<head>", "<head>" + CHECK, 1))
    try:
        r = chromium(probe, width, "--dump-dom", screenshot(f"{page.stem}-{width}"))
    finally:
        probe.unlink()
    m = re.search(r'<pre id="sc-report">(.*?)</pre>', r.stdout, re.S)
    assert m, f"{page.name} at {width} px: the page did not finish loading"
    report = json.loads(m.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    report["console"] += [line for line in r.stderr.splitlines() if "Uncaught" in line]
    return report


# Dark mode as a reader's system sets it (prefers-color-scheme: dark, the theme's default "auto" follows it); once
# the charts have rendered, reports the page's background and, per chart and table, what it is drawn on.
DARK = ["--blink-settings=preferredColorScheme=0", "--force-dark-mode"]
CHECK_DARK = """<script>window.addEventListener('load',function(){setTimeout(function(){
function lum(c){var m=(c.match(/[\\d.]+/g)||[]).map(Number);if(m.length>3&&m[3]===0)return null;
  return (0.2126*m[0]+0.7152*m[1]+0.0722*m[2])/255;}
function box(el){for(var e=el.parentElement;e&&e!==document.body;e=e.parentElement){
  var l=lum(getComputedStyle(e).backgroundColor);if(l!==null)return l;}return null;}
var out=document.createElement('pre');out.id='sc-dark';
out.textContent=JSON.stringify({theme:document.documentElement.dataset.theme,
  page:lum(getComputedStyle(document.body).backgroundColor),
  charts:[].map.call(document.querySelectorAll('.sc-chart svg'),function(s){
    return {box:box(s),filter:getComputedStyle(s).filter};}),
  tables:[].map.call(document.querySelectorAll('.sc-table td'),function(t){
    return {box:box(t),text:lum(getComputedStyle(t).color)};}).slice(0,3)});
document.body.appendChild(out);},5000);});</script>"""


def dark_report(page: Path, width: int = WIDTHS[0], css: bool = True) -> dict:
    """The page in dark mode: theme, page lightness, and per chart/table the lightness of the box behind it
    (None: transparent up to the page); `css=False` drops the book's stylesheet (the page before its fix)."""
    probe = page.with_name(f"_dark_{page.name}")
    text = page.read_text().replace("<head>", "<head>" + CHECK_DARK, 1)
    if not css:
        text = re.sub(r'<link[^>]*supercollapse\.css[^>]*>', "", text)
    probe.write_text(text)
    try:
        r = chromium(probe, width, "--dump-dom", *DARK, screenshot(f"{page.stem}-{width}-dark"))
    finally:
        probe.unlink()
    m = re.search(r'<pre id="sc-dark">(.*?)</pre>', r.stdout, re.S)
    assert m, f"{page.name} in dark mode: the page did not finish loading"
    return json.loads(m.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))


def dark_problems(name: str, report: dict) -> list[str]:
    """A light box behind a chart or table on the dark page, light charts, or dark table text."""
    out = [] if report["theme"] == "dark" and report["page"] < 0.3 else [
        f"dark mode did not take effect (theme {report['theme']!r}, page lightness {report['page']})"]
    for i, c in enumerate(report["charts"]):
        if c["box"] is not None and c["box"] > 0.5:
            out.append(f"chart {i} sits on a light box (lightness {c['box']:.2f})")
        if "invert" not in c["filter"]:
            out.append(f"chart {i} is not inverted: black axes on the dark page")
    for i, t in enumerate(report["tables"]):
        if t["box"] is not None and t["box"] > 0.5:
            out.append(f"table cell {i} sits on a light box (lightness {t['box']:.2f})")
        if t["text"] is not None and t["text"] < 0.5:
            out.append(f"table cell {i} has dark text (lightness {t['text']:.2f})")
    return [f"{name} in dark mode: {p}" for p in out]


def problems(name: str, width: int, report: dict) -> list[str]:
    out = [f"console: {c}" for c in report["console"]]
    for i, c in enumerate(report["charts"]):
        if not c["embedded"]:
            out.append(f"chart {i} did not render")
        elif not c["marks"]:
            out.append(f"chart {i} drew no marks")
        if c["overflow"] > 1 or c["width"] > c["column"] + 1:
            out.append(f"chart {i} is {c['width']} px wide, past its {c['column']} px column")
    if report["empty"]:
        out.append(f"{report['empty']} empty output boxes (a progress bar's blank chunks?)")
    if report["page"] > 1:
        out.append(f"the page scrolls sideways by {report['page']} px")
    return [f"{name} at {width} px: {p}" for p in out]


def test_site_has_every_chapter(built):
    html = built.parent
    assert built.is_file()
    assert (html / "_static" / "vendor" / "vega-bundle.js").is_file()
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert (html / "_static" / "supercollapse.css").is_file()
    for page in ("01_first_ladder", "31_diagnose", "32_gpu"):
        assert (html / "book" / f"{page}.html").is_file(), page
        assert "This page executed in" in (html / "book" / f"{page}.html").read_text(), page
    assert not (html / "genindex.html").exists()  # an empty index page is no page for a reader
    for page in html.rglob("*.html"):
        assert "cdn.jsdelivr.net" not in page.read_text(), f"{page.name} loads from a CDN"


def test_a_staged_page_says_how_long_it_executed_under_its_header(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# First ladder"),
        nbformat.v4.new_code_cell("header(scale, 3)", outputs=[nbformat.v4.new_output(
            "display_data", {"text/markdown": "**Scale: `smoke`** · 3 runs shown on this page."})]),
        nbformat.v4.new_code_cell("chart")])
    nb.metadata["papermill"] = {"duration": 41.3, "parameters": {"scale": "smoke"}}  # as papermill records them
    executed = tmp_path / "01_first_ladder-0123456789abcdef.ipynb"
    nbformat.write(nb, executed)
    cached = executed.read_bytes()
    stage_dir = site.stage({"01_first_ladder": executed}, tmp_path / "stage")
    staged = stage_dir / "book" / "01_first_ladder.ipynb"
    cells = nbformat.read(staged, as_version=4).cells
    assert [c.source for c in cells[1:3]] == ["header(scale, 3)", "This page executed in 41 s at scale `smoke`."]
    assert executed.read_bytes() == cached  # the cache keeps papermill's notebook: its key and bytes unchanged
    mtime = staged.stat().st_mtime_ns
    site.stage({"01_first_ladder": executed}, stage_dir)
    assert staged.stat().st_mtime_ns == mtime  # staged again only when its content changes


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make browser)")
def test_every_chart_draws_marks_and_fits_its_column_at_every_width(built):
    found, charts_seen = [], 0
    for page in sorted(built.parent.joinpath("book").glob("*.html")):
        for width in WIDTHS:
            report = measure(page, width)
            found += problems(page.name, width, report)
            charts_seen += len(report["charts"])
            if 'class="math' in page.read_text() and not report["math"]:
                found.append(f"{page.name} at {width} px: MathJax did not typeset its formulas")
    assert charts_seen > 0
    assert not found, "\n".join(found)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make browser)")
def test_the_check_catches_an_empty_chart(built):
    """A log axis over compute = 0 (chapter 01 before its fix): Vega warns in the console, and the check says so."""
    import altair as alt
    import pandas as pd

    from supercollapse.pages import charts

    df = pd.DataFrame({"compute": [0.0, 1e-3, 1e-2], "loss": [1.0, 0.5, 0.4]})
    chart = alt.Chart(df).mark_line().encode(x=alt.X("compute", scale=alt.Scale(type="log")), y="loss")
    page = built.parent / "book" / "_empty_chart.html"
    html = charts.show(chart)._repr_mimebundle_()["text/html"]
    page.write_text(f'<html><head><script src="../_static/vendor/vega-bundle.js"></script></head>'
                    f"<body><article>{html}</article></body></html>")
    try:
        found = problems(page.name, WIDTHS[0], measure(page, WIDTHS[0]))
    finally:
        page.unlink()
    assert any("Log scale domain includes zero" in p for p in found), found


def test_a_second_build_into_the_same_stage_waits_for_the_first(tmp_path, capsys):
    stage_dir, order = tmp_path / "stage", []
    first_in, first_out = threading.Event(), threading.Event()

    def first():
        with site.exclusive(stage_dir):
            order.append("first in")
            first_in.set()
            first_out.wait(10)
            order.append("first out")

    def second():
        with site.exclusive(stage_dir):
            order.append("second in")

    a = threading.Thread(target=first)
    a.start()
    first_in.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.5)
    assert b.is_alive() and f"waiting for the build already rendering into {stage_dir} (pid {os.getpid()})" \
        in capsys.readouterr().err
    first_out.set()
    a.join(10)
    b.join(10)
    assert order == ["first in", "first out", "second in"]


def test_the_vega_bundle_is_written_through_this_process_own_temporary(tmp_path, monkeypatch):
    import vl_convert

    monkeypatch.setattr(vl_convert, "javascript_bundle", lambda: "var vega;")
    other = tmp_path / (charts.BUNDLE.rsplit(".", 1)[0] + ".tmp")
    other.write_text("half of another build's bundle")  # a concurrent writer's temporary, under the old fixed name
    out = charts.vendor_assets(tmp_path)
    assert out.read_text() == "(function(){\nvar vega;\n})();\n"
    assert other.read_text() == "half of another build's bundle"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make browser)")
def test_in_dark_mode_charts_and_tables_sit_on_the_dark_page(built):
    found, seen = [], 0
    for page in sorted(built.parent.joinpath("book").glob("*.html")):
        report = dark_report(page)
        found += dark_problems(page.name, report)
        seen += len(report["charts"]) + len(report["tables"])
    assert seen > 0
    assert not found, "\n".join(found)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make browser)")
def test_the_dark_check_catches_the_theme_light_box(built):
    """Without the book's stylesheet (the site before its fix) the theme paints a light box behind HTML outputs."""
    page = built.parent / "book" / "01_first_ladder.html"
    found = dark_problems(page.name, dark_report(page, css=False))
    assert any("light box" in p for p in found), found
    assert any("not inverted" in p for p in found), found
