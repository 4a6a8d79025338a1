"""Invariants no other test pins: the discriminator learns real as real; every round draws fresh
negatives; the rollouts of a run use its rollout policy; the moving-average update is the
formula for 0 < rate < 1. Each of those fails under the mutation its name describes (tried by
hand). And with rate 1 the rollout copy stays the generator at the start of the adversarial phase
(its embedding following the generator's; moved here from test_checkpoint)."""

from __future__ import annotations

import copy

import pytest
import torch

from seqgan.cli import main
from seqgan.config import DiscriminatorConfig, GeneratorConfig
from seqgan.models import Discriminator, build_generator
from seqgan.train.adversarial import update_rollout_policy
import seqgan.train.discriminator as dmod
from seqgan import checkpoint as ckpt
from seqgan.train.discriminator import discriminator_round
from seqgan.train.run import make_adam

V, T = 12, 6


def constant_generator(token: int, seed: int = 0):
    gen = build_generator(
        GeneratorConfig(vocab_size=V, emb_dim=4, hidden_dim=4, seq_len=T), torch.Generator().manual_seed(seed)
    )
    with torch.no_grad():
        gen.W_out.zero_()
        gen.b_out.zero_()
        gen.b_out[token] = 60.0
    return gen


def test_the_discriminator_learns_real_as_real_not_the_other_way():
    """Real sequences are all 3s, the generator emits only 7s: after training D(real) -> 1 and
    D(generated) -> 0 (flipped labels would train the opposite)."""
    disc = Discriminator(DiscriminatorConfig(emb_dim=8, filter_sizes=[1, 2], num_filters=[8, 8]), V, T,
                         torch.Generator().manual_seed(0))
    opt = make_adam(disc, 0.01)
    real = torch.full((64, T), 3)
    gen = constant_generator(7)
    for _ in range(5):
        stats = discriminator_round(disc, opt, gen, real, 2, 32, 0.0, torch.Generator().manual_seed(1))
    assert float(disc.prob_real(real).min()) > 0.9
    assert float(disc.prob_real(gen.sample(64, seed=2)).max()) < 0.1
    assert stats.acc_real > 0.9 and stats.acc_fake > 0.9


@pytest.mark.parametrize("negatives, draws", [("round", 1), ("fresh", 3)])
def test_every_round_draws_fresh_negatives(negatives, draws, monkeypatch):
    """Each round samples its own negatives from the generator as it is now (and with
    negatives='fresh' each epoch does): never a cached set from an earlier round."""
    disc = Discriminator(DiscriminatorConfig(emb_dim=8, filter_sizes=[1, 2], num_filters=[4, 4]), V, T,
                         torch.Generator().manual_seed(0))
    opt = make_adam(disc, 1e-3)
    gen = build_generator(GeneratorConfig(vocab_size=V, emb_dim=4, hidden_dim=4, seq_len=T, init_std=1.0),
                          torch.Generator().manual_seed(0))
    drawn = []
    sample = gen.sample

    def recording_sample(n, rng=None, **kw):
        x = sample(n, rng, **kw)
        drawn.append(x)
        return x

    gen.sample = recording_sample  # type: ignore[method-assign]
    trained_on = []  # the negatives each epoch actually trains on, not only what was drawn
    epoch = dmod.discriminator_epoch

    def recording_epoch(model, disc_, opt_, x, y, *args, **kw):
        trained_on.append(x[y == 0])
        return epoch(model, disc_, opt_, x, y, *args, **kw)

    monkeypatch.setattr(dmod, "discriminator_epoch", recording_epoch)

    def rows(x):
        return sorted(map(tuple, x.tolist()))

    rng = torch.Generator().manual_seed(1)
    real = torch.randint(0, V, (64, T), generator=rng)
    for r in range(2):
        discriminator_round(disc, opt, gen, real, 3, 32, 0.0, rng, negatives=negatives)
        assert len(drawn) == draws * (r + 1)
        for e in range(3):  # each epoch trains on the draw of its round (or, 'fresh', of its own epoch)
            assert rows(trained_on[3 * r + e]) == rows(drawn[draws * r + (e if negatives == "fresh" else 0)])
    assert not torch.equal(drawn[0], drawn[-1])
    # the negatives come from the generator as it is at the round: change it, the next round's change
    gen.load_state_dict(constant_generator(5).state_dict())
    discriminator_round(disc, opt, gen, real, 3, 32, 0.0, rng, negatives=negatives)
    assert bool((drawn[-1] == 5).all()) and all(bool((x == 5).all()) for x in trained_on[-3:])


