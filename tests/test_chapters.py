"""Every chapter in the table of contents executes at smoke scale through the same papermill path as the CLI."""
import pytest

from supercollapse.build import notebooks


@pytest.mark.parametrize("chapter", notebooks.chapters(), ids=lambda c: c.name)
def test_chapter_executes_at_smoke_scale(chapter):
    params = chapter.validate({"scale": "smoke"}) if "scale" in chapter.parameters else {}
    path, _ = notebooks.execute(chapter, params, progress=False)
    import nbformat

    nb = nbformat.read(path, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    # Warnings (Altair's, pandas', the kernel's "running over TCP") are for the author, not on the page.
    stderr = [o.text for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, stderr
    text = "".join(str(o.get("data", {}).get("text/markdown", "")) for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)
    assert "Scale: `smoke`" in text  # every page states its scale and run count
    if chapter.name == "32_gpu":  # the install command names the JAX this package pins
        from importlib.metadata import version

        glued = "".join(str(v) for c in nb.cells if c.cell_type == "code" for o in c.outputs
                        for v in o.get("data", {}).values())
        assert f'"jax[cuda12]=={version("jax")}"' in glued
