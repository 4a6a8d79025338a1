"""Shared fixtures: tiny configs, the ../shared reference files (skipped cleanly when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from seqgan.config import DiscriminatorConfig, GeneratorConfig

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


TINY_YAML = """\
seed: 3
device: cpu
oracle: {seed: 1, num_samples: 256, emb_dim: 8, hidden_dim: 8}
generator: {vocab_size: 40, emb_dim: 8, hidden_dim: 8, seq_len: 8}
discriminator: {emb_dim: 8, filter_sizes: [1, 2, 4], num_filters: [4, 4, 4]}
pretrain: {generator_epochs: 3, discriminator_rounds: 2, discriminator_epochs: 1}
adversarial: {iterations: 3, discriminator_rounds: 1, discriminator_epochs: 1, rollout_num: 2}
train: {batch_size: 32, eval_every: 2, eval_samples: 128}
"""


@pytest.fixture
def tiny_yaml(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY_YAML)
    return p
