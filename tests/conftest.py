"""Shared fixtures: tiny configs, the ../shared reference files (skipped cleanly when absent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import torch

from seqgan.config import DiscriminatorConfig, GeneratorConfig
from runs import BASELINES, GAN, RESUME, train_cli, train_tiny, write_tiny_config

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
ORACLE_NPZ = SHARED / "reference" / "seqgan_oracle.npz"

torch.set_num_threads(min(2, torch.get_num_threads()))
THREADS = torch.get_num_threads()


@pytest.fixture(autouse=True)
def restore_threads():
    """A run with train.threads set changes torch's process-wide thread count; give every test
    the same one (it decides the last bits of float reductions)."""
    yield
    torch.set_num_threads(THREADS)


@pytest.fixture(autouse=True)
def seeded_global_rng():
    """Every test starts from the same global torch RNG state, so a test that draws with
    torch.randn(...) sees the same numbers whatever ran before it (order, -k, -x)."""
    state = torch.random.get_rng_state()
    torch.manual_seed(0)
    yield
    torch.random.set_rng_state(state)


@pytest.fixture
def oracle_npz() -> Path:
    if not ORACLE_NPZ.is_file():
        pytest.skip(f"{ORACLE_NPZ} not present (../shared is beside the checkout in CI)")
    return ORACLE_NPZ


@pytest.fixture
def tiny_gen_cfg() -> GeneratorConfig:
    return GeneratorConfig(vocab_size=11, emb_dim=6, hidden_dim=5, seq_len=7, init_std=0.5)


@pytest.fixture
def tiny_disc_cfg() -> DiscriminatorConfig:
    return DiscriminatorConfig(emb_dim=6, filter_sizes=[1, 2, 3, 7], num_filters=[3, 4, 2, 5])


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory) -> Callable[..., Path]:
    """The factory of tiny oracle-task configs: `tiny_config(**overrides)` writes tests/runs.py's
    TINY with `overrides` to a fresh folder and returns the file. Overrides are top-level keys or
    sections (`seed=5`, `adversarial={"iterations": 2}` merges into the section) or dotted keys
    (`**{"adversarial.iterations": 2}`); None deletes a key so the package default applies (see
    runs.tiny_config_dict). Session-scoped, so module- and session-scoped fixtures can use it."""
    def make(**overrides: Any) -> Path:
        return write_tiny_config(tmp_path_factory.mktemp("cfg") / "tiny.yaml", **overrides)
    return make


@pytest.fixture
def tiny_yaml(tmp_path: Path) -> Path:
    """tiny_config() with no overrides, written into the test's own tmp_path."""
    return write_tiny_config(tmp_path / "tiny.yaml")


@pytest.fixture(scope="session")
def shared_run(tmp_path_factory) -> Path:
    """One finished run of tiny_config(), trained once per session, for tests that only read it
    (a test that changes a run copies it first, as test_hostile_inputs' tiny_run does)."""
    return train_tiny(tmp_path_factory.mktemp("shared") / "run")


@pytest.fixture(scope="session")
def gan_yaml(tiny_config) -> Path:
    """The tiny config with runs.GAN's overrides: every GAN method runs on it in seconds."""
    return tiny_config(**GAN)


@pytest.fixture(scope="session")
def resume_yaml(tiny_config) -> Path:
    """The config of the resume tests (runs.RESUME): an adversarial iteration takes a fraction of a second."""
    return tiny_config(**RESUME)


@pytest.fixture(scope="session")
def reference_run(resume_yaml, tmp_path_factory) -> Path:
    """The uninterrupted run of resume_yaml, trained once per session; tests read it or copy it."""
    out = tmp_path_factory.mktemp("ref") / "run"
    assert train_cli(resume_yaml, out) == 0
    return out


@pytest.fixture(scope="session")
def baseline_yaml(tiny_config) -> Path:
    """The config of the Table 1 baselines' runs (runs.BASELINES): scheduled sampling, PG-BLEU, MLE."""
    return tiny_config(**BASELINES)
