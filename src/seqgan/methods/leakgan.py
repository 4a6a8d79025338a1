"""LeakGAN (Guo et al., AAAI-18, arXiv 1709.08624): long text generation via adversarial training
with leaked information, as the authors' code runs it (CR-Gjx/LeakGAN, "Synthetic Data/").

The generator (`seqgan.policies.leakgan`) is a Manager LSTM that reads the discriminator's
feature f_t of the prefix (its max-pool -> highway layer, "leaked") and emits unit goals in
feature space, summed over windows of c = 4 steps, and a Worker LSTM whose |V| x k output O_t
is steered by the goal's embedding w = normalise(G W_psi), k = 16: p(y_t | y_<t) =
softmax(O_t w). The discriminator is the paper's CNN with a padding row for unfinished
prefixes (`PaddedDiscriminator`).

  interleaved pre-training (pretrain.*, leakgan.pretrain_rounds R = 10 rounds), each round:
      its share of pretrain.discriminator_rounds (the authors: 5) discriminator rounds: fresh
        oracle positives (leakgan.fresh_real) and as many fresh negatives, pretrain.discriminator_epochs (3)
      its share of pretrain.generator_epochs (the authors: 8 of 80) MLE epochs over the real data:
        the Worker by maximum likelihood,  L_W = -1/(B T) sum_{b,t} log G(y_t | y_<t)
        the Manager towards the feature change of its window,
                                           L_M = -mean_{b,k} cos(f_{e_k} - f_{kc}, G_k) / (B K)
        (K = T / c windows, e_k = min((k+1)c, T); the authors' extra 1/(B K) kept)
  repeat (adversarial.iterations; the authors: 800)
    g-step: sample Y ~ G (B = 64); Q[b, k] = mean of leakgan.rollout_num (4) rollouts of Y[b, :kc]
            scored by D, k = 1..K-1, and D(Y[b]) for the last window;
            R = rescale(Q) / rollout_num: per window, the bootstrapped rescaled activation
            sigmoid(delta (idx / B - 1/2)), idx the reward's rank (`seqgan.rewards.rescale`)
            L_M = -mean(R) mean_{b,k} cos(f_{e_k} - f_{kc}, G_k)      ('scalar', the authors' code)
            L_W = -mean_{b,t} cos(f_{t+1} - f_{c floor(t/c)}, G_{floor(t/c)}) mean_{b,t} log G(y_t | y_<t)
            (leakgan.weighting='per_element': R[b, k] and each token's cosine weight their own terms)
            one Adam step on both, each clipped to train.grad_clip on its own parameters
    d-steps: adversarial.discriminator_rounds (5) rounds of adversarial.discriminator_epochs (3), as above

NLL-oracle is evaluated after the g-step, before the d-steps, as the authors do; at
temperature 1 (see `leakgan.logit_scale` for their sharpened samples). The Worker's losses
train the Worker (with W_psi), the Manager's the Manager (with goal_init): the authors'
two optimizers, here one Adam over both (Adam's update is per parameter) with the two clips.

Departures from the authors' code, each a named option or forced:
- one window convention for sampling and training (the policy's docstring): forced, their
  sampling graph and their losses disagree by one step;
- rewards rescaled by their rank (leakgan.rescale='rank'; theirs, 'first_seen', numbers them in
  an order unrelated to the reward);
- the 1.5 logit multiplier off (leakgan.logit_scale=1.0, the author's own later code);
- one shared goal_init (leakgan.goal_init='shared'; theirs is one row per batch slot);
- the unused W_workerOut_change and the decaying learning-rate schedules they build but never
  connect are not built.
Settings: section `leakgan` (seqgan/methods/options/leakgan.py); the discriminator's size and
the schedule are the `discriminator`, `pretrain`, `adversarial` sections'. The authors' schedule
is pretrain.generator_epochs=80, pretrain.discriminator_rounds=50, pretrain.discriminator_epochs=3,
adversarial.iterations=800, adversarial.discriminator_rounds=5, adversarial.discriminator_epochs=3,
adversarial.batch_size=64 (the `leakgan` preset's comments; its values are a CPU-sized schedule).
"""

