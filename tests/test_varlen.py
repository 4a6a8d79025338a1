"""Variable length with <eos>: sampling stops per row, padding is never trained on, rollouts
complete only unfinished prefixes, and nothing after <eos> carries reward or gradient."""

from __future__ import annotations

import copy
import itertools

import pytest
import torch

from seqgan.config import AdversarialConfig, DiscriminatorConfig, GeneratorConfig, Sizes
from seqgan.data import BOS, EOS, PAD
from seqgan.losses import mle_weights, pg_weights
from seqgan.policies import Policy
from seqgan.models import Discriminator, build_generator
from seqgan.policies.sampler import complete as sample_completions_until_eos
from seqgan.rewards import DiscriminatorReward
from seqgan.rollout import rollout_rewards
from seqgan.train.adversarial import pg_update
from seqgan.train.mle import mle_epoch

V, T = 7, 3  # <pad> <bos> <eos> <unk> a b c; sequences of at most 2 tokens + <eos>
OUTPUTS = [EOS, 3, 4, 5, 6]  # every token the generator may emit


def make_gen(seed: int = 0, T_: int = T, V_: int = V, std: float = 0.8) -> Policy:
    cfg = GeneratorConfig(vocab_size=V_, emb_dim=5, hidden_dim=6, seq_len=T_, init_std=std)
    return build_generator(cfg, torch.Generator().manual_seed(seed), Sizes(V_, T_, BOS, EOS))


def all_sequences(T_: int = T) -> list[list[int]]:
    """Every padded sequence the generator can produce: L < T_ ordinary tokens, then <eos> (at the
    last position at the latest: T_ positions hold max_len = T_ - 1 tokens and their <eos>)."""
    out = []
    for L in range(T_):
        for body in itertools.product(OUTPUTS[1:], repeat=L):
            out.append(list(body) + [EOS] + [PAD] * (T_ - L - 1))
    return out


def sampler_probs(gen: Policy, seqs: list[list[int]]) -> torch.Tensor:
    """p(sequence) as the generator's NLL scores it: exp(-sum of token_nll)."""
    return torch.exp(-gen.token_nll(torch.tensor(seqs)).double().sum(1))  # (S,)


def by_hand_probs(gen: Policy, seqs: list[list[int]]) -> torch.Tensor:
    """Exact p(sequence) under the sampler, from the teacher-forced softmax: the product of the model's
    conditionals of the tokens drawn, where a sequence that reaches the last position ends there (its
    <eos> is written whatever was drawn: probability 1)."""
    Y = torch.tensor(seqs)  # (S, T)
    with torch.no_grad():
        lp = gen.log_probs(gen.targets(Y)).double()  # (S, T) log p(y_t | y_<t)
    lp = lp.masked_fill(~gen.mask(Y), 0.0)
    lp[:, -1] = lp[:, -1].masked_fill(Y[:, -1] == EOS, 0.0)
    return torch.exp(lp.sum(1))


def test_nll_is_the_sampler_s_exact_distribution():
    """exp(-NLL) of every sequence the sampler can draw is its exact probability (the forced <eos> at
    the last position costs nothing), so the probabilities sum to 1: NLL-test scores the distribution
    that is sampled, not the model with its <eos> left to chance at the cap."""
    for T_ in (2, 3, 4):
        gen = make_gen(seed=T_, T_=T_)
        seqs = all_sequences(T_)
        probs = sampler_probs(gen, seqs)
        assert abs(float(probs.sum()) - 1.0) < 1e-6
        torch.testing.assert_close(probs, by_hand_probs(gen, seqs), rtol=1e-5, atol=1e-9)


def chi2_z(counts: torch.Tensor, probs: torch.Tensor) -> float:
    expected = probs * counts.sum()
    keep = expected > 5
    chi2 = float(((counts - expected) ** 2 / expected)[keep].sum())
    dof = int(keep.sum()) - 1
    return (chi2 - dof) / (2 * dof) ** 0.5


@pytest.mark.parametrize("compact", [True, False])
def test_sampling_stops_at_eos_and_draws_the_model_distribution(compact):
    """Both ways of stopping (finished rows leave the batch; or they keep stepping and are
    padded, the host-sync-free CUDA way) draw the model's distribution over whole sequences."""
    gen = make_gen()
    seqs = all_sequences()
    probs = sampler_probs(gen, seqs)  # exact p(sequence)
    assert abs(float(probs.sum()) - 1.0) < 1e-5  # the padded sequences are the whole sample space
    samples = gen.sample(40000, torch.Generator().manual_seed(1), batch=4096, compact=compact)
    mask = gen.mask(samples)
    assert not ((samples == PAD) & mask).any() and not (samples == BOS).any()  # never sampled
    assert ((samples == PAD) == ~mask).all()  # padded exactly after the <eos>
    index = {tuple(s): i for i, s in enumerate(seqs)}
    counts = torch.zeros(len(seqs), dtype=torch.float64)
    for row in samples.tolist():
        counts[index[tuple(row)]] += 1
    assert chi2_z(counts, probs) < 4.5


