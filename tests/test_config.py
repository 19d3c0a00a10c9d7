import pytest

from supercollapse.engine.config import SCHEMA, RunConfig, canonical_json, run_key


def test_golden_key():
    # If this changes, stored runs no longer match their configs: bump SCHEMA when semantics change.
    cfg = RunConfig(D=64, T=4096 * 20, seed=3)
    assert SCHEMA == 1
    assert run_key(cfg) == "004748e22da99f0d"


def test_key_depends_on_every_field_and_not_on_order():
    base = RunConfig(D=64, T=4096 * 20)
    assert run_key(base) == run_key(RunConfig(T=4096 * 20, D=64))
    assert run_key(base) != run_key(base.replace(seed=1))
    assert run_key(base) != run_key(base.replace(base_lr=0.0300001))
    assert '"schema":' in canonical_json(base)


def test_round_trip():
    cfg = RunConfig(D=32, T=4096 * 50, schedule="cosine")
    assert RunConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("bad", [dict(schedule="sqrt"), dict(task="vision"), dict(D=0), dict(T=10),
                                 dict(base_lr=-1.0), dict(decay_frac=0.0), dict(warmup=10**9)])
def test_invalid_config_names_valid_values(bad):
    with pytest.raises(ValueError, match="valid"):
        RunConfig(**bad)


def test_unknown_field():
    with pytest.raises(ValueError, match="unknown RunConfig fields"):
        RunConfig.from_dict({"D": 64, "width": 3})
