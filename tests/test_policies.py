"""The policy interface: every kind's sampler draws its exact distribution (the relational
memory's step against its teacher-forced forward is in test_relgan.py), the Transformer's KV
cache equals its full forward, rollouts keep their prefixes, the policy gradient equals a loop
written out by hand, and the one sampler reproduces the round-1 LSTM loops bit for bit."""

from __future__ import annotations

import copy
import itertools
import math
import sys
from pathlib import Path

import pytest
import torch

from seqgan.config import GeneratorConfig, Sizes
from seqgan.data import BOS, EOS, PAD
from seqgan.models import build_generator
from seqgan.policies import Policy
from seqgan.policies.sampler import complete
from seqgan.train.adversarial import pg_update

sys.path.insert(0, str(Path(__file__).parent))
from legacy.lstm_round1 import LSTMLM  # noqa: E402
from legacy.rollout_round1 import sample_completions, sample_completions_until_eos  # noqa: E402
from runs import lstm_cell  # noqa: E402

KINDS = ["lstm", "gru", "transformer", "rmc"]


def make(kind: str, V: int = 6, T: int = 4, eos: bool = False, seed: int = 0, std: float = 0.8) -> Policy:
    cfg = GeneratorConfig(kind=kind, vocab_size=V, emb_dim=8, hidden_dim=8, seq_len=T, init_std=std,
                          num_layers=2, num_heads=2, mem_slots=2, head_size=4)
    return build_generator(cfg, torch.Generator().manual_seed(seed), Sizes(V, T, BOS, EOS) if eos else None)


def chi2_z(counts: torch.Tensor, probs: torch.Tensor) -> float:
    """Pearson's chi-square over cells with expected count >= 5, as a z-score."""
    n = float(counts.sum())
    expected = probs * n
    keep = expected >= 5
    stat = float((((counts - expected) ** 2) / expected)[keep].sum())
    dof = int(keep.sum()) - 1
    return (stat - dof) / math.sqrt(2 * dof)


def padded_sequences(V: int, T: int) -> list[list[int]]:
    """Every variable-length sequence of the vocabulary (tokens other than <pad>, <bos>, <eos>):
    at most T - 1 tokens, ended by <eos> (at the last position at the latest) and padded to T."""
    tokens = [v for v in range(V) if v not in (PAD, BOS, EOS)]
    return [list(body) + [EOS] + [PAD] * (T - n - 1) for n in range(T) for body in itertools.product(tokens, repeat=n)]


def sampler_probs(gen: Policy, seqs: list[list[int]]) -> torch.Tensor:
    """p(sequence) as NLL scores it, exp(-sum token_nll): with <eos>, a sequence that reaches the last
    position ends there whatever is drawn, and token_nll charges that <eos> nothing (issue 22)."""
    return torch.exp(-gen.token_nll(torch.tensor(seqs)).double().sum(1))  # (S,)


def ended_at_the_last_position(rows: torch.Tensor) -> torch.Tensor:
    """What the sampler makes of the round-1 sampler's rows (R, T): a row without <eos> gets it at its
    last position, every other token the same (the draw there is still made: the stream is unchanged)."""
    rows = rows.clone()
    rows[~(rows == EOS).any(1), -1] = EOS
    return rows


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("eos", [False, True], ids=["fixed", "until-eos"])
def test_each_kind_samples_its_exact_distribution(kind, eos):
    V, T = (4, 3) if not eos else (6, 3)
    gen = make(kind, V, T, eos)
    seqs = [list(s) for s in itertools.product(range(V), repeat=T)] if not eos else padded_sequences(V, T)
    probs = sampler_probs(gen, seqs)
    assert abs(float(probs.sum()) - 1) < 1e-4  # the enumeration is the whole support
    n = 40_000
    draws = gen.sample(n, seed=1)
    index = {tuple(s): i for i, s in enumerate(seqs)}
    counts = torch.zeros(len(seqs), dtype=torch.float64)
    for row in draws.tolist():
        counts[index[tuple(row)]] += 1  # a KeyError would be a sequence outside the support
    assert chi2_z(counts, probs) < 4.5


