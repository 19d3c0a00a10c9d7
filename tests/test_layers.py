"""The package's design: folders are layers importing only downward; caches depend on what they should."""
import subprocess
import sys

import pytest

from supercollapse import sources
from supercollapse.build import notebooks

# Lower rank = lower layer. A module may import its own layer or any lower one, never a higher one.
RANK = {"paths": 0, "scales": 0, "schedules": 0, "sources": 0, "flops": 0, "engine": 1, "store": 2, "execute": 3,
        "experiments": 4, "analysis": 5, "theory": 6, "study": 7, "pages": 8, "build": 9, "cli": 10,
        "__main__": 10, "__init__": 0}


def layer(path) -> str:
    return path.relative_to(sources.PACKAGE).parts[0].removesuffix(".py")


def test_every_module_has_a_layer_and_imports_only_downward():
    upward = []
    for f in sorted(sources.PACKAGE.rglob("*.py")):
        assert layer(f) in RANK, f"{f} is in no layer of RANK: add its folder"
        mod = sources.NAME + "." + ".".join(f.relative_to(sources.PACKAGE).with_suffix("").parts)
        mod = mod.removesuffix(".__init__")
        for imported in sources.imports(f.read_text(), mod, f.name == "__init__.py"):
            target = layer(sources.module_file(imported))
            if RANK[target] > RANK[layer(f)]:
                upward.append(f"{f.relative_to(sources.PACKAGE)} imports {imported}")
    assert not upward, "upward imports: " + "; ".join(upward)


def closure_of(chapter: str) -> set[str]:
    ch = notebooks.get_chapter(chapter)
    code = "\n".join(src for _, src in notebooks._code_cells(ch.path))
    return {str(f.relative_to(sources.PACKAGE)) for f in notebooks.library_closure(code)}


@pytest.mark.parametrize("chapter", ["20_sum_of_power_laws", "21_random_features", "22_solvable_collapse"])
def test_theory_chapters_do_not_depend_on_the_engine(chapter):
    files = closure_of(chapter)
    assert any(f.startswith("theory/") for f in files)
    # Editing the engine, the store or the executors does not re-execute a theory chapter.
    assert not [f for f in files if f.split("/")[0] in ("engine", "store", "execute", "experiments")]


@pytest.mark.parametrize("chapter", ["01_first_ladder", "10_horizon", "11_collapse", "12_offset", "13_constant_lr"])
def test_training_chapters_depend_on_the_engine_but_not_on_theory(chapter):
    files = closure_of(chapter)
    assert "engine/train.py" in files and "execute/local.py" in files  # editing the engine re-executes them
    assert not [f for f in files if f.startswith("theory/")]  # editing theory does not


def test_the_analysis_path_imports_neither_jax_nor_flax():
    code = ("import sys, supercollapse.analysis.collapse, supercollapse.analysis.diagnose, supercollapse.study;"
            "print(sorted(m for m in ('jax', 'flax', 'optax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