from __future__ import annotations

import time
from typing import Any, Optional

import torch
from torch import Tensor

from seqgan.config import ConfigError, DiscriminatorConfig, Sizes
from seqgan.distributed import all_gather_rows, all_reduce_sum
from seqgan.models.discriminator import PaddedDiscriminator
from seqgan.plan import EVALUATE, MLE, Build, Models, Part, Phase
from seqgan.policies.leakgan import LeakGANPolicy, build_leakgan_policy
from seqgan.rewards import DiscriminatorReward, Reward
from seqgan.rewards.rescale import rescale
from seqgan.rollout import prefix_rewards
from seqgan.train import discriminator
from seqgan.train.run import STREAM_DISCRIMINATOR_INIT, Run, stream_seed
from seqgan.train.steps import adversarial_phase, adversarial_reward, objective_metrics, save_mle_baseline

#: published NLL-oracle by bench task: (value, source)
PUBLISHED = {"oracle": (7.038, "Guo et al. 2018, Table 1; recalled, not verified here; their code scores samples "
                               "sharpened by a 1.5 logit multiplier"),
             "oracle40": (7.191, "Guo et al. 2018, Table 1, their own length-40 oracle; recalled, not verified here")}

#: the authors' length-40 discriminator: 14 widths zipped with 13 counts, so width 40 is dropped
AUTHORS_FILTERS_40 = ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 30],
                      [100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160, 160])


# ============================================================================ declarations

def discriminator_config(cfg: Any, seq_len: int) -> DiscriminatorConfig:
    """The `discriminator` section with LeakGAN's learning rate, dropout and L2 (section `leakgan`), and
    with filter_sizes null and leakgan.authors_filters the authors' widths for the length."""
    c, d = cfg.section("leakgan"), cfg.discriminator
    update: dict[str, Any] = {"lr": c.discriminator_lr, "dropout_keep": c.discriminator_dropout_keep,
                              "l2": c.discriminator_l2}
    if d.filter_sizes is None and c.authors_filters and seq_len == 40:
        update.update(filter_sizes=AUTHORS_FILTERS_40[0], num_filters=AUTHORS_FILTERS_40[1])
    return d.model_copy(update=update)  # type: ignore[no-any-return]


def generator_lr(cfg: Any, seq_len: int) -> float:
    """leakgan.generator_lr, or the authors' for the length: 0.0015 up to 20, 0.0005 above."""
    lr = cfg.section("leakgan").generator_lr
    return float(lr) if lr is not None else (0.0015 if seq_len <= 20 else 0.0005)


def build_generator(cfg: Any, sizes: Sizes, generator: Optional[torch.Generator]) -> LeakGANPolicy:
    """The Manager and Worker (sizes of the `generator` section, the authors' N(0, 0.1) init) and the
    discriminator they read, initialised from the run's discriminator stream."""
    c, g = cfg.section("leakgan"), cfg.generator
    check_kind(g.kind)  # `seqgan generate` and `load` reach this without `check`
    disc = PaddedDiscriminator(discriminator_config(cfg, sizes.seq_len), sizes.vocab_size, sizes.seq_len,
                               torch.Generator().manual_seed(stream_seed(cfg.seed, STREAM_DISCRIMINATOR_INIT)))
    slots = cfg.train.batch_size if c.goal_init == "per_slot" else 1
    return build_leakgan_policy(sizes.vocab_size, g.emb_dim, g.hidden_dim, sizes.seq_len, disc, c.goal_size,
                                c.step_size, slots, g.init_std, generator, start_token=sizes.start_token,
                                eos_token=sizes.eos_token)


def build(b: Build) -> Models:
    """The discriminator the generator reads (trained by gradient, wrapped under torchrun), its Adam,
    and the generator's two Adams (pre-training, adversarial) at the authors' learning rate."""
    gen = b.gen
    assert isinstance(gen, LeakGANPolicy)
    lr = generator_lr(b.cfg, b.sizes.seq_len)
    return Models(modules={"discriminator": gen.disc},
                  optimizers={"mle": b.adam(gen, lr), "pg": b.adam(gen, lr),
                              "discriminator": b.adam(gen.disc, b.cfg.section("leakgan").discriminator_lr)},
                  distributed=("discriminator",))


