"""RankGAN (methods/rankgan.py, models/ranker.py, rewards/rank.py): the rank score against a
hand-computed softmax of cosines, the ranker's loss and the reward, the controls, exact resume after
SIGKILL, and torchrun against one process."""

from __future__ import annotations


import json
import math
from pathlib import Path

import pytest
import torch

from runs import GAN, kill_and_resume_equals, train_cli, torchrun_worker, train_finite


from seqgan.config import DiscriminatorConfig
from seqgan.models.ranker import Ranker, log_rank_score
from seqgan.rewards.rank import RankReward
from test_interface import assert_control_trains_no_critic

@pytest.fixture(scope="module")
def gan_yaml(tiny_config) -> Path:
    return tiny_config(**GAN, rankgan={"reference_size": 4, "comparison_size": 8})


def test_rank_score_is_the_hand_computed_softmax_of_cosines():
    """log R(s | U, C) = mean_u log of s's share of softmax(gamma cos(., u)) over C plus s itself.
    Fails when s is left out of its own comparison set (checked)."""
    g = torch.Generator().manual_seed(0)
    s, u, c = torch.randn(3, 5, generator=g), torch.randn(4, 5, generator=g), torch.randn(6, 5, generator=g)
    gamma = 2.5
    got = log_rank_score(s, u, c, gamma)
    for i in range(3):
        per_u = []
        for j in range(4):
            cos = [float(torch.dot(x, u[j]) / (x.norm() * u[j].norm())) for x in [s[i], *c]]
            z = [math.exp(gamma * v) for v in cos]
            per_u.append(math.log(z[0] / sum(z)))
        assert got[i].item() == pytest.approx(sum(per_u) / 4, rel=1e-5)


def test_ranker_loss_by_hand_and_the_rank_reward():
    cfg = DiscriminatorConfig(emb_dim=4, filter_sizes=[1, 2], num_filters=[3, 3])
    ranker = Ranker(cfg, 10, 5, gamma=1.5, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    fr, ff, fu = torch.randn(4, 6, generator=g), torch.randn(4, 6, generator=g), torch.randn(3, 6, generator=g)
    want = -(log_rank_score(fr, fu, ff, 1.5).mean() + torch.log(1 - log_rank_score(ff, fu, fr, 1.5).exp()).mean())
    torch.testing.assert_close(ranker.loss(fr, ff, fu), want)
    real = torch.randint(0, 10, (12, 5), generator=g)
    reward = RankReward(ranker)
    reward.draw(real, 3, 4, torch.Generator().manual_seed(2))
    Y = torch.randint(0, 10, (7, 5), generator=g)
    idx = torch.randint(12, (7,), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        feats = ranker(real[idx])
        want_r = log_rank_score(ranker(Y), feats[:3], feats[3:], 1.5)
    torch.testing.assert_close(reward(Y), want_r)
    reward.log = False
    torch.testing.assert_close(reward(Y), want_r.exp())



def test_a_constant_reward_replaces_the_ranker(gan_yaml, tmp_path):
    adv = assert_control_trains_no_critic("rankgan", gan_yaml, tmp_path / "c")
    assert adv and all(r["reward_mean"] == pytest.approx(0.5) for r in adv)


@pytest.mark.slow  # the default suite keeps exact resume: test_checkpoint (SeqGAN)
def test_rankgan_resumes_exactly_after_sigkill(gan_yaml, tmp_path):
    ref = tmp_path / "ref"
    sets = ["method=rankgan", "adversarial.iterations=30"]
    train_finite(gan_yaml, ref, "rankgan", sets)
    kill_and_resume_equals(gan_yaml, ref, tmp_path / "run", sets, ["generator.safetensors", "ranker.safetensors"])


@pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                    reason="needs torch.distributed with gloo")
def test_torchrun_ranker_step_equals_the_single_process_step(tmp_path):
    """2 gloo processes, each with half of a fixed batch's real and generated rows and the same
    references: the step equals the single-process step on the mean of the two halves' losses (each
    rank ranks within its share); the ranker's unused classifier head does not stall DDP."""
    w, got = torchrun_worker("dist_rankgan_worker")
    fixed_problem = w.fixed_problem
    ranker, real, fake, refs = fixed_problem()
    opt = torch.optim.Adam(ranker.parameters(), lr=0.01)
    losses = []
    for half in (slice(0, 4), slice(4, 8)):
        f = ranker(torch.cat([real[half], fake[half], refs]))
        losses.append(ranker.loss(f[:4], f[4:8], f[8:]))
    opt.zero_grad()
    (sum(losses) / 2).backward()
    opt.step()
    for k, v in ranker.state_dict().items():
        torch.testing.assert_close(got[k], v, atol=1e-5, rtol=1e-5, msg=k)


@pytest.mark.parametrize("kind", ["gru", "transformer"])
def test_rankgan_runs_with_every_generator_kind(kind, gan_yaml, tmp_path):
    out = tmp_path / "run"
    assert train_cli(gan_yaml, out, "method=rankgan", f"generator.kind={kind}", "adversarial.iterations=2") == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["method"] == "rankgan" and all(math.isfinite(v) for ph in s["nll_oracle"].values() for _, v in ph)
    import seqgan
    gen = seqgan.load(out)
    assert gen.kind == kind and gen.sample(3, seed=0).shape == (3, 8)
