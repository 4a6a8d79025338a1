"""LeakGAN's settings (section `leakgan`). The defaults are the authors' synthetic-data code
(CR-Gjx/LeakGAN, "Synthetic Data/", Main.py and LeakGANModel.py), which the paper (Guo et al.,
AAAI-18, arXiv 1709.08624) does not always match; each docstring says what the code does, and
where we depart from it and why. The schedule (MLE epochs, discriminator rounds, adversarial
iterations) and the generator's sizes are the shared sections' (`pretrain`, `adversarial`,
`generator`, `discriminator`); the authors' values for them are in `seqgan/methods/leakgan.py`
and the `leakgan` preset."""

from __future__ import annotations

from typing import Literal, Optional

from seqgan.section import Section, in_unit_interval, positive


class LeakGANConfig(Section):
    goal_size: int = 16
    """method=leakgan: k, the size of the Worker's goal embedding w = normalise(G W_psi): its output is a
    |V| x k matrix O_t and the logits are O_t w (the authors: 16). The Manager's goals G live in the
    discriminator's feature space (1,720 numbers at length 20), not in k."""
    step_size: int = 4
    """c: the Manager's goals are summed over windows of c steps, and the Worker's w changes only at window
    boundaries, from the previous window's sum (the first window uses the trainable goal_init); rollouts
    start at the window boundaries, so a sequence gets ceil(T / c) rewards (the authors: 4)."""
    generator_lr: Optional[float] = None
    """Adam learning rate of the Worker and the Manager, in pre-training and in the adversarial phase alike (the
    authors build decaying schedules but never connect them). null: the authors' value for the length, 0.0015 up
    to length 20 and 0.0005 above (their length-40 setting); pretrain.generator_lr and adversarial.generator_lr
    are not read by leakgan."""
    rollout_num: int = 4
    """Monte Carlo rollouts per window boundary (the authors: 4; adversarial.rollout_num is not read)."""
    pretrain_rounds: int = 10
    """The interleaved pre-training: pretrain.discriminator_rounds discriminator rounds and
    pretrain.generator_epochs MLE epochs are split into this many rounds, each its share of D rounds, then its
    share of MLE epochs (the authors: 10 rounds of 5 D rounds and 8 epochs; 1: all D rounds, then all epochs)."""
    discriminator_lr: float = 5e-5
    """Adam learning rate of the discriminator (the authors: 5e-5; discriminator.lr is not read by leakgan)."""
    discriminator_dropout_keep: float = 1.0
    """Keep probability of the discriminator's dropout in training (the authors: 1.0, no dropout; the leaked
    features are always taken without dropout). discriminator.dropout_keep is not read by leakgan."""
    discriminator_l2: float = 0.0
    """Weight of the L2 penalty on the discriminator's output layer. The authors declare 0.2 but never pass it to
    the discriminator, so it is 0 in effect; discriminator.l2 is not read by leakgan."""
    authors_filters: bool = True
    """With discriminator.filter_sizes null: the authors' widths for the length. At length 20 they are the
    paper's (1..10, 15, 20); at 40 the authors list 14 widths (adding 30 and 40) with 13 counts, and Python's zip
    drops width 40, so their discriminator has 1..10, 15, 20, 30 (100, 200 x 4, 100 x 5, 160 x 3 filters).
    false: the discriminator section's rule (length 40: 1..10, 20, 30, 40). Other lengths: the section's rule."""
    fresh_real: bool = True
    """Oracle task: every discriminator round draws new oracle sequences as its positives, as the authors do
    (their generator's MLE keeps the first 10,000); false: the run's real data, as SeqGAN. task=data: always
    the training data."""
    rescale: Literal["rank", "first_seen"] = "rank"
    """The bootstrapped rescaled activation of the rewards, per window column of a batch of B: the distinct
    values are numbered idx = 1, 2, ... and a value becomes sigmoid(delta (idx / B - 0.5)) / rollout_num.
    'rank': idx is the value's rank, lowest first (the paper's intent: the best sequence gets the largest
    reward). 'first_seen': idx is the order in which the distinct values first occur in the batch, as a Python 3
    dict iterates; the authors' code numbers the values in their dict's iteration order (Python 2's hash order),
    which like this is unrelated to the reward, so the rescaled rewards are a fixed set of values carrying no
    information about D's ranking (CR-Gjx/LeakGAN#17: the mean reward never changes). A plain bug; here the
    intended ranking is the default."""
    rescale_delta: float = 16.0
    """delta of the rescaled activation (the authors' code: 16, i.e. sigmoid(16 idx / B - 8))."""
    weighting: Literal["scalar", "per_element"] = "scalar"
    """The adversarial losses. 'scalar' (the authors' code: tf.losses.cosine_distance reduces to a scalar mean):
    the Manager's loss is -mean(R) x mean over (sequence, window) of cos(f_{(k+1)c} - f_{kc}, G_k), and the
    Worker's is -mean(cos) x mean log G(y_t | y_<t), the cosine of f_{t+1} - f_{window start} with its goal, so
    the rewards scale the mean cosine instead of weighting each window, and the Worker's step is MLE on its own
    samples times a constant. 'per_element' (the paper's and TextGAN-PyTorch's reading): each window's cosine
    weighted by its own reward R[b, k], each token's log-probability by its own cosine."""
    logit_scale: float = 1.0
    """The authors' early 'temperature trick': 1.5 multiplies the logits of the discriminator's negatives (every
    step) and of the first two tokens of the g-step's samples; rollouts and every loss use 1. Their synthetic code
    also scores NLL-oracle on such sharpened samples; the author called it a trick of the early version
    (geek-ai/Texygen#19) and his 'No Temperature' code uses 1.0, the default here. Whatever this value, the
    run's NLL-oracle (and `seqgan generate`, `evaluate`, `sweep`) samples at temperature 1 from the distribution
    that NLL-test scores; the authors' evaluation is temperature 1 / logit_scale (`seqgan sweep`)."""
    goal_init: Literal["shared", "per_slot"] = "shared"
    """The first window's goal. 'shared': one trainable vector. 'per_slot' (the authors' code): a trainable
    [batch_size, features] matrix, row r used by the r-th sequence of every batch (rows taken modulo
    train.batch_size, per process under torchrun), so a sequence's probability depends on its place in the
    batch; an artefact of TF's fixed batch shape, not of the model, hence not the default."""

    def problems(self, prefix: str) -> list[str]:
        errs = positive(self, prefix, "goal_size", "step_size", "rollout_num", "pretrain_rounds", "discriminator_lr",
                        "rescale_delta", "logit_scale")
        if self.generator_lr is not None and not self.generator_lr > 0:
            errs.append(f"{prefix}.generator_lr={self.generator_lr} must be > 0 (or null: the authors' value)")
        if self.discriminator_l2 < 0:
            errs.append(f"{prefix}.discriminator_l2={self.discriminator_l2} must be >= 0")
        return errs + in_unit_interval(self, prefix, "discriminator_dropout_keep", open_low=True)