# ============================================================================ the losses' weights

def loss_weights(gen: LeakGANPolicy, Y: Tensor, f: Tensor, R: Optional[Tensor], weighting: str,
                 world: Any) -> tuple[Tensor, Tensor, dict[str, float]]:
    """The coefficients of LeakGAN's two losses on a batch Y (b, T) with leaked features f (b, T+1, F):
    (Worker's (b, T) on -log G(y_t | y_<t), Manager's (b, K) on -cos(f_{e_k} - f_{kc}, G_k), statistics).

    R None (pre-training): the mean NLL and the mean cosine / (B K). R (b, K), the rescaled rewards: with
    'scalar' the Worker's coefficient is the batch's mean cosine cos(f_{t+1} - f_{window start}, G) / (B T)
    and the Manager's sum(R) / (B K)^2; with 'per_element' each token's cosine / (B T) and R[b, k] / (B K).
    B counts the global batch: under torchrun (world of K processes) the statistics are reduced over the
    ranks and the coefficients multiplied by K (DDP averages the ranks' gradients), so that the step
    equals one process's on the whole batch. Variable length: only the tokens a sequence owns and the
    windows that start inside it count."""
    b, T = Y.shape
    reduce = (lambda x: all_reduce_sum(x, world)) if world.distributed else (lambda x: x)
    tokens = gen.mask(Y).float()  # (b, T)
    starts, _ = gen.window_bounds(Y.device)
    ends = tokens.sum(1) - 1  # (b,) the last position each row owns
    windows = (starts[None, :] <= ends[:, None]).float()  # (b, K)
    n = reduce(torch.stack([tokens.sum(), windows.sum()]))  # owned tokens and windows of the global batch
    n_tok, n_win, k = n[0], n[1], float(world.size)
    if R is None:
        return tokens * (k / n_tok), windows * (k / n_win ** 2), {}
    with torch.no_grad():
        G = gen.window_goals(gen.manager(f[:, :T])[2])
        cos_w, cos_m = gen.worker_cosines(f, G), gen.goal_cosines(f, G)  # (b, T), (b, K)
    sums = reduce(torch.stack([(cos_w * tokens).sum(), (cos_m * windows).sum(), (R * windows).sum()]))
    mean_cos_w, mean_cos_m, sum_r = sums[0] / n_tok, sums[1] / n_win, sums[2]
    if weighting == "scalar":
        wk = tokens * (mean_cos_w * k / n_tok)
        mk = windows * (sum_r * k / n_win ** 2)
    else:
        wk = cos_w * tokens * (k / n_tok)
        mk = R * windows * (k / n_win)
    stats = {"worker_cos": float(mean_cos_w), "goal_cos": float(mean_cos_m), "reward_mean": float(sum_r / n_win)}
    return wk, mk, stats


def leak_update(run: Run, opt_name: str, Y: Tensor, f: Tensor, wk: Tensor, mk: Tensor) -> Tensor:
    """One Adam step (optimizer `opt_name`) on both losses with coefficients wk, mk (`loss_weights`),
    the Worker's and the Manager's gradients clipped to train.grad_clip each. Returns (4,): this
    rank's share of [Worker's loss, Manager's loss] (their sums over ranks are the global losses) and
    the two gradient norms before clipping."""
    gen, opt = run.gen, run.optimizers[opt_name]
    assert isinstance(gen, LeakGANPolicy)
    model = run.trained("generator")
    model.train()
    with run.autocast():
        losses = model(Y, weights=wk, manager_weights=mk, leaked=f)  # (2,)
    opt.zero_grad(set_to_none=True)
    losses.sum().backward()
    clip = run.cfg.train.grad_clip
    gw = torch.nn.utils.clip_grad_norm_(gen.worker_parameters(), clip)
    gm = torch.nn.utils.clip_grad_norm_(gen.manager_parameters(), clip)
    opt.step()
    return torch.cat([losses.detach().float() / run.world.size, torch.stack([gw, gm]).float()])


# ============================================================================ steps

