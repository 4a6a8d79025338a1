"""LeakGAN (methods/leakgan.py, policies/leakgan.py, rewards/rescale.py): the policy against its
equations computed by hand (Worker, Manager, leaked features, goals), the leak against the
discriminator's own features, the sampler's exact distribution and NLL, the two losses by hand,
the rescaled rewards, the window rollouts, the schedule, load(), exact resume after SIGKILL, and
torchrun against one process."""

from __future__ import annotations

import itertools
import json
import math
from contextlib import nullcontext
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import load_file

from runs import (kill_and_resume_equals, lstm_cell,
                  train_cli, write_corpus, torchrun_worker, train_finite)

from seqgan.config import DiscriminatorConfig, load_config
from seqgan.distributed import SINGLE
from seqgan.methods.leakgan import (AUTHORS_FILTERS_40, discriminator_config, generator_lr, leak_update,
                                    loss_weights, pretrain_schedule)
from seqgan.models.discriminator import Discriminator, PaddedDiscriminator
from seqgan.policies.leakgan import LeakGANPolicy, build_leakgan_policy
from seqgan.rewards.rescale import rescale
from seqgan.rollout import prefix_rewards

from test_policies import chi2_z

V, T, C, H, K_GOAL = 13, 8, 3, 4, 3  # vocabulary, length, window (3 windows: 0-2, 3-5, 6-7), hidden, goal size


def tiny(seed: int = 0, slots: int = 1, V: int = V, T: int = T, c: int = C, eos: bool = False) -> LeakGANPolicy:
    disc = PaddedDiscriminator(DiscriminatorConfig(emb_dim=6, filter_sizes=[1, 2, 3], num_filters=[3, 4, 2],
                                                   dropout_keep=1.0), V, T, torch.Generator().manual_seed(seed + 1))
    tokens = {"start_token": 1, "eos_token": 2} if eos else {"start_token": 0}
    return build_leakgan_policy(V, 5, H, T, disc, K_GOAL, c, slots, 0.5, torch.Generator().manual_seed(seed),
                                **tokens)


def unit(v: torch.Tensor) -> torch.Tensor:
    return v / max(float(v.norm()), 1e-6)


def leaked_by_hand(gen: LeakGANPolicy, y: list[int], t: int) -> torch.Tensor:
    """D's features of the prefix y[:t], the other positions 'no token yet' (-1), by D's plain
    convolution path (no shared tables)."""
    x = torch.tensor([y[:t] + [-1] * (gen.seq_len - t)])
    with torch.no_grad():
        return gen.disc.features(x)[0]


def worker_output(gen: LeakGANPolicy, h: torch.Tensor) -> torch.Tensor:
    """O_t (V, k) in the authors' layout: [h, 1] times their W_worker (H, V k) and b_worker (V k)."""
    Hd, k, Vd = gen.hidden_dim, gen.goal_size, gen.vocab_size
    Wb = gen.W_out.detach().view(Hd + 1, k, Vd).permute(0, 2, 1).reshape(Hd + 1, Vd * k)  # rows: W_worker, b_worker
    return (h @ Wb[:Hd] + Wb[Hd]).view(Vd, k)