def test_nll_counts_positions_up_to_eos():
    gen = make_gen()
    x = torch.tensor([[4, EOS, PAD], [5, 6, EOS], [4, 5, 6]])
    nll = gen.token_nll(x)
    assert nll[0, 2] == 0 and (nll[:, :2] > 0).all() and (nll[2] > 0).all()
    assert nll[1, 2] == 0  # row 1's <eos> at the last position is forced: probability 1
    lp = gen.log_probs(gen.targets(x))  # teacher-forced with autograd; the same positions
    own = gen.mask(x)
    own[1, 2] = False
    torch.testing.assert_close(nll[own], -lp.detach()[own])
    assert gen.mask(x).tolist() == [[True, True, False], [True, True, True], [True, True, True]]
    assert abs(gen.nll(x) - float(nll.sum()) / 8) < 1e-6


def scramble_after_eos(x: torch.Tensor, gen: Policy, seed: int) -> torch.Tensor:
    noise = torch.randint(0, V, x.shape, generator=torch.Generator().manual_seed(seed))
    return torch.where(gen.mask(x), x, noise)


def test_mle_never_trains_on_padding():
    gen = make_gen(T_=6)
    x = gen.sample(64, torch.Generator().manual_seed(2))
    assert (~gen.mask(x)).any()
    params = []
    for batch in (x, scramble_after_eos(x, gen, 3)):
        g = copy.deepcopy(gen)
        opt = torch.optim.SGD(g.parameters(), lr=0.5)
        loss = mle_epoch(g, opt, batch, 64, grad_clip=1e9, lm=g)
        params.append((loss, [p.detach().clone() for p in g.parameters()]))
    assert params[0][0] == params[1][0]
    for a, b in zip(params[0][1], params[1][1]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # the loss is the mean teacher-forced NLL of the owned positions only (the <eos> at the cap
    # included: MLE trains that logit, though the sampler forces it and NLL-test does not charge it)
    g = copy.deepcopy(gen)
    loss = mle_epoch(g, torch.optim.SGD(g.parameters(), lr=0.0), x, 64, 1e9, lm=g)
    with torch.no_grad():
        lp = gen.log_probs(gen.targets(x))  # (B, T)
    assert abs(loss - float(-lp[gen.mask(x)].double().mean())) < 1e-5
    # <pad> is only ever an input after the end: its embedding row and output column get no gradient
    g = copy.deepcopy(gen)
    g(x, weights=mle_weights(x, g.mask(x))).backward()  # the loss mle_epoch computes
    assert g.embedding.grad is not None and g.W_out.grad is not None
    assert (g.embedding.grad[PAD] == 0).all() and (g.W_out.grad[:, PAD] == 0).all()
    assert (g.W_out.grad[:, BOS] == 0).all()


class LengthD:
    """A stand-in reward: D(x) = 0.1 + 0.1 * (number of tokens before <eos>)."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return 0.1 + 0.1 * ((x != EOS) & (x != PAD) & (torch.cumsum((x == EOS).long(), 1) == 0)).sum(1).float()


@pytest.mark.parametrize("compact", [True, False])
def test_rollouts_complete_only_unfinished_prefixes(compact):
    gen = make_gen(T_=6)
    Y = gen.sample(32, torch.Generator().manual_seed(4))
    N = 3
    comp, p, n, b = sample_completions_until_eos(gen, Y, N, torch.Generator().manual_seed(5), compact)
    ends = gen.mask(Y).sum(1) - 1  # last owned position
    assert comp.shape[0] == N * int(ends.sum())  # p = 1..end for every row, N times
    assert (p <= ends[b]).all() and (p >= 1).all()
    pos = torch.arange(6)
    prefix = pos[None, :] < p[:, None]
    assert torch.equal(comp[prefix], Y[b][prefix])  # the prefix is kept
    own = gen.mask(comp)
    assert ((comp == PAD) == ~own).all()  # each completion ends at its own <eos>, then <pad>
    assert not (comp == BOS).any()
    for r in range(comp.shape[0]):  # rows are ordered prefix-major, then rollout, then row
        if r:
            assert (int(p[r - 1]), int(n[r - 1]), int(b[r - 1])) < (int(p[r]), int(n[r]), int(b[r]))


def test_rewards_layout_and_masking():
    gen = make_gen(T_=6)
    Y = torch.tensor([[4, 5, EOS, PAD, PAD, PAD], [6, 6, 6, 6, 6, 6], [EOS, PAD, PAD, PAD, PAD, PAD]])
    d = LengthD()
    q = rollout_rewards(gen, d, Y, 4, torch.Generator().manual_seed(6)).rewards  # (3, 6)
    d_y = d(Y)
    assert q[0, 2] == d_y[0] and q[1, 5] == d_y[1] and q[2, 0] == d_y[2]  # the end's value is D(Y)
    assert (q[0, 3:] == 0).all() and (q[2, 1:] == 0).all()  # nothing after <eos>
    # a completion of a prefix of p tokens has at least p tokens: Q >= 0.1 + 0.1 p
    for b, end in ((0, 2), (1, 5)):
        for t in range(end):
            assert q[b, t] >= 0.1 + 0.1 * (t + 1) - 1e-6


@pytest.mark.parametrize("compact", [True, False])
def test_rollout_suffixes_follow_the_model_conditionals(compact):
    gen = make_gen(T_=3)
    Y = torch.tensor([[4, 5, 6]])  # prefixes of 1 and 2 tokens are rolled out
    N = 20000
    comp, p, _, _ = sample_completions_until_eos(gen, Y, N, torch.Generator().manual_seed(7), compact)
    seqs = [s for s in all_sequences(3) if s[0] == 4]
    probs_full = sampler_probs(gen, seqs)
    for plen in (1, 2):
        cand = [s for s in seqs if s[:plen] == [4, 5][:plen]]
        idx = [seqs.index(s) for s in cand]
        pr = probs_full[idx] / probs_full[idx].sum()  # p(suffix | prefix)
        rows = comp[p == plen].tolist()
        counts = torch.tensor([float(rows.count(s)) for s in cand], dtype=torch.float64)
        assert counts.sum() == N
        if len(cand) == 1:  # a prefix of max_len tokens: its completion is its <eos>
            assert plen == 2 and cand == [[4, 5, EOS]]
            continue
        assert chi2_z(counts, pr) < 4.5, plen


@pytest.mark.parametrize("baseline, reduction", [("none", "sum"), ("mean", "mean")])
def test_policy_gradient_ignores_everything_after_eos(baseline, reduction):
    gen = make_gen(T_=6)
    Y = gen.sample(16, torch.Generator().manual_seed(8))
    q = torch.rand(Y.shape, generator=torch.Generator().manual_seed(9)) * gen.mask(Y)
    results = []
    for y, rew in ((Y, q), (scramble_after_eos(Y, gen, 10), q + 100.0 * ~gen.mask(Y))):
        g = copy.deepcopy(gen)
        stats = pg_update(g, torch.optim.SGD(g.parameters(), lr=0.1), y, rew, baseline, reduction, 1e9, lm=g)
        results.append((stats.loss, [p.detach().clone() for p in g.parameters()]))
    assert abs(results[0][0] - results[1][0]) < 1e-4
    for a, b in zip(results[0][1], results[1][1]):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    # equals autograd of the written-out masked formula
    mask = gen.mask(Y).float()
    lp = gen.log_probs(gen.targets(Y))
    qq = q - (q * mask).sum(0) / mask.sum(0).clamp(min=1) if baseline == "mean" else q
    manual = -(lp * qq * mask).sum()
    if reduction == "mean":
        manual = manual / mask.sum()
    torch.testing.assert_close(gen(Y, weights=pg_weights(q, baseline, reduction, gen.mask(Y))), manual)


def test_pg_step_is_sample_then_rollout_rewards_then_update():
    """pg_step on padded sequences: Y from the generator, Q from rollouts of the rollout policy
    scored by the discriminator (the paper's filters for the length), then the update; the same
    random stream driven by hand gives the same sequences, rewards and weights."""
    gen = make_gen(T_=6)
    disc = Discriminator(DiscriminatorConfig(emb_dim=4), V, 6, torch.Generator().manual_seed(0))
    assert disc.filter_sizes == [1, 2, 3, 4, 5, 6]  # the paper's rule for the length
    from seqgan.train.adversarial import pg_step
    reward = DiscriminatorReward(disc)
    policy = make_gen(T_=6, seed=5)  # a rollout policy other than the generator
    a, b = copy.deepcopy(gen), copy.deepcopy(gen)
    stats = pg_step(a, policy, reward, torch.optim.Adam(a.parameters(), lr=0.01), AdversarialConfig(rollout_num=2),
                    8, 5.0, torch.Generator().manual_seed(1))
    rng = torch.Generator().manual_seed(1)
    Y = b.sample(8, rng)
    q = rollout_rewards(policy, reward, Y, 2, rng).rewards
    ref = pg_update(b, torch.optim.Adam(b.parameters(), lr=0.01), Y, q, "none", "sum", 5.0, lm=b)
    assert stats.Y is not None and torch.equal(stats.Y, Y) and torch.equal(stats.q, q)
    assert stats.loss == ref.loss and stats.reward_mean == ref.reward_mean
    torch.testing.assert_close(torch.tensor(stats.reward_mean), q[b.mask(Y)].double().mean().float())
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert 0 < stats.reward_mean < 1
