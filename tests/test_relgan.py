"""RelGAN (methods/relgan.py, policies/rmc.py, policies/gumbel.py, models/relgan_discriminator.py):
the Gumbel-max draws against the exact softmax, the relaxed one-hot's limit as beta grows, the RSGAN
loss and the beta schedules by hand, the relational memory's equations written out and its step
against its teacher-forced forward, the discriminator written out, the gradient reaching the
generator through D (as the authors' unrolled graph; none without the relaxation), exact resume
after SIGKILL, torchrun against one process, and the bench's RelGAN rows."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from runs import (GAN, kill_and_resume_equals, metrics_without_timing,
                  train_cli, torchrun_worker, train_finite)


from seqgan.config import GeneratorConfig, Sizes, load_config
from seqgan.data import BOS, EOS, PAD
from seqgan.losses import rsgan_loss
from seqgan.methods.relgan import beta_at, beta_schedule, discriminator_update, generator_update
from seqgan.models import build_generator
from seqgan.models.relgan_discriminator import RelGANDiscriminator
from seqgan.policies import RMCPolicy
from seqgan.policies.gumbel import gumbel_noise, gumbel_sample, relax
from test_policies import chi2_z

RELGAN = {"emb_dim": 8, "num_rep": 4, "filter_sizes": [2, 3], "num_filters": [8, 8], "hidden_dim": 8}
SETS = ["method=relgan", "generator.kind=rmc", "generator.head_size=4"]


@pytest.fixture(scope="module")
def gan_yaml(tiny_config) -> Path:
    return tiny_config(**GAN, relgan=RELGAN)


def rmc(V: int = 7, T: int = 5, seed: int = 0, eos: bool = False, slots: int = 2, heads: int = 2,
        size: int = 3) -> RMCPolicy:
    cfg = GeneratorConfig(kind="rmc", vocab_size=V, emb_dim=5, seq_len=T, mem_slots=slots, num_heads=heads,
                          head_size=size)
    gen = build_generator(cfg, torch.Generator().manual_seed(seed), Sizes(V, T, BOS, EOS) if eos else None)
    with torch.no_grad():  # livelier than the authors' init, so that every term of the equations matters
        for p in gen.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(seed + 1)) * 0.5)
    assert isinstance(gen, RMCPolicy)
    return gen


def disc(V: int, T: int, keep: float = 1.0, seed: int = 1, R: int = 4, E: int = 8) -> RelGANDiscriminator:
    return RelGANDiscriminator(V, T, E, R, [2, 3], [5, 4], keep, 6, torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------------------- Gumbel-softmax

def test_gumbel_max_draws_follow_the_softmax():
    """argmax(o + g) with the authors' noise: frequencies = softmax(o) (chi-square); and the relaxed
    one-hots' mean at a large beta is the same softmax (their limit is the argmax's one-hot)."""
    o = torch.tensor([1.5, -0.3, 0.0, 2.2, -1.0, 0.7])
    n = 60_000
    z = o + gumbel_noise((n, 6), torch.Generator().manual_seed(3), torch.device("cpu"))
    counts = torch.bincount(z.argmax(1), minlength=6).double()
    p = torch.softmax(o.double(), 0)
    assert chi2_z(counts, p) < 4.5
    mean = torch.softmax(z * 1e4, 1).double().mean(0)  # E[relaxed one-hot] at beta -> inf
    assert torch.allclose(mean, p, atol=0.01)
    assert not torch.allclose(torch.softmax(z, 1).double().mean(0), p, atol=0.01)  # at beta = 1 it is not


def test_gumbel_sample_draws_each_sequence_with_the_policy_s_probability():
    """Whole sequences by Gumbel-max (each y_t read as the next input) have the policy's exact
    distribution: enumerated against exp(-NLL) of every sequence."""
    import itertools
    gen = rmc(V=4, T=3, slots=1, heads=2, size=2)
    seqs = [list(s) for s in itertools.product(range(4), repeat=3)]
    x = torch.tensor(seqs)
    probs = torch.exp(-gen.token_nll(x).double().sum(1))
    assert abs(float(probs.sum()) - 1) < 1e-4
    Y, g, o = gumbel_sample(gen, 40_000, torch.Generator().manual_seed(5))
    idx = (Y[:, 0] * 16 + Y[:, 1] * 4 + Y[:, 2])
    assert chi2_z(torch.bincount(idx, minlength=64).double(), probs) < 4.5
    torch.testing.assert_close((o + g).argmax(2), Y)  # the tokens are the noisy logits' argmax
    torch.testing.assert_close(o[:50], gen(Y[:50]), atol=1e-5, rtol=1e-5)  # o: the teacher-forced logits


def test_the_relaxed_one_hot_tends_to_the_argmax_s_one_hot():
    """softmax(beta (o + g)): at beta = 1 by hand; as beta grows every row's distance to the one-hot of
    its token falls, and at beta = 1e4 it is the one-hot wherever the top two noisy logits differ."""
    gen = rmc(V=9, T=6)
    Y, g, o = gumbel_sample(gen, 40, torch.Generator().manual_seed(1))
    torch.testing.assert_close(relax(gen, Y, g, 1.0, logits=o), torch.softmax(o + g, 2))
    hot = F.one_hot(Y, 9).float()
    dist = [(relax(gen, Y, g, beta, logits=o) - hot).abs().sum(2) for beta in (1.0, 3.0, 10.0, 100.0)]
    for a, b in zip(dist, dist[1:]):
        assert (b <= a + 1e-6).all()
    top2 = (o + g).topk(2, dim=2).values
    clear = (top2[..., 0] - top2[..., 1]) > 0.01  # (40, 6)
    assert clear.float().mean() > 0.9
    far = relax(gen, Y, g, 1e4, logits=o)
    assert (far - hot).abs().sum(2)[clear].max() < 1e-6


def test_variable_length_rows_are_pad_after_their_end_and_never_relax_onto_pad_or_bos():
    gen = rmc(V=8, T=6, eos=True)
    Y, g, o = gumbel_sample(gen, 300, torch.Generator().manual_seed(2))
    ended = (Y == EOS).cumsum(1) - (Y == EOS).long() > 0  # positions after each row's first <eos>
    assert ended.any() and (Y[ended] == PAD).all() and not ((Y == PAD) & ~ended).any()
    x = relax(gen, Y, g, 2.0, logits=o)
    torch.testing.assert_close(x[ended], F.one_hot(torch.full((int(ended.sum()),), PAD), 8).float())
    assert (x[~ended][:, [PAD, BOS]] == 0).all()
    torch.testing.assert_close(x.sum(2), torch.ones(300, 6))


# ----------------------------------------------------------------------------- losses and schedules

def test_rsgan_loss_by_hand():
    """L_D = -mean log sigmoid(D_r - D_f), L_G = -mean log sigmoid(D_f - D_r), paired element by element."""
    d_r = torch.tensor([[0.3, -1.2, 2.0], [0.0, 0.5, -0.7]])
    d_f = torch.tensor([[1.1, -0.2, -3.0], [0.4, 0.5, 0.9]])
    pairs = list(zip(d_r.flatten().tolist(), d_f.flatten().tolist()))
    want_d = -sum(math.log(1 / (1 + math.exp(-(r - f)))) for r, f in pairs) / 6
    want_g = -sum(math.log(1 / (1 + math.exp(-(f - r)))) for r, f in pairs) / 6
    assert rsgan_loss(d_r, d_f).item() == pytest.approx(want_d, rel=1e-6)
    assert rsgan_loss(d_f, d_r).item() == pytest.approx(want_g, rel=1e-6)


def test_beta_schedules_are_the_authors_and_start_at_one():
    b, N = 100.0, 5000
    hand = {"no": 100.0, "lin": 1 + 99 * 1234 / 4999, "exp": 100 ** (1234 / 5000),
            "log": 1 + 99 * math.log(1235) / math.log(5000), "sigmoid": 1 + 99 / (1 + math.exp((2500 - 1234) / 250)),
            "quad": 1 + 99 * 1234 ** 2 / 4999 ** 2, "sqrt": 1 + 99 * math.sqrt(1234 / 4999)}
    for kind, want in hand.items():
        assert beta_schedule(kind, b, 1234, N) == pytest.approx(want, rel=1e-12), kind
    c = load_config(None, ["relgan.beta_max=1000"]).section("relgan")
    assert beta_at(c, 0) == 1.0 and beta_at(c, 1) == 1.0  # their variable starts at 1, set after each iteration
    assert beta_at(c, 7) == pytest.approx(1000 ** (6 / 5000))
    # N = 5000 with their 3,000 oracle iterations: beta_max is never reached
    assert beta_at(c, 2999) == pytest.approx(62.92, abs=0.01)
    assert beta_at(load_config(None, []).section("relgan"), 2999) == pytest.approx(15.82, abs=0.01)


# ----------------------------------------------------------------------------- the relational memory

def block_ln(z: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """One row's (R, C) block normalised as a whole, then per-unit gain and bias."""
    mu = z.mean()
    var = ((z - mu) ** 2).mean()
    return (z - mu) / torch.sqrt(var + 1e-12) * gain + bias


