"""The generator: log-probs equal a step-by-step loop; sampling draws the exact categorical."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from seqgan.losses import mle_weights
from seqgan.policies import Policy
from seqgan.models import build_generator
from seqgan.policies.sampler import _block_size, sample_categorical
from seqgan.train.mle import mle_epoch
from runs import lstm_cell


def loop_log_probs(gen: Policy, tokens: torch.Tensor) -> torch.Tensor:
    """Reference: one sequence at a time, one step at a time, the reference equations."""
    H = gen.hidden_dim
    out = torch.zeros(tokens.shape, dtype=torch.float64)
    for b in range(tokens.shape[0]):
        h = torch.zeros(H, dtype=torch.float64)
        c = torch.zeros(H, dtype=torch.float64)
        x = gen.embedding[gen.start_token].double()
        for t in range(tokens.shape[1]):
            h, c = lstm_cell(x, h, c, gen.W.double(), gen.U.double(), gen.b.double())
            logits = h @ gen.W_out.double() + gen.b_out.double()
            out[b, t] = torch.log_softmax(logits, 0)[tokens[b, t]]
            x = gen.embedding[tokens[b, t]].double()
    return out


def test_init_is_normal_0_01():
    from seqgan.config import GeneratorConfig
    gen = build_generator(GeneratorConfig(), torch.Generator().manual_seed(0))
    for name, p in gen.named_parameters():
        p = p.detach()
        assert abs(float(p.mean())) < 0.02 and abs(float(p.std()) - 0.1) < 0.02, name


def test_log_probs_equal_step_by_step_loop(tiny_gen_cfg):
    gen = build_generator(tiny_gen_cfg, torch.Generator().manual_seed(0))
    tokens = torch.randint(
        0, tiny_gen_cfg.vocab_size, (5, tiny_gen_cfg.seq_len), generator=torch.Generator().manual_seed(1)
    )
    lp = gen.log_probs(tokens)
    assert lp.shape == (5, tiny_gen_cfg.seq_len)
    ref = loop_log_probs(gen, tokens)
    torch.testing.assert_close(lp.double(), ref, atol=1e-5, rtol=0)
    torch.testing.assert_close(-gen.token_nll(tokens).double(), ref, atol=1e-5, rtol=0)


def _chi2_pvalue_ok(counts: torch.Tensor, probs: torch.Tensor, n: int) -> float:
    """Pearson chi-square statistic over cells with expected count >= 5, divided by its dof."""
    expected = probs * n
    keep = expected >= 5
    stat = float((((counts - expected) ** 2) / expected)[keep].sum())
    dof = int(keep.sum()) - 1
    return (stat - dof) / math.sqrt(2 * dof)  # approx. standard normal under H0


@pytest.mark.parametrize("V", [5, 13, 100])  # 13: prime, exercises the zero-padded last block
def test_sample_categorical_is_exact(V):
    g = torch.Generator().manual_seed(V)
    logits = torch.randn(V, generator=g) * 2
    logits[1] = float("-inf")  # a zero-probability token is never drawn
    n = 200_000
    draws = sample_categorical(logits.expand(n, V), g)
    assert draws.shape == (n,) and int(draws.min()) >= 0 and int(draws.max()) < V
    counts = torch.bincount(draws, minlength=V).double()
    assert counts[1] == 0
    probs = torch.softmax(logits.double(), 0)
    assert abs(_chi2_pvalue_ok(counts, probs, n)) < 4.5  # a 4.5-sigma band: false alarm ~1e-5


def test_draw_matches_sample_categorical_and_temperature(tiny_gen_cfg):
    gen = build_generator(tiny_gen_cfg, torch.Generator().manual_seed(0))
    h = torch.randn(1000, tiny_gen_cfg.hidden_dim, generator=torch.Generator().manual_seed(1))
    a = gen.draw(h, torch.Generator().manual_seed(4))
    b = sample_categorical(gen.logits(h), torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    # temperature -> 0 approaches argmax: wherever the top two logits differ by more than
    # 30 temperatures, any other token has probability below V * exp(-30) ~ 1e-12. Rows
    # with a closer pair are left out (their draw is a fair coin between near-equals, and
    # which rows they are moves with the last bits of the machine's float arithmetic).
    T = 1e-4
    cold = gen.draw(h, torch.Generator().manual_seed(4), temperature=T)
    z = gen.logits(h).detach()
    top2 = z.topk(2, dim=1).values
    clear = top2[:, 0] - top2[:, 1] > 30 * T
    assert clear.sum() >= 950
    assert torch.equal(cold[clear], z.argmax(1)[clear])


def test_block_size_divides_or_pads():
    assert _block_size(5000) == 50 and 5000 % 50 == 0
    assert _block_size(13) == 3 and 13 % 3 != 0


def test_sequences_follow_the_model(tiny_gen_cfg):
    """Whole sampled sequences: the first token's frequencies match p(y_1), and a fixed
    seed repeats exactly."""
    gen = build_generator(tiny_gen_cfg, torch.Generator().manual_seed(0))
    s1 = gen.sample(20_000, torch.Generator().manual_seed(9))
    s2 = gen.sample(20_000, torch.Generator().manual_seed(9))
    assert torch.equal(s1, s2) and s1.shape == (20_000, tiny_gen_cfg.seq_len)
    p1 = torch.softmax(gen(s1[:1])[0, 0].detach().double(), 0)
    counts = torch.bincount(s1[:, 0], minlength=tiny_gen_cfg.vocab_size).double()
    assert abs(_chi2_pvalue_ok(counts, p1, 20_000)) < 4.5
    # mean log-likelihood of the samples approaches minus the entropy of the first step
    ent = float(-(p1 * p1.log()).sum())
    assert abs(float(-gen.log_probs(s1)[:, 0].mean().detach()) - ent) < 0.05


def test_mle_loss_is_mean_token_nll_and_training_lowers_it(tiny_gen_cfg):
    g = torch.Generator().manual_seed(0)
    teacher = build_generator(tiny_gen_cfg, g)
    data = teacher.sample(512, g)
    gen = build_generator(tiny_gen_cfg, g)
    ref = F.cross_entropy(gen(data[:8]).reshape(-1, tiny_gen_cfg.vocab_size), data[:8].reshape(-1))
    torch.testing.assert_close(gen(data[:8], weights=mle_weights(data[:8])), ref)  # the loss mle_epoch computes
    opt = torch.optim.Adam(gen.parameters(), lr=0.01)
    before = gen.nll(data)
    first = mle_epoch(gen, opt, data, 64, 5.0)
    for _ in range(5):
        last = mle_epoch(gen, opt, data, 64, 5.0)
    assert last < first and gen.nll(data) < before - 0.1