def test_the_moving_average_update_is_the_formula():
    gen = build_generator(
        GeneratorConfig(vocab_size=V, emb_dim=4, hidden_dim=4, seq_len=T), torch.Generator().manual_seed(0)
    )
    roll = build_generator(
        GeneratorConfig(vocab_size=V, emb_dim=4, hidden_dim=4, seq_len=T), torch.Generator().manual_seed(1)
    )
    before = {k: v.clone() for k, v in roll.state_dict().items()}
    update_rollout_policy(roll, gen, 0.8)
    for name, p in roll.named_parameters():
        g = dict(gen.named_parameters())[name]
        expected = g.detach() if name == "embedding" else 0.8 * before[name] + 0.2 * g.detach()
        torch.testing.assert_close(p.detach(), expected, rtol=0, atol=1e-7, msg=name)
    frozen = copy.deepcopy(roll)
    update_rollout_policy(roll, gen, 1.0)  # rate 1: only the embedding follows
    for (name, p), q in zip(roll.named_parameters(), frozen.parameters()):
        if name != "embedding":
            assert torch.equal(p, q)
    assert torch.equal(roll.embedding, gen.embedding)


def test_a_run_rolls_out_with_its_rollout_policy(tiny_yaml, tmp_path, monkeypatch):
    """With a moving-average rollout copy, every g-step's rollouts run the copy, not the generator."""
    import seqgan.train.steps as adv  # where training's g-step calls the rollouts
    seen = []
    real = adv.rollout_rewards

    def recording(policy, reward, Y, n, rng):
        seen.append(policy)
        return real(policy, reward, Y, n, rng)

    monkeypatch.setattr(adv, "rollout_rewards", recording)
    captured = {}
    import seqgan.train.run as run_mod
    setup = run_mod._setup

    def capture(*a, **kw):
        r = setup(*a, **kw)
        captured["run"] = r
        return r

    monkeypatch.setattr(run_mod, "_setup", capture)
    assert main(["train", "--config", str(tiny_yaml), "--out", str(tmp_path / "r"), "-q",
                 "--set", "adversarial.rollout_update_rate=0.5"]) == 0
    run = captured["run"]
    assert len(seen) == 3 and all(p is run.policy for p in seen) and run.policy is not run.gen


def test_moving_average_rollout_starts_from_the_pretrained_generator(tiny_yaml, tmp_path):
    """rollout_update_rate=1 freezes the copy: it must equal the generator at the start of the
    adversarial phase (not its random init), except the embedding, which follows the generator."""
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "-q",
                 "--set", "adversarial.rollout_update_rate=1.0",
                 "--set", "train.checkpoint_every=1", "--set", "train.keep_checkpoints=50"]) == 0
    states = [ckpt.load(p) for p in ckpt.list_checkpoints(out)]
    start_adv = next(c for c in states if c.state["train_state"]["phase"] == "adversarial")
    final = states[-1]
    for k in ("W", "U", "b", "W_out", "b_out"):
        assert torch.equal(final.tensors[f"rollout.{k}"], start_adv.tensors[f"generator.{k}"]), k
    assert not torch.equal(final.tensors["generator.W_out"], start_adv.tensors["generator.W_out"])
    assert torch.equal(final.tensors["rollout.embedding"], final.tensors["generator.embedding"])

