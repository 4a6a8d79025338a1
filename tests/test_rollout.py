"""Monte Carlo rollout rewards: layout, prefixes, conditionals; the policy-gradient loss."""

from __future__ import annotations

import itertools

import pytest
import torch

from seqgan.config import GeneratorConfig
from seqgan.losses import pg_weights
from seqgan.policies import Policy
from seqgan.models import build_generator
from seqgan.policies.sampler import sample_categorical
from seqgan.policies.sampler import complete
from seqgan.rewards import DiscriminatorReward
from seqgan.rollout import rollout_rewards


class TokenMeanD:
    """A reward that is a known function of the tokens: mean(token) / (V - 1)."""

    def __init__(self, V: int) -> None:
        self.V = V

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return x.double().mean(1).float() / (self.V - 1)


def sample_completions(policy: Policy, Y: torch.Tensor, n: int, g: torch.Generator) -> torch.Tensor:
    """The completions of every prefix in the dense layout (T-1, N, B, T)."""
    B, T = Y.shape
    return complete(policy, Y, n, g)[0].view(T - 1, n, B, T)


def constant_generator(cfg: GeneratorConfig, token: int) -> Policy:
    """Emits `token` with probability 1 - O(e^-60) whatever the prefix."""
    gen = build_generator(cfg, torch.Generator().manual_seed(0))
    with torch.no_grad():
        gen.W_out.zero_()
        gen.b_out.zero_()
        gen.b_out[token] = 60.0
    return gen


def test_reward_layout_matches_hand_computed_values():
    V, T, B, N = 10, 6, 4, 3
    cfg = GeneratorConfig(vocab_size=V, emb_dim=3, hidden_dim=4, seq_len=T)
    gen = constant_generator(cfg, token=2)
    Y = torch.tensor([[9, 0, 5, 1, 7, 3], [1, 1, 1, 1, 1, 1], [8, 7, 6, 5, 4, 3], [0, 9, 0, 9, 0, 9]])
    r = rollout_rewards(gen, TokenMeanD(V), Y, N, torch.Generator().manual_seed(0))
    assert r.rewards.shape == (B, T) and r.completions.shape == (T - 1, N, B, T) and r.scores.shape == (T - 1, N, B)
    expected = torch.empty(B, T)
    for b, t in itertools.product(range(B), range(T)):
        completion = Y[b, : t + 1].tolist() + [2] * (T - t - 1)  # keep t+1 tokens, the rest is 2
        expected[b, t] = sum(completion) / T / (V - 1)
    torch.testing.assert_close(r.rewards, expected)
    torch.testing.assert_close(r.rewards[:, -1], Y.float().mean(1) / (V - 1))  # last column is D(Y)


def test_completions_keep_their_prefix(tiny_gen_cfg):
    gen = build_generator(tiny_gen_cfg, torch.Generator().manual_seed(1))
    Y = gen.sample(5, torch.Generator().manual_seed(2))
    comp = sample_completions(gen, Y, 4, torch.Generator().manual_seed(3))
    T = Y.shape[1]
    for p in range(1, T):
        assert torch.equal(comp[p - 1, :, :, :p], Y[:, :p].expand(4, -1, -1))
    # the sampled parts do vary across rollouts
    assert (comp[0, :, :, 1:] != comp[0, :1, :, 1:]).any()


def loop_completions(gen: Policy, prefix: list[int], n: int, g: torch.Generator) -> list[tuple[int, ...]]:
    """Reference: one rollout at a time, token by token from the start (like the original)."""
    out = []
    T = gen.seq_len
    for _ in range(n):
        tokens = list(prefix)
        while len(tokens) < T:
            logits = gen(torch.tensor([tokens + [0] * (T - len(tokens))]))[0, len(tokens)]
            tokens.append(int(sample_categorical(logits[None], g)[0]))
        out.append(tuple(tokens))
    return out


def test_completions_follow_the_generator_conditionals():
    """On a tiny vocabulary, the suffix frequencies of vectorised completions match the exact
    suffix probabilities (enumerated with log_probs) and a plain per-prefix, per-rollout loop."""
    V, T, N = 3, 4, 3000
    cfg = GeneratorConfig(vocab_size=V, emb_dim=4, hidden_dim=4, seq_len=T, init_std=1.0)
    gen = build_generator(cfg, torch.Generator().manual_seed(7))
    Y = torch.tensor([[0, 2, 1, 1], [2, 2, 0, 1]])
    comp = sample_completions(gen, Y, N, torch.Generator().manual_seed(8))
    g_loop = torch.Generator().manual_seed(9)
    with torch.no_grad():
        for b, p in itertools.product(range(2), (1, 2)):
            suffixes = list(itertools.product(range(V), repeat=T - p))
            full = torch.tensor([Y[b, :p].tolist() + list(s) for s in suffixes])
            exact = gen.log_probs(full)[:, p:].sum(1).exp().double()  # p(suffix | prefix)
            exact = exact / exact.sum()
            index = {s: i for i, s in enumerate(suffixes)}
            ours = torch.zeros(len(suffixes), dtype=torch.float64)
            for row in comp[p - 1, :, b, p:].tolist():
                ours[index[tuple(row)]] += 1
            loop = torch.zeros(len(suffixes), dtype=torch.float64)
            for row in loop_completions(gen, Y[b, :p].tolist(), 600, g_loop):
                loop[index[row[p:]]] += 1
            for counts, n in ((ours, N), (loop, 600)):
                expected = exact * n
                keep = expected >= 5
                chi2 = float(((counts - expected) ** 2 / expected)[keep].sum())
                dof = int(keep.sum()) - 1
                assert (chi2 - dof) / (2 * dof) ** 0.5 < 4.5, (b, p, n, chi2, dof)
                assert float((counts / n - exact).abs().sum()) / 2 < (0.06 if n == N else 0.12)