def rmc_features_by_hand(gen: RMCPolicy, inputs: torch.Tensor) -> torch.Tensor:
    """The relational memory's equations (module docstring of policies/rmc.py) one row and one step at a
    time, heads in a loop, queries scaled by (2 key + head)^-1/2. inputs (B, T) -> (B, T, N D)."""
    N, nh, hs, D = gen.mem_slots, gen.num_heads, gen.head_size, gen.mem_size
    B, T = inputs.shape
    out = torch.zeros(B, T, N * D)
    for b in range(B):
        mem = torch.zeros(N, D)
        for i in range(min(N, D)):
            mem[i, i] = 1.0
        for t in range(T):
            u = gen.embedding[inputs[b, t]] @ gen.W_in + gen.b_in  # (D,)
            a = torch.cat([mem, u[None]], 0)  # (N+1, D)
            qkv = block_ln(a @ gen.W_qkv, gen.ln_qkv_g, gen.ln_qkv_b)
            heads = []
            for h in range(nh):
                blk = qkv[:, h * 3 * hs:(h + 1) * 3 * hs]
                q, k, v = blk[:, :hs], blk[:, hs:2 * hs], blk[:, 2 * hs:]
                w = torch.softmax((q / math.sqrt(2 * hs + hs)) @ k.T, 1)
                heads.append(w @ v)
            a1 = block_ln(a + torch.cat(heads, 1), gen.ln1_g, gen.ln1_b)
            a2 = block_ln(a1 + torch.relu(a1 @ gen.W_1 + gen.b_1) @ gen.W_2 + gen.b_2, gen.ln2_g, gen.ln2_b)
            gates = torch.tanh(mem) @ gen.W_gm + u @ gen.W_gu  # (N, 2D)
            i_gate, f_gate = torch.sigmoid(gates[:, :D]), torch.sigmoid(gates[:, D:] + 1.0)
            mem = i_gate * torch.tanh(a2[:N]) + f_gate * mem
            out[b, t] = mem.flatten()
    return out


