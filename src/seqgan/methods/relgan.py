"""RelGAN (Nie, Narodytska, Patel, ICLR 2019): relational memory, Gumbel-softmax relaxation and
multiple representations in the discriminator.

No rewards and no rollouts: the generator's samples are relaxed (`seqgan.policies.gumbel`), so the
discriminator's gradient reaches the generator through the relaxed one-hots and D's embedding.

  pre-train G by MLE on the real data S (`pretrain`; the authors: 150 epochs, Adam 1e-2)
  repeat (adversarial.iterations), iteration n at inverse temperature beta_n (1 at n = 0, then the
    schedule's value for n - 1: the authors update it after each iteration)
    g-steps (relgan.generator_steps): X_r a random batch of S; Y ~ G by Gumbel-max, y_t = argmax(o_t + g_t),
        each y_t read as the next input; x~ = softmax(beta_n (o + g)) with o = G's logits of Y;
        L_G = -mean_{b,r} log sigmoid(D(x~)[b, r] - D(X_r)[b, r]); one Adam step (relgan.generator_lr),
        global-norm clip train.grad_clip; D is not updated
    d-steps (relgan.discriminator_steps): a fresh X_r and a fresh relaxed x~ (no gradient to G);
        L_D = -mean_{b,r} log sigmoid(D(X_r)[b, r] - D(x~)[b, r]); one Adam step (relgan.discriminator_lr),
        clip relgan.discriminator_clip
    evaluate every train.eval_every iterations, with G's plain softmax (NLL-oracle, NLL-test; the
    relaxation is for the adversarial updates only; `generate` and `sweep` likewise)

D (`seqgan.models.relgan_discriminator`) gives B x R logits, one per sequence and representation,
and the real and generated logits are paired elementwise, row b and representation r of each (the
authors' sigmoid cross-entropy of D_r - D_f). Its dropout is on in both updates, as theirs.

Settings: section `relgan` (seqgan/methods/options/relgan.py); the generator is any
`generator.kind` (RelGAN's relational memory is `rmc`; the authors' oracle script also runs their
LSTM), MLE pre-training is the `pretrain` section's. With relgan.relaxation=none D scores the hard
one-hots and no gradient reaches G (a control).
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from typing import Any, Optional

import torch
from torch import Tensor

from seqgan.distributed import all_reduce_sum
from seqgan.losses import rsgan_loss
from seqgan.models.relgan_discriminator import RelGANDiscriminator
from seqgan.perf import Autocast
from seqgan.plan import EVALUATE, ADVERSARIAL, Build, Models, Part, Phase
from seqgan.policies import Policy
from seqgan.policies.gumbel import gumbel_sample, relax
from seqgan.section import ConfigError
from seqgan.train.run import STREAM_DISCRIMINATOR_INIT, Run
from seqgan.train.steps import mle_phase

#: published NLL-oracle by bench task: (value, source)
PUBLISHED = {
    "oracle": (6.680, "Nie et al. 2019, synthetic table, length 20; quoted second-hand in weilinie/RelGAN#22, "
                      "not read in the paper; the author says it used beta_max = 1"),
    "oracle40": (6.765, "Nie et al. 2019, synthetic table, length 40, their own oracle; quoted second-hand in "
                        "weilinie/RelGAN#22, not read in the paper"),
}


def beta_schedule(kind: str, beta_max: float, i: int, N: int) -> float:
    """The authors' get_fixed_temperature(beta_max, i, N, adapt) (oracle_train.py): beta after iteration i."""
    if kind == "no":
        return beta_max
    if kind == "lin":
        return 1 + i / (N - 1) * (beta_max - 1)
    if kind == "exp":
        return float(beta_max ** (i / N))
    if kind == "log":
        return 1 + (beta_max - 1) / math.log(N) * math.log(i + 1)
    if kind == "sigmoid":
        return (beta_max - 1) / (1 + math.exp((N / 2 - i) * 20 / N)) + 1
    if kind == "quad":
        return (beta_max - 1) / (N - 1) ** 2 * i ** 2 + 1
    if kind == "sqrt":
        return (beta_max - 1) / math.sqrt(N - 1) * math.sqrt(i) + 1
    raise ValueError(f"unknown beta schedule {kind!r}")


