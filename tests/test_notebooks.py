import os
import subprocess
import sys

import pytest

from supercollapse import sources
from supercollapse.build import notebooks


def write_chapter(tmp_path, params_src):
    path = tmp_path / "99_demo.md"
    path.write_text(
        "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
        "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n# Demo\n\n"
        f"```{{code-cell}} ipython3\n:tags: [parameters]\n{params_src}\n```\n\n"
        "```{code-cell} ipython3\nfrom supercollapse.theory import power_laws\n```\n")
    return notebooks.Chapter(path.stem, path)


PARAMS = ('scale = "cpu"  # smoke | cpu | gpu: sizes\nallow_train = True  # train missing runs\n'
          'gamma_factor = 1.0  # multiplies gamma*\nseeds = 3  # number of seeds\npublished_logs = ""  # a path')


def test_parameters_cell_is_parsed(tmp_path):
    ch = write_chapter(tmp_path, PARAMS)
    p = ch.parameters
    assert list(p) == ["scale", "allow_train", "gamma_factor", "seeds", "published_logs"]
    assert p["scale"].choices == ("smoke", "cpu", "gpu") and p["published_logs"].choices == ()
    assert (p["allow_train"].type, p["gamma_factor"].type, p["seeds"].type) == (bool, float, int)


def test_validation_converts_and_rejects(tmp_path):
    ch = write_chapter(tmp_path, PARAMS)
    assert ch.validate({"scale": "smoke", "allow_train": "false", "gamma_factor": "1.1", "seeds": "5"}) == {
        "scale": "smoke", "allow_train": False, "gamma_factor": 1.1, "seeds": 5}
    with pytest.raises(notebooks.ParameterError, match=r"unknown parameter 'nonsense'.*valid: scale \(str\)"):
        ch.validate({"nonsense": "1"})
    with pytest.raises(notebooks.ParameterError, match="valid: smoke, cpu, gpu"):
        ch.validate({"scale": "huge"})
    with pytest.raises(notebooks.ParameterError, match=r"valid: a number \(int\)"):
        ch.validate({"seeds": "three"})
    with pytest.raises(notebooks.ParameterError, match="valid: true or false"):
        ch.validate({"allow_train": "maybe"})


def test_cache_key_tracks_parameters_and_only_imported_library_code(tmp_path):
    ch = write_chapter(tmp_path, PARAMS)
    assert notebooks.cache_key(ch, {"scale": "smoke"}) != notebooks.cache_key(ch, {"scale": "cpu"})
    assert notebooks.cache_key(ch, {}) == notebooks.cache_key(ch, {})
    rel = lambda code: {str(f.relative_to(sources.PACKAGE)) for f in notebooks.library_closure(code)}  # noqa: E731
    names = rel("from supercollapse import execute")
    assert {"execute/__init__.py", "execute/local.py", "engine/train.py", "store/runs.py", "paths.py"} <= names
    assert not any(n.startswith("theory/") for n in names)  # module granularity: no whole-folder hashing
    assert "engine/train.py" not in rel("from supercollapse.engine import config")


def test_a_default_parameter_keys_as_not_given_and_curated_bytes_key_too(tmp_path, monkeypatch):
    ch = notebooks.get_chapter("01_first_ladder")  # `run CH` passes {}, `build` passes {"scale": "cpu"}
    assert notebooks.cache_key(ch, {"scale": "cpu"}) == notebooks.cache_key(ch, {}) != \
        notebooks.cache_key(ch, {"scale": "smoke"})
    monkeypatch.setattr(notebooks.paths, "CURATED_RUNS", tmp_path)
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "curves.npz").write_bytes(b"one")
    before = notebooks.cache_key(ch, {})
    (tmp_path / "k" / "curves.npz").write_bytes(b"two")  # same name, edited or damaged content
    assert notebooks.cache_key(ch, {}) != before