def leak_mle_epoch(run: Run) -> dict[str, Any]:
    """One epoch of pre-training over the real data in order (the authors' pre_train_epoch): the Worker's
    MLE and the Manager's cosine loss, one step per batch."""
    t0 = time.perf_counter()
    gen, data, B, T = run.gen, run.real, run.batch, run.sizes.seq_len
    assert isinstance(gen, LeakGANPolicy)
    tables = gen.leak_tables()  # D does not change during the epoch
    num_batches = data.shape[0] // B
    total = torch.zeros(2, device=data.device)
    for i in range(num_batches):
        Y = data[i * B:(i + 1) * B]  # (B, T)
        f = gen.leak_prefixes(Y, T, tables)  # (B, T+1, F)
        wk, mk, _ = loss_weights(gen, Y, f, None, "scalar", run.world)
        total += leak_update(run, "mle", Y, f, wk, mk)[:2]
    loss = all_reduce_sum(total, run.world) / max(num_batches, 1)
    sequences = num_batches * B * run.world.size
    return {"g_loss": float(loss[0]), "goal_loss": float(loss[1]),
            "samples_per_s": round(sequences / (time.perf_counter() - t0), 1)}


def leak_discriminator_round(run: Run, epochs: int, samples: int) -> dict[str, Any]:
    """`samples` positives (0: as many as the real data): fresh oracle sequences (leakgan.fresh_real, the
    authors') or the real data; as many fresh negatives from G; `epochs` passes."""
    c, d, rng = run.cfg.section("leakgan"), run.disc, run.rngs["train"]
    assert d is not None
    t0 = time.perf_counter()
    n = run.share(samples) if samples else run.real.shape[0]
    if c.fresh_real and run.oracle is not None:
        real, subset = run.oracle.sample(n, rng), 0
    else:
        real, subset = run.real, n
    r = discriminator.discriminator_round(
        d, run.optimizers["discriminator"], run.gen, real, epochs, run.batch, c.discriminator_l2, rng,
        num_samples=subset, model=run.trained("discriminator"), world=run.world, autocast=run.autocast,
        negatives=run.cfg.discriminator.negatives, label_smoothing=run.cfg.discriminator.label_smoothing,
        temperature=1.0 / c.logit_scale)
    return {"d_loss": r.loss, "d_acc_real": r.acc_real, "d_acc_fake": r.acc_fake,
            "d_steps_s": round(time.perf_counter() - t0, 3)}


def window_rewards(run: Run, reward: Reward, Y: Tensor) -> tuple[Tensor, Tensor]:
    """(Q (b, K), R (b, K)) of the g-step's batch Y (b, T): Q the mean reward of leakgan.rollout_num
    rollouts from each window boundary c, 2c, .. (the last column the reward of Y itself), R its
    rescaled activation over the global batch, divided by rollout_num (as the authors)."""
    c = run.cfg.section("leakgan")
    T, step = Y.shape[1], c.step_size
    q = prefix_rewards(run.gen, reward, Y, c.rollout_num, list(range(step, T, step)), run.rngs["train"])
    return q, rescaled_rewards(q, c, run.world)


def rescaled_rewards(q: Tensor, c: Any, world: Any) -> Tensor:
    """rescale(Q) / rollout_num of this rank's rows q (b, K), ranked within the global batch."""
    everyone = all_gather_rows(q, world)  # under torchrun the ranks are taken over every rank's rows
    r = rescale(everyone, c.rescale_delta, c.rescale) / c.rollout_num
    b = q.shape[0]
    return r[world.rank * b:(world.rank + 1) * b] if world.distributed else r