def beta_at(c: Any, n: int) -> float:
    """The inverse temperature of adversarial iteration n: 1 at n = 0 (the authors' variable starts at 1),
    then the schedule's value for n - 1 (they set it after each iteration)."""
    return 1.0 if n == 0 else beta_schedule(c.beta_schedule, c.beta_max, n - 1, c.beta_steps)


def check(cfg: Any, sizes: Any, world: Any) -> None:
    """The settings method=relgan cannot run, refused before the run directory is written."""
    if cfg.reward.kind != "discriminator":
        raise ConfigError(f"reward.kind={cfg.reward.kind} has no meaning for method=relgan (no rewards); its "
                          "control is relgan.relaxation=none")
    too_long = [k for k in cfg.section("relgan").filter_sizes if k > sizes.seq_len]
    if too_long:
        raise ConfigError(f"relgan.filter_sizes {too_long} are longer than the sequences ({sizes.seq_len} "
                          f"positions); remove them")


def build(b: Build) -> Models:
    c = b.cfg.section("relgan")
    D = RelGANDiscriminator(b.sizes.vocab_size, b.sizes.seq_len, c.emb_dim, c.num_rep, c.filter_sizes,
                            c.num_filters, c.dropout_keep, c.hidden_dim,
                            torch.Generator().manual_seed(b.init_seed(STREAM_DISCRIMINATOR_INIT)))
    return Models(modules={"discriminator": D},
                  optimizers={"discriminator": b.adam(D, c.discriminator_lr),
                              "adversarial": b.adam(b.gen, c.generator_lr)},
                  distributed=("discriminator",))