def test_policy_gradient_equals_autograd_of_the_formula(tiny_gen_cfg):
    gen = build_generator(tiny_gen_cfg, torch.Generator().manual_seed(0))
    Y = gen.sample(6, torch.Generator().manual_seed(1))
    Q = torch.rand(Y.shape, generator=torch.Generator().manual_seed(2))
    B, T = Y.shape

    def grads(loss: torch.Tensor) -> list[torch.Tensor]:
        return [g.clone() for g in torch.autograd.grad(loss, list(gen.parameters()))]

    # written out: L = - sum_b sum_t log softmax(logits_t)[y_t] * Q[b, t], logits from a per-step loop
    h = torch.zeros(B, gen.hidden_dim)
    c = torch.zeros(B, gen.hidden_dim)
    x = gen.embedding[torch.full((B,), gen.start_token)]
    written = torch.zeros(())
    for t in range(T):
        h, c = gen.cell(x @ gen.W + gen.b, h, c)
        logp = torch.log_softmax(h @ gen.W_out + gen.b_out, dim=1)
        written = written - (logp[torch.arange(B), Y[:, t]] * Q[:, t]).sum()
        x = gen.embedding[Y[:, t]]
    ref = grads(written)
    def pg_loss(q: torch.Tensor, **kw: str) -> torch.Tensor:  # as pg_update computes it
        return gen(Y, weights=pg_weights(q, **kw))

    ours = grads(pg_loss(Q))
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    # the named variants
    torch.testing.assert_close(pg_loss(Q, reduction="mean"), pg_loss(Q) / (B * T))
    centred = Q - Q.mean(0, keepdim=True)
    torch.testing.assert_close(pg_loss(Q, baseline="mean"), pg_loss(centred))
    with pytest.raises(ValueError, match="baseline"):
        pg_loss(Q, baseline="ema")
    # rewards carry no gradient into the generator
    Qg = Q.clone().requires_grad_(True)
    pg_loss(Qg).backward()
    assert Qg.grad is None


def test_rollout_is_repeatable_and_uses_the_policy(tiny_gen_cfg, tiny_disc_cfg):
    from seqgan.models import Discriminator
    gen = build_generator(tiny_gen_cfg, torch.Generator().manual_seed(0))
    d = Discriminator(tiny_disc_cfg, tiny_gen_cfg.vocab_size, tiny_gen_cfg.seq_len, torch.Generator().manual_seed(1))
    Y = gen.sample(8, torch.Generator().manual_seed(2))
    a = rollout_rewards(gen, DiscriminatorReward(d, chunk=7), Y, 5, torch.Generator().manual_seed(3))
    b = rollout_rewards(gen, DiscriminatorReward(d, chunk=1000), Y, 5, torch.Generator().manual_seed(3))
    assert torch.equal(a.completions, b.completions)
    torch.testing.assert_close(a.rewards, b.rewards)
    assert float(a.rewards.min()) > 0 and float(a.rewards.max()) < 1
    # Q[:, t] is the mean of the N scores of its completions, scored by D
    torch.testing.assert_close(a.rewards[:, :-1], a.scores.mean(1).t())
    T = Y.shape[1]
    torch.testing.assert_close(a.scores, d.prob_real(a.completions.reshape(-1, T)).view(a.scores.shape))
    # completions come from the rollout policy, not from the generator that sampled Y: a policy
    # that always emits token 4 completes every prefix with 4s
    constant = constant_generator(tiny_gen_cfg, token=4)
    c = rollout_rewards(constant, DiscriminatorReward(d), Y, 3, torch.Generator().manual_seed(3))
    for p in range(1, T):
        assert torch.equal(c.completions[p - 1, :, :, :p], Y[:, :p].expand(3, -1, -1))
        assert bool((c.completions[p - 1, :, :, p:] == 4).all())
    assert not bool((a.completions[0, :, :, 1:] == 4).all())