def test_killed_executions_and_unreadable_results_are_cleared(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERCOLLAPSE_CACHE", str(tmp_path / "cache"))
    ch = write_chapter(tmp_path, 'x = 1  # a number, range [0, 2]')
    out = notebooks.executed_path(ch, {})
    out.parent.mkdir(parents=True)
    debris = out.parent / ".tmp-999999999-abc"
    debris.mkdir()
    out.write_text('{"cells": [')  # a result cut short
    assert {p.name for p, _ in notebooks.executed_problems()} == {debris.name, out.name}
    path, ran = notebooks.execute(ch, {}, progress=False)
    assert ran and path == out and notebooks.executed_problems() == [] and not debris.exists()
    assert notebooks.execute(ch, {}, progress=False) == (out, False)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "supercollapse", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("args, message", [
    (("run", "first_ladder", "-p", "nonsense", "1"), "unknown parameter 'nonsense'"),
    (("run", "first_ladder", "-p", "scale", "huge"), "valid: smoke, cpu, gpu"),
    (("run", "no_such_chapter"), "unknown chapter 'no_such_chapter'; valid:"),
])
def test_cli_bad_input_exits_2_with_one_line(args, message):
    r = cli(*args)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_cli_list_json():
    import json

    r = cli("list", "--json")
    assert r.returncode == 0
    chapters = json.loads(r.stdout)
    first = next(c for c in chapters if c["chapter"] == "01_first_ladder")
    assert {"name": "scale", "type": "str", "default": "cpu", "choices": ["smoke", "cpu", "gpu"]}.items() <= \
        first["parameters"][0].items()


def test_a_path_parameter_resolves_against_the_working_directory(tmp_path, monkeypatch):
    ch = notebooks.get_chapter("11_collapse")
    (tmp_path / "mine.pkl").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    assert ch.validate({"published_logs": "mine.pkl"})["published_logs"] == str(tmp_path / "mine.pkl")
    with pytest.raises(notebooks.ParameterError, match="an existing file .*missing"):
        ch.validate({"published_logs": "nothere.pkl"})
    with pytest.raises(notebooks.ParameterError, match="a directory"):
        ch.validate({"published_logs": str(tmp_path)})
    assert ch.validate({"published_logs": ""})["published_logs"] == ""
    (tmp_path / "mine.CSV").write_text("")  # the diagnostic's formats too, suffixes in any case
    assert ch.validate({"published_logs": "mine.CSV"})["published_logs"] == str(tmp_path / "mine.CSV")
    (tmp_path / "mine.txt").write_text("")
    with pytest.raises(notebooks.ParameterError, match=r"a file of type \.pkl, .*\.csv.*mine.txt is \.txt"):
        ch.validate({"published_logs": "mine.txt"})


def test_a_relative_or_file_cache_is_handled_before_anything_runs(tmp_path):
    (tmp_path / "afile").write_text("")
    r = subprocess.run([sys.executable, "-m", "supercollapse", "runs", "list"], capture_output=True, text=True,
                       cwd=tmp_path, env={**os.environ, "SUPERCOLLAPSE_CACHE": "afile"})
    assert r.returncode == 2 and "is a file; valid: a folder" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "supercollapse", "runs", "list"], capture_output=True, text=True,
                       cwd=tmp_path, env={**os.environ, "SUPERCOLLAPSE_CACHE": "rel"})
    assert r.returncode == 0 and str(tmp_path / "rel" / "runs") in r.stdout


def test_numbers_must_be_finite_and_in_their_declared_range():
    ch = notebooks.get_chapter("11_collapse")
    for bad in ("nan", "inf", "0", "-1", "5"):
        with pytest.raises(notebooks.ParameterError, match="gamma_check"):
            ch.validate({"gamma_check": bad})
    assert ch.validate({"gamma_check": "4"})["gamma_check"] == 4.0


def test_every_chapter_parameter_declares_what_is_valid():
    # Numbers carry a range, strings a set of choices or a path; a comment with '=' makes papermill warn on every
    # run ("Unable to parse line"), so none has one.
    for ch in notebooks.chapters():
        for p in ch.parameters.values():
            where = f"{ch.name}: {p.name}"
            assert "=" not in p.help, where
            if p.type in (int, float):
                assert notebooks._RANGE.search(p.help) and p.parse(ch.name, p.default) == p.default, where
            elif p.type is str:
                assert p.choices or p.is_path, where
    ch = notebooks.get_chapter("21_random_features")
    for name, bad in (("lr", "1e6"), ("seed", "-1"), ("a", "1")):
        with pytest.raises(notebooks.ParameterError, match=f"'{bad}' for parameter '{name}'.*valid: a number in"):
            ch.validate({name: bad})
    with pytest.raises(notebooks.ParameterError, match="'0' for parameter 'horizon_factor'.*in \\[0.1, 10\\]"):
        notebooks.get_chapter("22_solvable_collapse").validate({"horizon_factor": "0"})