def test_transformer_kv_cache_equals_the_full_forward():
    gen = make("transformer", V=30, T=9, std=0.5)
    Y = gen.sample(5, seed=2)
    full = gen.features(gen.inputs(Y))  # (B, T, D), all positions at once
    dec = gen.decoder()
    state = dec.start(5)
    for t in range(9):
        torch.testing.assert_close(state[0], full[:, t], atol=1e-5, rtol=1e-5)
        assert state[1].shape[3] == t + 1  # the cache holds the t + 1 tokens read so far
        if t + 1 < 9:
            state = dec.step(state, Y[:, t])
    # the teacher-forced prefix states continue like the cached ones
    pre = gen.prefixes(Y)
    rows = torch.tensor([4, 0, 2])
    st = pre.state(3, rows)
    torch.testing.assert_close(st[0], full[rows, 3], atol=1e-5, rtol=1e-5)
    st = dec.step(st, Y[rows, 3])
    torch.testing.assert_close(st[0], full[rows, 4], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_rollouts_keep_their_prefixes_and_follow_the_conditionals(kind):
    V, T, N = 4, 4, 3000
    gen = make(kind, V, T)
    Y = torch.tensor([[0, 2, 1, 1], [2, 2, 0, 1]])
    comp, p, n, b = complete(gen, Y, N, torch.Generator().manual_seed(8))
    dense = comp.view(T - 1, N, 2, T)
    for plen in range(1, T):
        assert torch.equal(dense[plen - 1, :, :, :plen], Y[:, :plen].expand(N, -1, -1))
    with torch.no_grad():
        for row, plen in itertools.product(range(2), (1, 2)):
            suffixes = list(itertools.product(range(V), repeat=T - plen))
            full = torch.tensor([Y[row, :plen].tolist() + list(s) for s in suffixes])
            exact = gen.log_probs(full)[:, plen:].sum(1).exp().double()
            exact = exact / exact.sum()
            index = {s: i for i, s in enumerate(suffixes)}
            counts = torch.zeros(len(suffixes), dtype=torch.float64)
            for r in dense[plen - 1, :, row, plen:].tolist():
                counts[index[tuple(r)]] += 1
            assert chi2_z(counts, exact) < 4.5, (row, plen)


def written_out_log_probs(gen: Policy, Y: torch.Tensor) -> torch.Tensor:
    """log p(y_t | y_<t) (B, T) by hand, one position at a time, with autograd: the recurrent kinds
    step their cell equations from the start token; the Transformer and the relational memory
    rerun their forward on each prefix (no cache) and read the last position."""
    B, T = Y.shape
    out = []
    if gen.kind in ("transformer", "rmc"):
        for t in range(T):
            inputs = gen.inputs(Y)[:, : t + 1]
            h = gen.features(inputs)[:, -1]
            out.append(torch.log_softmax(h @ gen.W_out + gen.b_out, 1)[torch.arange(B), Y[:, t]])
        return torch.stack(out, 1)
    H = gen.hidden_dim
    h = torch.zeros(B, H)
    c = torch.zeros(B, H)
    x = gen.embedding[torch.full((B,), gen.start_token)]
    for t in range(T):
        W, U, b = gen.W, gen.U, gen.b
        if gen.kind == "lstm":
            h, c = lstm_cell(x, h, c, W, U, b)
        else:  # GRU, Cho et al. 2014
            r = torch.sigmoid(x @ W[:, :H] + h @ U[:, :H] + b[:H])
            z = torch.sigmoid(x @ W[:, H:2 * H] + h @ U[:, H:2 * H] + b[H:2 * H])
            n = torch.tanh(x @ W[:, 2 * H:] + (r * h) @ U[:, 2 * H:] + b[2 * H:])
            h = (1 - z) * n + z * h
        out.append(torch.log_softmax(h @ gen.W_out + gen.b_out, 1)[torch.arange(B), Y[:, t]])
        x = gen.embedding[Y[:, t]]
    return torch.stack(out, 1)


@pytest.mark.parametrize("kind", KINDS)
def test_policy_gradient_of_each_kind_equals_a_loop_written_out(kind):
    gen = make(kind, V=12, T=6, std=0.5)
    Y = gen.sample(7, seed=1)
    Q = torch.rand(Y.shape, generator=torch.Generator().manual_seed(2))
    ref = copy.deepcopy(gen)
    loss = -(written_out_log_probs(ref, Y) * Q).sum()
    grads = torch.autograd.grad(loss, list(ref.parameters()))
    # pg_update with SGD(lr=1): the parameter change is minus the gradient
    ours = copy.deepcopy(gen)
    before = [p.detach().clone() for p in ours.parameters()]
    stats = pg_update(ours, torch.optim.SGD(ours.parameters(), lr=1.0), Y, Q, "none", "sum", 1e9, lm=ours)
    assert stats.loss == pytest.approx(float(loss.detach()), rel=1e-5)
    for (name, p), p0, g in zip(ours.named_parameters(), before, grads):
        torch.testing.assert_close(p0 - p.detach(), g, atol=2e-5, rtol=1e-4, msg=name)


# ----------------------------------------------------------------------------- the round-1 LSTM loops

def legacy_twin(gen: Policy) -> LSTMLM:
    old = LSTMLM(gen.vocab_size, gen.emb_dim, gen.hidden_dim, gen.seq_len, gen.start_token, gen.eos_token)
    old.load_state_dict({k: v for k, v in gen.state_dict().items()})
    return old


@pytest.mark.parametrize("eos", [False, True], ids=["fixed", "until-eos"])
@pytest.mark.parametrize("compact", [True, False])
def test_the_one_sampler_reproduces_the_round_1_lstm_bit_for_bit(eos, compact):
    gen = make("lstm", V=50, T=8, eos=eos, std=0.8)
    old = legacy_twin(gen)
    kw = {"compact": compact} if eos else {}
    ref_samples = old.sample(300, seed=5, **kw)
    if eos:
        ref_samples = ended_at_the_last_position(ref_samples)
    assert torch.equal(gen.sample(300, seed=5, **kw), ref_samples)
    Y = gen.sample(6, seed=6)
    if eos:
        new = complete(gen, Y, 4, torch.Generator().manual_seed(7), compact)
        ref = sample_completions_until_eos(old, Y, 4, torch.Generator().manual_seed(7), compact)
        assert torch.equal(new[0], ended_at_the_last_position(ref[0]))
        for a, b in zip(new[1:], ref[1:]):
            assert torch.equal(a, b)
    else:
        comp = complete(gen, Y, 4, torch.Generator().manual_seed(7))[0].view(7, 4, 6, 8)
        assert torch.equal(comp, sample_completions(old, Y, 4, torch.Generator().manual_seed(7)))
    ref_nll = old.token_nll(Y)
    if eos:  # round 1 charged the <eos> the sampler now forces at the last position; it costs 0
        ref_nll[:, -1] = ref_nll[:, -1].masked_fill(Y[:, -1] == gen.eos_token, 0.0)
    assert torch.equal(gen.token_nll(Y), ref_nll)