def real_batch(run: Run) -> Tensor:
    """One of the real data's fixed batches (this rank's share), picked at random, as the authors'
    random_batch. (B, T)"""
    B = run.batch
    i = int(torch.randint(run.real.shape[0] // B, (1,), generator=run.rngs["train"], device=run.rngs["train"].device))
    return run.real[i * B:(i + 1) * B]


def generated_batch(run: Run) -> tuple[Tensor, Tensor, Tensor]:
    """A fresh batch of this rank's share: Y (B, T) by Gumbel-max, its noise g and logits o (B, T, V)."""
    return gumbel_sample(run.gen, run.batch, run.rngs["train"])


def generator_update(model: torch.nn.Module, gen: Policy, D: RelGANDiscriminator, opt: torch.optim.Optimizer,
                     real: Tensor, Y: Tensor, g: Tensor, beta: float, relaxation: str, grad_clip: float,
                     rng: Optional[torch.Generator] = None, autocast: Autocast = nullcontext) -> tuple[Tensor, float]:
    """L_G = rsgan(D(x~), D(X_r)) with x~ = softmax(beta (o + g)), o = model(Y) G's teacher-forced logits
    (`model`: G or its DDP wrapper), and one Adam step of G with global-norm clipping. D's parameters
    get no gradient. relaxation 'none': D scores Y's hard one-hots, nothing reaches G and G is not
    updated. real, Y (b, T), g (b, T, V). Returns (the loss, the gradient norm before clipping or nan)."""
    gen.train()
    D.train()
    D.requires_grad_(False)  # D is not updated here: no gradients for its parameters
    try:
        with autocast():
            with torch.no_grad():
                d_real = D(real, rng).float()  # (b, R)
            if relaxation == "none":
                fake: Tensor = Y
            else:
                fake = relax(gen, Y, g, beta, logits=model(Y).float())  # (b, T, V), through autograd
            d_fake = D(fake, rng).float()  # (b, R)
        loss = rsgan_loss(d_fake, d_real)
    finally:
        D.requires_grad_(True)
    if not loss.requires_grad:  # no relaxation: no gradient reaches G
        return loss.detach(), math.nan
    opt.zero_grad(set_to_none=True)
    loss.backward()  # under DDP: gradients averaged over ranks = the global batch's mean loss
    norm = float(torch.nn.utils.clip_grad_norm_(gen.parameters(), grad_clip))
    opt.step()
    return loss.detach(), norm


def discriminator_update(model: torch.nn.Module, D: RelGANDiscriminator, opt: torch.optim.Optimizer, real: Tensor,
                         fake: Tensor, clip: float, rng: Optional[torch.Generator] = None,
                         autocast: Autocast = nullcontext) -> tuple[Tensor, Tensor]:
    """L_D = rsgan(D(X_r), D(x~)) and one Adam step of D with global-norm clipping. `model`: D or its DDP
    wrapper; real (b, T) ids, fake (b, T, V) relaxed one-hots (or (b, T) ids), no gradient to G.
    Returns (the loss, the share of pairs whose real logit beats the generated one)."""
    D.train()
    with autocast():
        d = model([real, fake], dropout_generator=rng).float()  # (2b, R): one pass (DDP: one forward, one backward)
    b = real.shape[0]
    loss = rsgan_loss(d[:b], d[b:])
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(D.parameters(), clip)
    opt.step()
    return loss.detach(), (d[:b] > d[b:]).float().mean().detach()


def global_mean(run: Run, x: Tensor) -> float:
    return float(all_reduce_sum(x.float(), run.world)) / run.world.size


def generator_step(run: Run, beta: float) -> dict[str, Any]:
    """A random real batch, a fresh generated batch, one generator update."""
    t0 = time.perf_counter()
    c = run.cfg.section("relgan")
    real = real_batch(run)
    Y, g, _ = generated_batch(run)
    loss, norm = generator_update(run.trained("generator"), run.gen, run.models["discriminator"],  # type: ignore[arg-type]
                                  run.optimizers["adversarial"], real, Y, g, beta, c.relaxation,
                                  run.cfg.train.grad_clip, run.rngs["train"], run.autocast)
    out: dict[str, Any] = {"g_loss": global_mean(run, loss), "beta": beta}
    if not math.isnan(norm):
        out["g_grad_norm"] = norm
    out["g_step_s"] = round(time.perf_counter() - t0, 3)
    return out


def discriminator_step(run: Run, beta: float) -> dict[str, Any]:
    """A random real batch, a fresh relaxed generated batch (no gradient to G), one discriminator update."""
    t0 = time.perf_counter()
    c = run.cfg.section("relgan")
    real = real_batch(run)
    Y, g, o = generated_batch(run)
    fake = Y if c.relaxation == "none" else relax(run.gen, Y, g, beta, logits=o)
    loss, acc = discriminator_update(run.trained("discriminator"), run.models["discriminator"],  # type: ignore[arg-type]
                                     run.optimizers["discriminator"], real, fake, c.discriminator_clip,
                                     run.rngs["train"], run.autocast)
    return {"d_loss": global_mean(run, loss), "d_real_beats_fake": global_mean(run, acc),
            "d_steps_s": round(time.perf_counter() - t0, 3)}


def plan(run: Run) -> list[Phase]:
    c = run.cfg.section("relgan")

    def iteration(n: int) -> list[Part]:
        beta = beta_at(c, n)
        g: list[Part] = [lambda: generator_step(run, beta)] * c.generator_steps
        d: list[Part] = [lambda: discriminator_step(run, beta)] * c.discriminator_steps
        return g + d + [EVALUATE]

    return [mle_phase(run),
            Phase(ADVERSARIAL, run.cfg.adversarial.iterations, iteration, desc="RelGAN",
                  log_line="adversarial training...", show=("g_loss", "d_loss"))]