def by_hand(gen: LeakGANPolicy, y: list[int], f: list[torch.Tensor] | None = None, slot: int = 0) -> torch.Tensor:
    """log p(. | y_<t) for t = 0..T-1 of one sequence, from the equations one step at a time:
    the Manager reads f_0..f_{T-1}; window k's goal is goal_init[slot] (k = 0), else g_{(k-1)c+1} + .. +
    g_{kc}; the Worker's logits are O_t normalise(G psi). (T, V)."""
    Tn, c, Hd = gen.seq_len, gen.step_size, gen.hidden_dim
    with torch.no_grad():
        f = f or [leaked_by_hand(gen, y, t) for t in range(Tn)]
        h = cm = torch.zeros(Hd)
        g = []
        for t in range(Tn):
            h, cm = lstm_cell(f[t], h, cm, gen.manager_W, gen.manager_U, gen.manager_b)
            g.append(unit(h @ gen.manager_out_W + gen.manager_out_b))
        G = [gen.goal_init[slot]] + [sum(g[(k - 1) * c + 1:k * c + 1]) for k in range(1, gen.windows)]
        hw = cw = torch.zeros(Hd)
        x = gen.embedding[gen.start_token]
        out = []
        for t in range(Tn):
            hw, cw = lstm_cell(x, hw, cw, gen.W, gen.U, gen.b)
            w = unit(G[t // c] @ gen.psi)
            out.append(torch.log_softmax(worker_output(gen, hw) @ w, 0))
            x = gen.embedding[y[t]]
        return torch.stack(out)


# ----------------------------------------------------------------------------- the policy by hand

def test_the_worker_s_distribution_given_a_fixed_goal_by_hand():
    """In the first window the goal is goal_init: p(y_t | y_<t) = softmax(O_t normalise(G psi)), O_t the
    Worker's V x k output; a positive multiple of the goal gives the same distribution (normalised),
    the goal's direction changes it."""
    gen = tiny()
    G = torch.randn(gen.num_features, generator=torch.Generator().manual_seed(5))
    y = [3, 7, 1, 4, 4, 0, 12, 5]
    with torch.no_grad():
        gen.goal_init.copy_(G[None])
        got = torch.log_softmax(gen(torch.tensor([y])), -1)[0]  # (T, V), teacher forced
        hw = cw = torch.zeros(H)
        x = gen.embedding[0]
        for t in range(C):
            hw, cw = lstm_cell(x, hw, cw, gen.W, gen.U, gen.b)
            w = (G @ gen.psi) / (G @ gen.psi).norm()
            torch.testing.assert_close(got[t], torch.log_softmax(worker_output(gen, hw) @ w, 0), atol=1e-5, rtol=1e-5)
            x = gen.embedding[y[t]]
        gen.goal_init.mul_(7.5)
        torch.testing.assert_close(torch.log_softmax(gen(torch.tensor([y])), -1)[0], got)
        gen.goal_init.copy_(-G[None])
        assert not torch.allclose(torch.log_softmax(gen(torch.tensor([y])), -1)[0, :C], got[:C], atol=1e-3)


@pytest.mark.parametrize("slots", [1, 4])
def test_teacher_forcing_decoder_and_prefix_states_equal_the_equations(slots):
    """Every position's distribution, teacher forced (MLE, NLL), stepped by the decoder (sampling) and
    continued from the teacher-forced prefix states (rollouts), equals `by_hand`'s: the leak of each
    prefix, the Manager, the window sums (g_{(k-1)c+1} .. g_{kc}), W_psi and the Worker. With
    goal_init per batch slot, row r uses slot r mod 4. Fails if the leak reads another prefix (e.g. the
    empty one), if the windows sum other goals, or if w is not normalised (checked)."""
    gen = tiny(slots=slots)
    g = torch.Generator().manual_seed(3)
    Y = torch.randint(0, V, (5, T), generator=g)
    with torch.no_grad():
        if slots > 1:
            gen.goal_init.copy_(torch.randn(gen.goal_init.shape, generator=g))
        tf = torch.log_softmax(gen(Y), -1)  # (B, T, V)
        dec = gen.decoder()
        state = dec.start(5)
        pre = gen.prefixes(Y)
        for b in range(5):
            torch.testing.assert_close(tf[b], by_hand(gen, Y[b].tolist(), slot=b % slots), atol=1e-5, rtol=1e-5)
        for t in range(T):
            torch.testing.assert_close(torch.log_softmax(gen.logits(state[0]), -1), tf[:, t], atol=1e-5, rtol=1e-5)
            st = pre.state(t, torch.tensor([4, 0, 2]))
            torch.testing.assert_close(torch.log_softmax(gen.logits(st[0]), -1), tf[[4, 0, 2], t], atol=1e-5,
                                       rtol=1e-5)
            if t + 1 < T:
                state = dec.step(state, Y[:, t])


def test_the_leaked_feature_is_d_s_feature_of_the_same_prefix():
    """f_t, what the Manager reads, is the discriminator's feature of the prefix of t tokens padded with
    'no token yet' (D's embedding row 0): the layer under D's output (D's logits are f W + b), computed
    by D's convolutions, for every prefix of a batch in one call and step by step in the decoder (whose
    Manager state then equals the hand LSTM over those features), and again after D has changed. The
    padding is its own row: f of a prefix differs from f of the same tokens followed by token 0."""
    gen = tiny()
    d = gen.disc
    Y = torch.randint(0, V, (4, T), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        f = gen.leak_prefixes(Y, T)  # (B, T+1, F)
        d.eval()
        for b, t in itertools.product(range(4), range(T + 1)):
            want = leaked_by_hand(gen, Y[b].tolist(), t)
            torch.testing.assert_close(f[b, t], want, atol=1e-5, rtol=1e-5)
            x = torch.tensor([Y[b, :t].tolist() + [-1] * (T - t)])
            torch.testing.assert_close(d(x)[0], want @ d.out_w + d.out_b, atol=1e-5, rtol=1e-5)  # D's last layer
        assert not torch.allclose(f[0, 3], d.features(torch.cat([Y[:1, :3], torch.zeros(1, T - 3, dtype=torch.long)],
                                                                1))[0])
        # the decoder's Manager has read exactly these features
        dec = gen.decoder()
        state = dec.start(4)
        for s in range(T):
            h = c = torch.zeros(4, H)
            for t in range(s + 1):
                h, c = lstm_cell(f[:, t], h, c, gen.manager_W, gen.manager_U, gen.manager_b)
            torch.testing.assert_close(state[3], h, atol=1e-5, rtol=1e-5)
            if s + 1 < T:
                state = dec.step(state, Y[:, s])
        # after a step of D's (fused) Adam the leak reads the new D, not tables kept from the old one
    opt = torch.optim.Adam(d.parameters(), lr=0.1, fused=True)
    d(Y).sum().backward()
    opt.step()
    with torch.no_grad():
        f = gen.leak_prefixes(Y, T)
        for t in range(T + 1):
            torch.testing.assert_close(f[1, t], leaked_by_hand(gen, Y[1].tolist(), t), atol=1e-5, rtol=1e-5)
        # and D(Y) of whole sequences is the plain CNN's with the shifted embedding
        plain = Discriminator(DiscriminatorConfig(emb_dim=6, filter_sizes=[1, 2, 3], num_filters=[3, 4, 2]), V + 1, T)
        plain.load_state_dict(d.state_dict())
        torch.testing.assert_close(d.prob_real(Y), plain.prob_real(Y + 1))


@pytest.mark.parametrize("eos", [False, True], ids=["fixed", "until-eos"])
def test_the_sampler_draws_the_policy_s_exact_distribution_and_nll(eos):
    """Sampled through the shared sampler, the sequences follow exp(-sum token_nll) (chi-square over the
    enumerated support), and token_nll equals the negative log-probabilities of the stepped decoder."""
    Vs, Ts = (4, 4) if not eos else (5, 4)
    gen = tiny(seed=2, V=Vs, T=Ts, c=2, eos=eos)
    from test_policies import padded_sequences, sampler_probs
    if eos:
        seqs = padded_sequences(Vs, Ts)
    else:
        seqs = [list(s) for s in itertools.product(range(Vs), repeat=Ts)]
    x = torch.tensor(seqs)
    nll = gen.token_nll(x)
    probs = sampler_probs(gen, seqs)  # a sequence reaching the last position ends there (issue 22)
    assert abs(float(probs.sum()) - 1) < 1e-4
    # the decoder's log-probabilities along each sequence
    with torch.no_grad():
        dec = gen.decoder()
        state = dec.start(x.shape[0])
        stepped = []
        for t in range(Ts):
            stepped.append(-torch.log_softmax(gen.logits(state[0]), -1).gather(1, x[:, t:t + 1]))
            if t + 1 < Ts:
                state = dec.step(state, x[:, t])
        stepped_nll = torch.cat(stepped, 1).masked_fill(~gen.mask(x), 0.0)
        if eos:  # the <eos> the sampler forces at the last position has probability 1
            stepped_nll[:, -1] = stepped_nll[:, -1].masked_fill(x[:, -1] == gen.eos_token, 0.0)
    torch.testing.assert_close(nll, stepped_nll, atol=1e-5, rtol=1e-5)
    draws = gen.sample(20_000, seed=1)
    index = {tuple(s): i for i, s in enumerate(seqs)}
    counts = torch.zeros(len(seqs), dtype=torch.float64)
    for row in draws.tolist():
        counts[index[tuple(row)]] += 1
    assert chi2_z(counts, probs) < 4.5


# ----------------------------------------------------------------------------- the losses by hand

def _hand_goals(gen: LeakGANPolicy, f: torch.Tensor) -> torch.Tensor:
    """G (B, K, F) from features f (B, T+1, F) by the hand LSTM."""
    B = f.shape[0]
    h = c = torch.zeros(B, H)
    g = []
    for t in range(T):
        h, c = lstm_cell(f[:, t], h, c, gen.manager_W, gen.manager_U, gen.manager_b)
        z = h @ gen.manager_out_W + gen.manager_out_b
        g.append(z / z.norm(dim=1, keepdim=True))
    return torch.stack([gen.goal_init[0].expand(B, -1)]
                       + [sum(g[(k - 1) * C + 1:k * C + 1]) for k in range(1, gen.windows)], 1)


def _cos(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))


@pytest.mark.parametrize("weighting", ["scalar", "per_element"])
def test_the_manager_s_and_worker_s_losses_by_hand_on_fixed_features(weighting):
    """On fixed features f and rewards R: the Manager's loss is the authors' -mean(R) mean_{b,k}
    cos(f_{e_k} - f_{kc}, G_k) ('scalar') or -sum R cos / (B K) ('per_element'), e_k the window's end
    (T for the last, partial one); the Worker's is -mean(cos) mean log p ('scalar'), or each token's
    log p weighted by its cos(f_{t+1} - f_{window start}, G) / (B T); pre-training: mean NLL and
    -mean cos / (B K). Each loss reaches its own module's parameters only."""
    gen = tiny()
    g = torch.Generator().manual_seed(6)
    B = 4
    Y = torch.randint(0, V, (B, T), generator=g)
    f = torch.randn(B, T + 1, gen.num_features, generator=g)
    R = torch.rand(B, gen.windows, generator=g)
    G = _hand_goals(gen, f).detach()
    ends = [min((k + 1) * C, T) for k in range(gen.windows)]
    cos_m = torch.stack([_cos(f[:, ends[k]] - f[:, k * C], G[:, k]) for k in range(gen.windows)], 1)  # (B, K)
    cos_w = torch.stack([_cos(f[:, t + 1] - f[:, (t // C) * C], G[:, t // C]) for t in range(T)], 1)  # (B, T)
    logp = gen.log_probs(Y)  # the teacher-forced model: f of Y's own prefixes
    # the features given are not Y's: the Worker's log p under them, by hand
    logp_f = torch.stack([by_hand(gen, Y[b].tolist(), list(f[b, :T]))[range(T), Y[b]] for b in range(B)])
    assert not torch.allclose(logp, logp_f)
    BK, BT = B * gen.windows, B * T
    wk, mk, stats = loss_weights(gen, Y, f, R, weighting, SINGLE)
    loss = gen(Y, weights=wk, manager_weights=mk, leaked=f)
    if weighting == "scalar":
        want_m = -R.mean() * cos_m.mean()
        want_w = -cos_w.mean() * logp_f.mean()
    else:
        want_m = -(R * cos_m).sum() / BK
        want_w = -(cos_w * logp_f).sum() / BT
    torch.testing.assert_close(loss[1], want_m, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(loss[0], want_w, atol=1e-5, rtol=1e-4)
    assert stats["goal_cos"] == pytest.approx(float(cos_m.mean()), abs=1e-5)
    # pre-training
    wk0, mk0, _ = loss_weights(gen, Y, f, None, weighting, SINGLE)
    loss0 = gen(Y, weights=wk0, manager_weights=mk0, leaked=f)
    torch.testing.assert_close(loss0[1], -cos_m.mean() / BK, atol=1e-6, rtol=1e-4)
    torch.testing.assert_close(loss0[0], -logp_f.mean(), atol=1e-5, rtol=1e-4)
    # each loss trains its own parameters
    worker, manager = gen.worker_parameters(), gen.manager_parameters()
    gm = torch.autograd.grad(loss[1], worker + manager, allow_unused=True)
    gw = torch.autograd.grad(gen(Y, weights=wk, manager_weights=mk, leaked=f)[0], worker + manager, allow_unused=True)
    assert all(x is None or not x.any() for x in gm[:len(worker)]) and all(x is not None for x in gm[len(worker):])
    assert all(x is not None for x in gw[:len(worker)]) and all(x is None or not x.any() for x in gw[len(worker):])


def test_one_update_clips_the_worker_and_the_manager_separately():
    """The step clips each module's gradient to train.grad_clip on its own: after a step with a tiny
    clip, SGD's change of each module is the clip's norm (the authors' two clip_by_global_norm)."""
    gen = tiny()
    Y = torch.randint(0, V, (4, T), generator=torch.Generator().manual_seed(1))
    f = gen.leak_prefixes(Y, T)
    R = torch.rand(4, gen.windows, generator=torch.Generator().manual_seed(2))
    wk, mk, _ = loss_weights(gen, Y, f, R, "per_element", SINGLE)
    before = [p.detach().clone() for p in gen.parameters()]
    cfg = load_config(None, ["method=leakgan", "train.grad_clip=1e-3"])
    run = SimpleNamespace(gen=gen, cfg=cfg, world=SINGLE, optimizers={"pg": torch.optim.SGD(gen.parameters(), lr=1.0)},
                          trained=lambda name: gen, autocast=nullcontext)
    out = leak_update(run, "pg", Y, f, wk, mk)
    assert float(out[2]) > 1e-3 and float(out[3]) > 1e-3  # both were clipped
    moved = {id(p): (p.detach() - b).pow(2).sum() for p, b in zip(gen.parameters(), before)}
    for group in (gen.worker_parameters(), gen.manager_parameters()):
        assert float(sum(moved[id(p)] for p in group)) ** 0.5 == pytest.approx(1e-3, rel=1e-3)


# ----------------------------------------------------------------------------- rewards and rollouts

def test_the_rescaled_activation_by_hand():
    """rank: sigmoid(16 idx / B - 8), idx the value's rank, ties sharing one; first_seen: idx the order of
    first occurrence (the authors' dict order, unrelated to the value). With B = 64 distinct rewards
    the mean over a column divided by 4 rollouts is 0.12695181503855285, the constant reward of
    CR-Gjx/LeakGAN#17, whatever the rewards."""
    q = torch.tensor([[0.3, 0.9], [0.1, 0.2], [0.3, 0.5], [0.7, 0.1]])
    s = lambda i: 1 / (1 + math.exp(-(16 * i / 4 - 8)))  # noqa: E731
    want = torch.tensor([[s(2), s(4)], [s(1), s(2)], [s(2), s(3)], [s(3), s(1)]])
    torch.testing.assert_close(rescale(q), want)
    want_seen = torch.tensor([[s(1), s(1)], [s(2), s(2)], [s(1), s(3)], [s(3), s(4)]])
    torch.testing.assert_close(rescale(q, order="first_seen"), want_seen)
    torch.testing.assert_close(rescale(q, delta=4.0), torch.sigmoid(4 * (torch.tensor(
        [[2, 4], [1, 2], [2, 3], [3, 1]], dtype=torch.float) / 4 - 0.5)))
    r = torch.rand(64, 5, generator=torch.Generator().manual_seed(0))
    assert float((rescale(r) / 4).mean()) == pytest.approx(0.12695181503855285, abs=1e-7)


def test_rollouts_start_at_window_boundaries_through_the_shared_sampler():
    """prefix_rewards rolls out the prefixes of lengths c, 2c, .. only, keeps each prefix, and averages
    N completions per prefix; the last column is the reward of the sequence itself."""
    gen = tiny()
    Y = gen.sample(3, seed=0)
    seen = []

    def reward(x):
        seen.append(x.clone())
        return x[:, -1].float()  # the last token

    q = prefix_rewards(gen, reward, Y, 5, [3, 6], torch.Generator().manual_seed(1))
    assert q.shape == (3, 3)
    first, comp = seen
    assert torch.equal(first, Y) and torch.equal(q[:, 2], Y[:, -1].float())
    dense = comp.view(2, 5, 3, T)  # (prefix, rollout, row, T)
    for i, p in enumerate([3, 6]):
        assert torch.equal(dense[i, :, :, :p], Y[:, :p].expand(5, -1, -1))
        torch.testing.assert_close(q[:, i], dense[i, :, :, -1].float().mean(0))


def test_the_interleaved_schedule():
    """The authors' 10 rounds: 5 D rounds before every 8th of 80 epochs; the bench's 50 epochs and 20 D
    rounds in 10 rounds: 2 before every 5th; one round: every D round before the first epoch."""
    assert pretrain_schedule(80, 50, 10) == [5 if e % 8 == 0 else 0 for e in range(80)]
    assert pretrain_schedule(50, 20, 10) == [2 if e % 5 == 0 else 0 for e in range(50)]
    assert pretrain_schedule(4, 6, 1) == [6, 0, 0, 0]
    assert sum(pretrain_schedule(7, 9, 3)) == 9 and pretrain_schedule(0, 5, 2) == []


def test_settings_leakgan_does_not_have_are_refused(gan_yaml, tmp_path, capsys):
    from seqgan.cli import main
    for bad, key in (("generator.kind=gru", "generator.kind=gru"), ("adversarial.rollout_update_rate=0.8",
                                                                     "adversarial.rollout_update_rate"),
                     ("leakgan.step_size=8", "leakgan.step_size=8"),
                     ("pretrain.select=best_valid", "pretrain.select=best_valid")):
        assert main(["train", "--config", str(gan_yaml), "--out", str(tmp_path / bad), "-q", "--set",
                     "method=leakgan", "--set", bad]) == 2
        assert key in capsys.readouterr().err


def test_the_authors_settings_are_the_defaults():
    cfg = load_config(None, ["method=leakgan"])
    c = cfg.section("leakgan")
    assert (c.goal_size, c.step_size, c.rollout_num, c.pretrain_rounds) == (16, 4, 4, 10)
    assert generator_lr(cfg, 20) == 0.0015 and generator_lr(cfg, 40) == 0.0005
    d = discriminator_config(cfg, 20)
    assert (d.lr, d.dropout_keep, d.l2, d.emb_dim) == (5e-5, 1.0, 0.0, 64)
    assert (discriminator_config(cfg, 40).filter_sizes, discriminator_config(cfg, 40).num_filters) \
        == AUTHORS_FILTERS_40
    disc = PaddedDiscriminator(d, 50, 20)
    assert sum(disc.num_filters) == 1720 and disc.embedding.shape == (51, 64)


# ----------------------------------------------------------------------------- runs

def test_load_restores_the_discriminator_the_generator_reads(gan_yaml, tmp_path):
    """`seqgan.load` gives back the generator with the discriminator of the same moment (the final one,
    the one at the end of pre-training with mle=True, a checkpoint's), and evaluating it reproduces the
    run's own NLL-test at the end of each phase. Fails when the run does not save the discriminator
    beside generator_mle.safetensors, or load() does not restore it (checked)."""
    import seqgan
    from seqgan import checkpoint as ckpt
    from seqgan.api import evaluate_run
    out = tmp_path / "run"
    assert train_cli(gan_yaml, out, "method=leakgan", "adversarial.iterations=2") == 0
    s = json.loads((out / "summary.json").read_text())
    # (equal up to the float sums of another thread count: the run had train.threads=1)
    assert evaluate_run(out)["nll_test"] == pytest.approx(s["nll_test"]["adversarial"][-1][1], abs=1e-5)
    assert evaluate_run(out, mle=True)["nll_test"] == pytest.approx(s["nll_test"]["mle"][-1][1], abs=1e-5)
    final = load_file(str(out / "discriminator.safetensors"))
    mle = load_file(str(out / "discriminator_mle.safetensors"))
    assert not torch.equal(final["highway_w"], mle["highway_w"])
    latest = ckpt.latest_valid(out)
    assert latest is not None
    for gen, want in ((seqgan.load(out), final), (seqgan.load(out, mle=True), mle),
                      (seqgan.load(out, checkpoint=latest.path), latest.module_state("discriminator"))):
        assert all(torch.equal(v, want[k]) for k, v in gen.disc.state_dict().items())
    # what the generator scores depends on the discriminator it reads
    gen = seqgan.load(out)
    Y = gen.sample(64, seed=0)
    nll = gen.nll(Y)
    with torch.no_grad():
        gen.disc.highway_w.mul_(3.0)
    assert abs(gen.nll(Y) - nll) > 1e-4


def test_leakgan_resumes_exactly_after_sigkill(gan_yaml, tmp_path):
    ref = tmp_path / "ref"
    sets = ["method=leakgan", "adversarial.iterations=30"]
    train_finite(gan_yaml, ref, "leakgan", sets)
    kill_and_resume_equals(gan_yaml, ref, tmp_path / "run", sets, ["generator.safetensors",
                                                                   "discriminator.safetensors"])


def test_leakgan_trains_on_variable_length_data(tmp_path):
    """task=data: sequences end at <eos>; the Manager's windows past a sequence's end carry no loss."""
    write_corpus(tmp_path, {"train.txt": 96, "test.txt": 20}, 7)
    cfg = tmp_path / "d.yaml"
    cfg.write_text("seed: 1\ndevice: cpu\ntrain: {batch_size: 16, eval_every: 1, threads: 1, tensorboard: false}\n"
                   "eval: {bleu_samples: 20}\ngenerator: {emb_dim: 6, hidden_dim: 6}\n"
                   "discriminator: {emb_dim: 6, filter_sizes: [2, 3], num_filters: [4, 4]}\n"
                   "pretrain: {generator_epochs: 2, discriminator_rounds: 1, discriminator_epochs: 1}\n"
                   "adversarial: {iterations: 2, discriminator_rounds: 1, discriminator_epochs: 1}\n")
    from seqgan.cli import main
    assert main(["train", "--config", str(cfg), "--data", str(tmp_path / "train.txt"), "--test",
                 str(tmp_path / "test.txt"), "--out", str(tmp_path / "run"), "-q", "--set", "method=leakgan"]) == 0
    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert all(math.isfinite(v) for ph in s["nll_test"].values() for _, v in ph)


@pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                    reason="needs torch.distributed with gloo")
def test_torchrun_update_equals_the_single_process_update(tmp_path):
    """2 gloo processes, each with half of a fixed batch and its window rewards: the rewards are ranked
    over the whole batch, the losses' means are the whole batch's, and the step (clipped) equals one
    process's on the whole batch, with either weighting, and with sequences of different lengths
    (whose owned tokens and windows differ between the ranks)."""
    w, got = torchrun_worker("dist_leakgan_worker")
    PROBLEMS, fixed_problem, one_update = w.PROBLEMS, w.fixed_problem, w.one_update
    for name, weighting, eos in PROBLEMS:
        gen, Y, q, cfg = fixed_problem(weighting, eos)
        losses = one_update(gen, gen, Y, q, cfg, SINGLE)
        torch.testing.assert_close(got[f"{name}.losses"], losses[:2], atol=1e-6, rtol=1e-5)
        for k, v in gen.state_dict().items():
            torch.testing.assert_close(got[f"{name}.{k}"], v, atol=1e-6, rtol=1e-5, msg=f"{name}.{k}")


@pytest.mark.slow  # the default suite keeps the bench: test_reproduce's bench end to end
def test_the_bench_row_is_the_leakgan_preset_and_runs_at_smoke_scale(tmp_path, capsys):
    """`reproduce bench` gives LeakGAN's row its own cpu schedule (bench.PRESETS), which is the `leakgan`
    preset's; at smoke scale the row trains and is reported beside its published number."""
    from seqgan.bench import row_config
    from seqgan.cli import main
    from seqgan.config import diff
    assert diff(row_config("leakgan", 0, "oracle", "cpu", None, []), load_config("leakgan")) == {}
    assert row_config("leakgan", 0, "oracle40", "cpu", None, []).generator.hidden_dim == 64
    assert row_config("seqgan", 0, "oracle", "cpu", None, []).adversarial.iterations == 10  # others: laptop's
    out = tmp_path / "bench"
    assert main(["reproduce", "bench", "--scale", "smoke", "--seeds", "1", "--methods", "leakgan", "--out", str(out),
                 "-q"]) == 0
    assert "| LeakGAN | 1 |" in (out / "bench.md").read_text() and "7.038" in (out / "bench.md").read_text()