def test_the_relational_memory_is_its_equations_written_out():
    gen = rmc(V=7, T=5, slots=2, heads=2, size=3)
    x = torch.randint(0, 7, (3, 5), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        torch.testing.assert_close(gen.features(x), rmc_features_by_hand(gen, x), atol=2e-5, rtol=1e-4)
    one = rmc(V=7, T=5, slots=1, heads=2, size=3)  # the authors' one slot
    with torch.no_grad():
        torch.testing.assert_close(one.features(x), rmc_features_by_hand(one, x), atol=2e-5, rtol=1e-4)


def test_the_relational_memory_s_step_equals_its_teacher_forced_forward():
    """The decoder's step by step memory equals the teacher-forced pass at every position, and a
    rollout starting from a prefix's teacher-forced state continues it (as the KV cache test)."""
    gen = rmc(V=30, T=9, slots=2)
    Y = gen.sample(5, seed=2)
    full = gen.features(gen.inputs(Y))  # (B, T, N D)
    dec = gen.decoder()
    state = dec.start(5)
    for t in range(9):
        torch.testing.assert_close(state[0], full[:, t], atol=1e-5, rtol=1e-5)
        if t + 1 < 9:
            state = dec.step(state, Y[:, t])
    pre = gen.prefixes(Y)
    rows = torch.tensor([4, 0, 2])
    st = pre.state(3, rows)
    torch.testing.assert_close(st[0], full[rows, 3], atol=1e-5, rtol=1e-5)
    st = dec.step(st, Y[rows, 3])
    torch.testing.assert_close(st[0], full[rows, 4], atol=1e-5, rtol=1e-5)


def test_the_authors_sizes_and_init():
    gen = build_generator(GeneratorConfig(kind="rmc", vocab_size=5000), torch.Generator().manual_seed(0))
    assert isinstance(gen, RMCPolicy) and gen.feature_dim == 512 and gen.W_qkv.shape == (512, 1536)
    torch.testing.assert_close(gen.initial_memory, F.pad(torch.eye(1), (0, 511)))
    assert gen.W_1.std().item() == pytest.approx(512 ** -0.5 * 0.88, rel=0.05)  # N(0, 1/512) truncated at 2 sd
    assert gen.W_1.abs().max().item() <= 2 * 512 ** -0.5
    assert gen.embedding.std().item() == pytest.approx(5000 ** -0.5 * 0.88, rel=0.05)
    assert (gen.b_out == 0).all() and (gen.ln1_g == 1).all() and (gen.ln_qkv_b == 0).all()


# ----------------------------------------------------------------------------- the discriminator

def disc_by_hand(D: RelGANDiscriminator, x: torch.Tensor) -> torch.Tensor:
    """The authors' layout: one-hots @ embedding (B, T, E, 1), conv2d (k x w, stride w along E) per
    width, relu, max over time, (B, R, F) rows, highway without biases, fc, logit. -> (B, R)."""
    B, T, V = x.shape
    emb = (x @ D.embedding)[:, None]  # (B, 1, T, E)
    feats = []
    for w_k, b_k in zip(D.conv_w, D.conv_b):  # (n, w, k)
        kernel = w_k.permute(0, 2, 1)[:, None]  # (n, 1, k, w)
        conv = F.relu(F.conv2d(emb, kernel, b_k, stride=(1, D.width)))  # (B, n, T-k+1, R)
        feats.append(conv.amax(2))  # (B, n, R)
    z = torch.cat(feats, 1).permute(0, 2, 1).reshape(B * D.num_rep, -1)  # (B R, F)
    Fn = z.shape[1]
    Wh, Wt = D.highway_w[:, :Fn], D.highway_w[:, Fn:]
    t = torch.sigmoid(z @ Wt)
    h = t * torch.relu(z @ Wh) + (1 - t) * z
    return ((h @ D.fc_w + D.fc_b) @ D.out_w + D.out_b).view(B, D.num_rep)


def test_the_discriminator_is_its_layout_written_out_and_ids_equal_one_hots():
    V, T = 11, 7
    D = disc(V, T, keep=1.0, R=4, E=8)  # 4 representations of 2 units
    with torch.no_grad():
        for p in D.conv_b:
            p.normal_(0, 0.3)
    ids = torch.randint(0, V, (5, T), generator=torch.Generator().manual_seed(2))
    soft = torch.softmax(torch.randn(5, T, V, generator=torch.Generator().manual_seed(3)) * 3, 2)
    with torch.no_grad():
        torch.testing.assert_close(D(soft), disc_by_hand(D, soft), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(D(ids), disc_by_hand(D, F.one_hot(ids, V).float()), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(D([ids, soft]), torch.cat([D(ids), D(soft)]))
    assert D(ids).shape == (5, 4)


def test_the_authors_discriminator_sizes():
    c = load_config(None, []).section("relgan")
    D = RelGANDiscriminator(5000, 20, c.emb_dim, c.num_rep, c.filter_sizes, c.num_filters, c.dropout_keep,
                            c.hidden_dim)
    assert D.width == 1 and D.highway_w.shape == (1200, 2400) and D.fc_w.shape == (1200, 100)
    assert D.dropout_keep == 0.75 and [w.shape[2] for w in D.conv_w] == [2, 3, 4, 5]


# ----------------------------------------------------------------------------- the gradient through D

def unrolled_generator_loss(gen: RMCPolicy, D: RelGANDiscriminator, real: torch.Tensor, g: torch.Tensor,
                            beta: float) -> torch.Tensor:
    """The authors' graph: one step at a time with autograd, the relaxed one-hot softmax(beta (o_t + g_t))
    sent to D and the hard argmax token (no gradient) read next; L_G = rsgan(D(x~), D(real))."""
    m, T, V = g.shape
    dec = gen.decoder()
    state = dec.start(m)
    soft = []
    for t in range(T):
        o = gen.logits(state[0])
        soft.append(torch.softmax(beta * (o + g[:, t]), 1))
        state = dec.step(state, (o + g[:, t]).argmax(1).detach())
    return rsgan_loss(D(torch.stack(soft, 1)), D(real))


def test_the_gradient_reaches_the_generator_through_d_as_in_the_authors_unrolled_graph():
    """generator_update's step (SGD, lr 1: the change is minus the gradient) equals the gradient of the
    unrolled graph's loss; every generator parameter gets one; D is neither changed nor given gradients."""
    gen = rmc(V=9, T=6, slots=1)
    D = disc(9, 6, keep=1.0)
    Y, g, _ = gumbel_sample(gen, 8, torch.Generator().manual_seed(6))
    real = torch.randint(0, 9, (8, 6), generator=torch.Generator().manual_seed(7))
    ref = unrolled_generator_loss(gen, D, real, g, 2.5)
    grads = torch.autograd.grad(ref, list(gen.parameters()))
    assert all(gr.abs().sum() > 0 for gr in grads)  # the relaxation reaches every generator parameter
    before = [p.detach().clone() for p in gen.parameters()]
    d_before = [p.detach().clone() for p in D.parameters()]
    loss, norm = generator_update(gen, gen, D, torch.optim.SGD(gen.parameters(), lr=1.0), real, Y, g, 2.5,
                                  "gumbel", grad_clip=1e9)
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)
    for (name, p), p0, gr in zip(gen.named_parameters(), before, grads):
        torch.testing.assert_close(p0 - p.detach(), gr, atol=1e-6, rtol=1e-4, msg=name)
    assert norm == pytest.approx(float(torch.sqrt(sum((gr ** 2).sum() for gr in grads))), rel=1e-4)
    assert all(torch.equal(a, b) for a, b in zip(d_before, D.parameters()))
    assert all(p.grad is None for p in D.parameters()) and all(p.requires_grad for p in D.parameters())


def test_without_the_relaxation_nothing_reaches_the_generator():
    gen = rmc(V=9, T=6, slots=1)
    D = disc(9, 6, keep=1.0)
    Y, g, _ = gumbel_sample(gen, 8, torch.Generator().manual_seed(6))
    real = torch.randint(0, 9, (8, 6), generator=torch.Generator().manual_seed(7))
    before = [p.detach().clone() for p in gen.parameters()]
    loss, norm = generator_update(gen, gen, D, torch.optim.Adam(gen.parameters(), lr=0.1), real, Y, g, 2.5,
                                  "none", grad_clip=5.0)
    assert math.isnan(norm) and math.isfinite(loss.item())
    assert all(p.grad is None for p in gen.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, gen.parameters()))
    with torch.no_grad():
        assert loss.item() == pytest.approx(rsgan_loss(D(Y), D(real)).item(), rel=1e-6)  # D saw the hard tokens


def test_the_discriminator_update_is_the_rsgan_step():
    gen = rmc(V=9, T=6, slots=1)
    D = disc(9, 6, keep=1.0)
    Y, g, o = gumbel_sample(gen, 8, torch.Generator().manual_seed(6))
    real = torch.randint(0, 9, (8, 6), generator=torch.Generator().manual_seed(7))
    fake = relax(gen, Y, g, 3.0, logits=o)
    ref = rsgan_loss(D(real), D(fake))
    grads = torch.autograd.grad(ref, list(D.parameters()))
    before = [p.detach().clone() for p in D.parameters()]
    loss, _ = discriminator_update(D, D, torch.optim.SGD(D.parameters(), lr=1.0), real, fake, clip=1e9)
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)
    for p, p0, gr in zip(D.parameters(), before, grads):
        torch.testing.assert_close(p0 - p.detach(), gr, atol=1e-6, rtol=1e-4)