def leak_step(run: Run, reward: Reward) -> dict[str, Any]:
    """One g-step: sample, window rewards, both adversarial losses, one update."""
    t0 = time.perf_counter()
    c, gen, rng, T = run.cfg.section("leakgan"), run.gen, run.rngs["train"], run.sizes.seq_len
    assert isinstance(gen, LeakGANPolicy)
    # the authors' training samples: the first two tokens sharpened by logit_scale (1: none)
    temperature = 1.0 if c.logit_scale == 1.0 else [1.0 / c.logit_scale] * 2 + [1.0] * (T - 2)
    Y = gen.sample(run.pg_batch, rng, temperature)  # (b, T)
    q, R = window_rewards(run, reward, Y)
    f = gen.leak_prefixes(Y, T)
    wk, mk, stats = loss_weights(gen, Y, f, R, c.weighting, run.world)
    out = all_reduce_sum(leak_update(run, "pg", Y, f, wk, mk), run.world)
    res: dict[str, Any] = {"g_loss": float(out[0]), "goal_loss": float(out[1]), **stats,
                           "d_reward_mean": float(all_reduce_sum(q.mean(), run.world)) / run.world.size,
                           "pg_grad_norm": float(out[2]) / run.world.size,
                           "g_step_s": round(time.perf_counter() - t0, 3), **objective_metrics(reward)}
    if run.cfg.train.diagnostics and run.oracle is not None:  # this rank's batch; every token its window's reward
        from seqgan.diagnostics import reward_stats
        window = torch.arange(T, device=Y.device) // c.step_size
        res.update({k: v for k, v in reward_stats(R[:, window], run.oracle.log_probs(Y)).items()
                    if k != "reward_mean"})
    return res


# ============================================================================ phases

def pretrain_schedule(epochs: int, d_rounds: int, rounds: int) -> list[int]:
    """How many discriminator rounds run before each MLE epoch: the rounds of pre-training split both
    evenly (round r starts at epoch r E // R; D round d belongs to round d R // D)."""
    before = [0] * epochs
    if epochs:
        for d in range(d_rounds):
            before[(d * rounds // d_rounds) * epochs // rounds] += 1
    return before


def check_kind(kind: str) -> None:
    if kind != "lstm":
        raise ConfigError(f"generator.kind={kind}: method=leakgan's generator is its own Manager and Worker "
                          "LSTMs (sized by generator.emb_dim and hidden_dim); leave generator.kind at lstm")


def check(cfg: Any, sizes: Sizes, world: Any) -> None:
    """The settings method=leakgan cannot run, refused before the run directory is written."""
    a, p, c = cfg.adversarial, cfg.pretrain, cfg.section("leakgan")
    check_kind(cfg.generator.kind)
    if a.rollout_update_rate is not None:
        raise ConfigError(f"adversarial.rollout_update_rate={a.rollout_update_rate}: method=leakgan rolls out "
                          "with the current generator (as its authors); set it to null")
    if p.select != "last":
        raise ConfigError(f"pretrain.select={p.select}: method=leakgan's pre-training interleaves the generator's "
                          "epochs with rounds of the discriminator it reads, so no epoch's generator can be kept "
                          "without its discriminator; use pretrain.select=last")
    if c.step_size >= sizes.seq_len:
        raise ConfigError(f"leakgan.step_size={c.step_size} must be below the sequence length "
                          f"({sizes.seq_len}): the goals change at window boundaries")


def plan(run: Run) -> list[Phase]:
    a, p, c = run.cfg.adversarial, run.cfg.pretrain, run.cfg.section("leakgan")
    d = run.disc
    assert d is not None
    reward = adversarial_reward(run, DiscriminatorReward(d, a.score_chunk, a.score_tables, run.autocast))
    before = pretrain_schedule(p.generator_epochs, p.discriminator_rounds, c.pretrain_rounds)
    d_pre: Part = lambda: leak_discriminator_round(run, p.discriminator_epochs, p.discriminator_samples)  # noqa: E731
    d_adv: Part = lambda: leak_discriminator_round(run, a.discriminator_epochs, a.discriminator_samples)  # noqa: E731

    def pretrain(epoch: int) -> list[Part]:
        return [d_pre] * before[epoch] + [lambda: leak_mle_epoch(run), EVALUATE]

    def iteration(i: int) -> list[Part]:
        return [lambda: leak_step(run, reward)] * a.generator_steps + [EVALUATE] + [d_adv] * a.discriminator_rounds

    return [Phase(MLE, p.generator_epochs, pretrain, desc="LeakGAN pre-train", log_line="pre-training...",
                  on_end=lambda: save_mle_baseline(run), show=("g_loss", "d_loss")),
            adversarial_phase(run, iteration, desc="LeakGAN")]