def test_cli_one_line_errors_before_running(tmp_path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "supercollapse", *a], capture_output=True,  # noqa: E731
                                    text=True, cwd=tmp_path)
    for args, words in ((["run", "first_ladder", "-p", "scale", "smoke", "--scale", "gpu"], "disagree"),
                        (["run", "first_ladder", "--scale", "smoke", "--output", "/nonexistent/d/x.ipynb"],
                         "does not exist"),
                        (["run", "first_ladder", "--scale", "smoke", "--output", str(tmp_path)], "is a directory"),
                        (["run", "11_collapse", "-p", "published_logs", "nothere.pkl"], "an existing file")):
        r = run(*args)
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)


def test_a_closed_pipe_is_not_a_traceback():
    # As `supercollapse runs list | head -1` once head has gone: the read end of stdout is closed.
    read, write = os.pipe()
    os.close(read)
    r = subprocess.run([sys.executable, "-m", "supercollapse", "runs", "list"], stdout=write, stderr=subprocess.PIPE,
                       text=True)
    os.close(write)
    assert r.returncode == 141 and "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr


def test_site_parameters_scope_a_parameter_to_one_chapter_or_to_every_chapter_that_takes_it(tmp_path, monkeypatch):
    (tmp_path / "theirs.pkl").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    chosen = notebooks.site_parameters("cpu", [("collapse:published_logs", "theirs.pkl"), ("family", "narrow")])
    assert chosen["11_collapse"]["published_logs"] == str(tmp_path / "theirs.pkl")
    assert all("published_logs" not in p for name, p in chosen.items() if name != "11_collapse")
    takers = [ch.name for ch in notebooks.chapters() if "family" in ch.parameters]
    assert takers and all(chosen[name]["family"] == "narrow" for name in takers)
    assert all(p.get("scale") == "cpu" for name, p in chosen.items() if "scale" in notebooks.get_chapter(name).parameters)
    with pytest.raises(notebooks.ParameterError, match="no chapter takes parameter 'nonsense'"):
        notebooks.site_parameters("cpu", [("nonsense", "1")])
    with pytest.raises(notebooks.ParameterError, match="unknown parameter 'nonsense' for chapter 11_collapse"):
        notebooks.site_parameters("cpu", [("11_collapse:nonsense", "1")])


def test_a_page_says_which_parameters_differ_from_its_defaults(tmp_path):
    ch = notebooks.get_chapter("11_collapse")
    assert notebooks.changed_text(ch, {"scale": "cpu", "published_logs": ""}) == ""
    logs = tmp_path / "theirs.pkl"
    text = notebooks.changed_text(ch, {"scale": "smoke", "published_logs": str(logs)})
    assert "`scale = 'smoke'`" in text and "`published_logs = 'theirs.pkl'`" in text and str(tmp_path) not in text


def test_variant_page_has_its_own_defaults_key_and_title(tmp_path, monkeypatch):
    base = write_chapter(tmp_path, PARAMS)
    (tmp_path / "variants.yml").write_text("99_demo_gpu:\n  source: 99_demo\n  title: Demo at gpu\n"
                                           "  parameters:\n    scale: gpu\n    seeds: 5\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: 99_demo\nchapters:\n  - file: 99_demo_gpu\n")
    monkeypatch.setattr(notebooks.paths, "BOOK", tmp_path)
    monkeypatch.setattr(notebooks.paths, "ROOT", tmp_path)
    found = {c.name: c for c in notebooks.chapters()}
    assert list(found) == ["99_demo", "99_demo_gpu"]
    v = found["99_demo_gpu"]
    assert v.path == base.path and v.parameters["scale"].default == "gpu"
    assert v.validate({}) == {"scale": "gpu", "seeds": 5} and v.validate({"seeds": "7"})["seeds"] == 7
    assert notebooks.changed_text(v, v.validate({})) == ""  # its fixed parameters are its defaults
    assert notebooks.cache_key(v, v.validate({})) != notebooks.cache_key(base, {})
    nb = tmp_path / "x.ipynb"
    import jupytext
    jupytext.write(jupytext.read(base.path, fmt="md:myst"), nb, fmt="ipynb")
    notebooks._tidy(nb, "", v.title, v.fixed)
    cells = jupytext.read(nb).cells
    assert cells[0].source.splitlines()[0] == "# Demo at gpu"
    shown = next(c for c in cells if "parameters" in c.metadata.get("tags", [])).source
    assert 'scale = "gpu"' in shown and "seeds = 5" in shown, shown  # the page shows the variant's own defaults
    (tmp_path / "variants.yml").write_text("bad:\n  source: 99_demo\n  parameters:\n    nonsense: 1\n")
    with pytest.raises(notebooks.ParameterError, match="variant bad sets nonsense, which 99_demo does not take"):
        notebooks.chapters()