# ----------------------------------------------------------------------------- runs

def test_relgan_resumes_exactly_after_sigkill(gan_yaml, tmp_path):
    ref = tmp_path / "ref"
    sets = SETS + ["adversarial.iterations=30", "relgan.beta_steps=40"]
    train_finite(gan_yaml, ref, "relgan", sets)
    recs = [r for r in metrics_without_timing(ref) if r["phase"] == "adversarial"]
    c = load_config(None, ["relgan.beta_steps=40"]).section("relgan")
    assert [r["beta"] for r in recs] == [pytest.approx(beta_at(c, n)) for n in range(30)]
    assert all(math.isfinite(r["g_grad_norm"]) and r["g_grad_norm"] > 0 for r in recs)
    kill_and_resume_equals(gan_yaml, ref, tmp_path / "run", sets, ["generator.safetensors",
                                                                   "discriminator.safetensors"])


def test_relgan_runs_with_an_lstm_and_the_relational_memory_with_seqgan(gan_yaml, tmp_path):
    """RelGAN with the authors' other generator (their LSTM), and the relational memory under SeqGAN."""
    assert train_cli(gan_yaml, tmp_path / "a", "method=relgan", "adversarial.iterations=2") == 0
    assert train_cli(gan_yaml, tmp_path / "b", "generator.kind=rmc", "generator.head_size=4",
                     "adversarial.iterations=1") == 0
    import seqgan
    for run, kind in (("a", "lstm"), ("b", "rmc")):
        s = json.loads((tmp_path / run / "summary.json").read_text())
        assert all(math.isfinite(v) for ph in s["nll_oracle"].values() for _, v in ph)
        gen = seqgan.load(tmp_path / run)
        assert gen.kind == kind and gen.sample(3, seed=0).shape == (3, 8)


