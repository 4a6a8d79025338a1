"""RelGAN's settings (section `relgan`): the adversarial phase and the discriminator, which share
nothing with SeqGAN's (no rollouts, no rounds of epochs, another discriminator). Defaults are the
authors' code as it runs (weilinie/RelGAN @ 7402725: run.py, models/rmc_vanilla.py,
oracle/oracle_gan/oracle_train.py, oracle/experiments/oracle_relgan.py; reference §4).

What RelGAN shares with the other methods stays in their sections: the generator
(`generator.kind=rmc` is its relational memory), MLE pre-training (`pretrain.generator_epochs`,
`pretrain.generator_lr`; the authors: 150 epochs at Adam 1e-2), the number of adversarial
iterations (`adversarial.iterations`; the authors' oracle script 3,000, COCO 2,000), the batch
(`train.batch_size`, 64) and the generator's gradient clip (`train.grad_clip`, 5). The `relgan`
preset sets those to the authors' values; `relgan-cpu` is a CPU-sized schedule. SeqGAN's
`discriminator` section, the other `adversarial` keys, `pretrain.discriminator_*` (RelGAN does not
pre-train its discriminator) and `reward` do not apply."""

from __future__ import annotations

from typing import Literal

from seqgan.section import Section, in_unit_interval, positive

BetaSchedule = Literal["exp", "lin", "log", "sigmoid", "quad", "sqrt", "no"]


class RelGANConfig(Section):
    beta_max: float = 100.0
    """method=relgan: the largest inverse temperature beta_max of the Gumbel-softmax (the authors' `temperature`):
    the relaxed one-hot D sees is softmax(beta (o_t + g_t)). 100: RelGAN(100), the largest of the authors' oracle
    script (jobs 2, 5, 10, 100) and their COCO/EMNLP jobs 0-3 (jobs 4-7: 1000); run.py's argparse default is
    1000."""
    beta_schedule: BetaSchedule = "exp"
    """How beta rises with the iteration n (the authors' `adapt`, oracle_train.py get_fixed_temperature), with
    N = beta_steps: 'exp' beta_max^(n/N) (theirs), 'lin' 1 + n/(N-1) (beta_max-1), 'log' 1 + (beta_max-1) ln(n+1) /
    ln N, 'sigmoid' 1 + (beta_max-1) / (1 + exp((N/2 - n) 20/N)), 'quad' 1 + (beta_max-1) n^2/(N-1)^2, 'sqrt' 1 +
    (beta_max-1) sqrt(n/(N-1)), 'no' beta_max throughout. Iteration 0 runs at beta = 1 and iteration n >= 1 at
    the schedule's value for n - 1: their temperature variable starts at 1 and is set after each iteration."""
    beta_steps: int = 5000
    """N of the schedule: hard-coded 5000 in the authors' code, whatever the number of iterations, so with their
    3,000 oracle (2,000 COCO) iterations beta never reaches beta_max: with 'exp' their last iteration runs at
    beta_max^(2998/5000), 15.8 for 100 and 62.9 for 1000 (COCO: 6.3 and 15.8). Set it to about
    adversarial.iterations for beta to reach beta_max by the end (with 'exp' the last iteration runs at
    beta_max^((iterations - 2) / N))."""
    relaxation: Literal["gumbel", "none"] = "gumbel"
    """'gumbel' (RelGAN): D scores the relaxed one-hots softmax(beta (o_t + g_t)) of the generated sequences, so its
    gradient reaches the generator. 'none' (a control): D scores their hard one-hots; no gradient reaches the
    generator, which then stays where pre-training left it while D trains."""
    generator_lr: float = 1e-4
    """Adam learning rate of the adversarial generator updates (the authors' gadv_lr; betas 0.9, 0.999)."""
    generator_steps: int = 1
    """Generator updates per iteration (the authors' gsteps), each on a fresh batch of generated and real
    sequences."""
    discriminator_steps: int = 5
    """Discriminator updates per iteration after the generator's (dsteps), each on one fresh generated batch and
    one random batch of the real data (the authors pick one of the real data's fixed batches)."""
    discriminator_lr: float = 1e-4
    """Adam learning rate of the discriminator (d_lr; betas 0.9, 0.999)."""
    discriminator_clip: float = 5.0
    """Global-norm gradient clip of the discriminator's updates (the authors': 5, as the generator's)."""
    emb_dim: int = 64
    """The discriminator's embedding width (dis_emb_dim): each one-hot or relaxed one-hot row times a (V, emb_dim)
    embedding, split into num_rep representations of emb_dim / num_rep units."""
    num_rep: int = 64
    """Representations (num_rep): the CNN runs on each of the emb_dim / num_rep-wide slices with the same filters,
    and each gives a logit, so D outputs batch x num_rep logits (the authors' 64, of width 1)."""
    filter_sizes: list[int] = [2, 3, 4, 5]
    """Convolution widths in tokens (the authors' 2, 3, 4, 5), each <= the sequence length."""
    num_filters: list[int] = [300, 300, 300, 300]
    """Filters per width (the authors' 300 each: 1,200 features per representation)."""
    dropout_keep: float = 0.75
    """Keep probability of the dropout after the highway layer, on in every discriminator pass of training (the
    authors': tf.nn.dropout at 0.75, in the generator's updates too)."""
    hidden_dim: int = 100
    """Width of the linear layer between the highway features and the logit (the authors' fc, 100, no
    nonlinearity)."""

    def problems(self, prefix: str) -> list[str]:
        errs = positive(self, prefix, "generator_lr", "generator_steps", "discriminator_lr", "discriminator_clip",
                        "emb_dim", "num_rep", "hidden_dim", "beta_steps")
        errs += in_unit_interval(self, prefix, "dropout_keep", open_low=True)
        if self.beta_max < 1.0:
            errs.append(f"{prefix}.beta_max={self.beta_max} must be >= 1 (the schedules rise from 1 to beta_max)")
        if self.beta_steps < 2 and self.beta_schedule in ("lin", "quad", "sqrt", "log"):
            errs.append(f"{prefix}.beta_steps={self.beta_steps} must be >= 2 with beta_schedule={self.beta_schedule}")
        if self.discriminator_steps < 0:
            errs.append(f"{prefix}.discriminator_steps={self.discriminator_steps} must be >= 0")
        if self.emb_dim > 0 and self.num_rep > 0 and self.emb_dim % self.num_rep:
            errs.append(f"{prefix}.emb_dim={self.emb_dim} must be a multiple of {prefix}.num_rep={self.num_rep}")
        if len(self.filter_sizes) != len(self.num_filters) or not self.filter_sizes:
            errs.append(f"{prefix}.filter_sizes ({len(self.filter_sizes)} values) and {prefix}.num_filters "
                        f"({len(self.num_filters)} values) must be non-empty lists of the same length")
        if any(k <= 0 for k in self.filter_sizes) or any(n <= 0 for n in self.num_filters):
            errs.append(f"{prefix}.filter_sizes and {prefix}.num_filters must be positive")
        return errs