def test_progress_bars_and_their_blank_chunks_leave_no_box_on_the_page(tmp_path):
    """tqdm writes a bar in chunks, some only "\\n" or "\\r": each became an empty stderr box on the site (the
    intro page at smoke scale showed a column of them); warnings that are not bars stay for the author."""
    import nbformat

    out = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("train()", outputs=[
        out("stream", name="stderr", text="runs:  50%|█████     | 1/2 [00:04<00:04]"), out("stream", name="stderr", text="\n"),
        out("stream", name="stderr", text="\r\n "), out("stream", name="stderr", text="UserWarning: kept"),
        out("stream", name="stdout", text="\n")])
    path = tmp_path / "x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"), cell]), path)
    notebooks._tidy(path)
    kept = nbformat.read(path, as_version=4).cells[1].outputs
    assert [(o.name, o.text) for o in kept] == [("stderr", "UserWarning: kept"), ("stdout", "\n")]


def test_run_and_build_key_the_same_parameters_alike(tmp_path, monkeypatch):
    from supercollapse import cli

    monkeypatch.setattr(notebooks.paths, "CURATED_RUNS", tmp_path / "curated")
    ch = write_chapter(tmp_path, PARAMS)
    monkeypatch.setattr(notebooks, "chapters", lambda: [ch])
    for given in ([], [("gamma_factor", "1e0"), ("seeds", "3")], [("gamma_factor", "2"), ("seeds", "4")]):
        ran = ch.validate(cli._params(given, "smoke"))
        built = notebooks.site_parameters("smoke", [(f"{ch.name}:{k}", v) for k, v in given])[ch.name]
        assert notebooks.executed_path(ch, ran) == notebooks.executed_path(ch, built), given


def test_sigterm_ends_a_command_with_one_line_and_status_143():
    code = ("import os, signal, time\nfrom supercollapse import cli\n"
            "cli.cmd_list = lambda args: (os.kill(os.getpid(), signal.SIGTERM), time.sleep(30))\n"
            "raise SystemExit(cli.main(['list']))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 143 and r.stderr.startswith("supercollapse: terminated (SIGTERM)"), r
    assert len(r.stderr.splitlines()) == 1


def test_a_dead_kernel_names_the_chapter_and_the_kernel_start_up_warning_stays_hidden(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("SUPERCOLLAPSE_CACHE", str(tmp_path / "cache"))
    ch = write_chapter(tmp_path, "x = 1  # a number, range [0, 2]")
    ch.path.write_text(ch.path.read_text().replace("from supercollapse.theory import power_laws",
                                                   "import os\nos._exit(9)  # as an out-of-memory kill"))
    with pytest.raises(notebooks.ChapterError, match="chapter 99_demo: its kernel died .* nothing was written"):
        notebooks.execute(ch, {}, progress=False)
    assert list(notebooks.executed_dir().iterdir()) == []  # no result, no temporary folder
    assert "over TCP" not in capfd.readouterr().err


def test_a_full_disk_is_one_line_naming_the_path(monkeypatch, capsys):
    import errno

    from supercollapse import cli

    def full(args):
        raise OSError(errno.ENOSPC, "No space left on device", "/cache/runs/k/curves.npz")

    monkeypatch.setattr(cli, "cmd_list", full)
    assert cli.main(["list"]) == 1
    assert capsys.readouterr().err == "supercollapse: No space left on device (/cache/runs/k/curves.npz)\n"