def test_a_reward_control_is_refused_for_relgan(gan_yaml, tmp_path, capsys):
    assert train_cli(gan_yaml, tmp_path / "c", "method=relgan", "reward.kind=constant") == 2
    assert "relgan.relaxation=none" in capsys.readouterr().err


@pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                    reason="needs torch.distributed with gloo")
def test_torchrun_relgan_steps_equal_the_single_process_steps(tmp_path):
    """2 gloo processes, each with half of a fixed batch (real rows, generated rows and their noise):
    one generator update (the relaxed batch through G's DDP wrapper, D frozen) and one discriminator
    update (D's DDP wrapper) equal the single-process updates on the whole batch."""
    w, got = torchrun_worker("dist_relgan_worker")
    BETA, fixed_problem, updates = w.BETA, w.fixed_problem, w.updates
    gen, D, real, Y, g = fixed_problem()
    updates(gen, gen, D, D, real, Y, g, BETA)
    want = {**{f"g.{k}": v for k, v in gen.state_dict().items()}, **{f"d.{k}": v for k, v in D.state_dict().items()}}
    assert set(got) == set(want)
    for k, v in want.items():
        torch.testing.assert_close(got[k], v, atol=1e-5, rtol=1e-5, msg=k)


# ----------------------------------------------------------------------------- the bench

def test_the_bench_has_relgan_rows_at_both_beta_max_with_their_own_preset():
    from seqgan import bench
    rows = bench.row_names()
    assert rows.index("relgan_1000") == rows.index("relgan") + 1
    assert bench.row_names(["relgan_mle"]) == ["relgan"]  # read from the relgan runs
    cfg = bench.row_config("relgan_1000", 2, "oracle", "cpu", "o.npz", [])
    assert (cfg.method, cfg.seed, cfg.relgan.beta_max, cfg.oracle.path) == ("relgan", 2, 1000.0, "o.npz")
    assert cfg.generator.kind == "rmc" and cfg.adversarial.iterations == 600 and cfg.relgan.beta_steps == 1000
    assert bench.row_config("relgan", 0, "oracle", "cpu", None, []).relgan.beta_max == 100.0
    assert bench.row_config("seqgan", 0, "oracle", "cpu", None, []).generator.kind == "lstm"  # unchanged
    assert bench.published("relgan", "oracle")[0] == 6.680 and bench.published("relgan", "oracle40")[0] == 6.765
    assert bench.published("relgan_1000", "oracle") is None


def test_the_bench_tests_relgan_rows_against_their_own_pre_training_paired_by_seed():
    from pathlib import Path

    from scipy import stats

    from seqgan import bench
    from seqgan.compare import RunValues

    def group(row, vals):  # seed -> (nll_oracle, nll_test), listed out of seed order
        return [RunValues(Path(f"{row}__{s}"), "relgan", s, "oracle", {"nll_oracle": o, "nll_test": t})
                for s, (o, t) in vals.items()]
    stage = {0: (9.10, 8.60), 1: (9.14, 8.62), 2: (9.12, 8.61)}
    groups = {"seqgan": group("seqgan", {0: (8.6, 8.9), 1: (8.5, 8.8)}),
              "relgan": group("relgan", {2: (8.80, 8.70), 0: (8.89, 8.64), 1: (8.95, 8.66)}),
              "relgan_1000": group("relgan_1000", {0: (9.00, 8.62), 1: (9.30, 8.70)}),
              "relgan_mle": group("relgan_mle", stage)}
    own = bench.own_stage_tests(groups, ["nll_oracle", "nll_test"])
    assert set(own) == {"relgan", "relgan_1000"}  # SeqGAN's MLE is another row, tested in the table
    assert own["relgan"]["stage"] == "relgan_mle"
    # by hand: (8.89 - 9.10 + 8.95 - 9.14 + 8.80 - 9.12) / 3
    assert own["relgan"]["change"]["nll_oracle"] == pytest.approx((-0.21 - 0.19 - 0.32) / 3)
    assert own["relgan"]["p_value"]["nll_test"] == pytest.approx(
        stats.ttest_rel([8.64, 8.66, 8.70], [8.60, 8.62, 8.61]).pvalue)
    # relgan_1000 holds seeds 0 and 1: paired on those two only
    assert own["relgan_1000"]["change"]["nll_oracle"] == pytest.approx((-0.10 + 0.16) / 2)
    assert own["relgan_1000"]["p_value"]["nll_oracle"] == pytest.approx(
        stats.ttest_rel([9.00, 9.30], [9.10, 9.14]).pvalue)
    assert bench.own_stage_tests({k: v for k, v in groups.items() if k != "relgan_mle"}, ["nll_oracle"]) == {}


@pytest.mark.slow  # the default suite keeps the bench: test_reproduce's bench end to end
def test_reproduce_bench_smoke_with_the_relgan_rows(tmp_path):
    from seqgan.cli import main
    out = tmp_path / "bench"
    assert main(["reproduce", "bench", "--scale", "smoke", "--seeds", "1", "--methods", "relgan_1000",
                 "relgan_mle", "--out", str(out), "-q"]) == 0
    md = (out / "bench.md").read_text()
    for name in ("| RelGAN (beta_max 100) | 1 |", "| RelGAN (beta_max 1000) | 1 |",
                 "| MLE, RelGAN's relational memory (its pre-training) | 1 |", "6.680 (Nie et al. 2019",
                 "| RelGAN (beta_max 1000) | MLE, RelGAN's relational memory (its pre-training) | ",
                 "| NLL-oracle change | p |"):
        assert name in md, name
    sweep = json.loads((out / "bench.json").read_text())["sweep"]
    assert set(sweep) == {"relgan", "relgan_1000", "relgan_mle"}
