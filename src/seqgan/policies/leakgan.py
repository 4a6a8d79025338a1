"""LeakGAN's hierarchical policy (Guo et al., AAAI-18; the authors' code CR-Gjx/LeakGAN):
a Manager LSTM that reads the discriminator's features of the prefix and sets goals, and a
Worker LSTM whose next-token logits are steered by them.

Notation: B batch, T length, V vocabulary, E embedding, H hidden, F discriminator features
(1,720 at length 20), k goal size (16), c window (4), K = ceil(T / c) windows, M rows.

With y_<t the prefix of t tokens (padded with id -1, "no token yet", to the length T):

    f_t    = D.features(y_<t)                       the leaked feature (F,): the discriminator's
                                                    max-pool -> highway (-> dropout, keep 1) layer
    h^M_t  = LSTM_M(f_t, h^M_{t-1})                 the Manager reads f_0, f_1, ... (F -> H)
    g_t    = normalise(h^M_t W_o + b_o)             a unit sub-goal in feature space (F,)
    G_0    = goal_init;   G_k = sum_{t=(k-1)c+1}^{kc} g_t   the goal of window k (positions kc..kc+c-1)
    w_k    = normalise(G_k W_psi)                   (k,), W_psi (F, k) ("g_change")
    h^W_t  = LSTM_W(x_t, h^W_{t-1})                 the Worker reads the start token, y_0, y_1, ...
    O_t    = [h^W_t, 1] W_worker reshaped to (V, k) (the Worker's output layer with its bias)
    p(y_t | y_<t) = softmax(O_t w_{floor(t/c)})

normalise is TF's l2_normalize, x / sqrt(max(|x|^2, 1e-12)). The logits are linear in the
outer product [h^W_t, 1] (x) w: with W_out ((H+1) k, V) the Worker's V x k output matrix
rearranged, logits = ([h^W_t, 1] (x) w_{floor(t/c)}) @ W_out, so the features this policy
gives the shared output layer are that outer product ((H+1) k numbers, b_out fixed at 0),
and sampling, rollouts, NLL and the fused losses are the base class's (`Policy`).

A decoder state after s tokens carries the Worker's and Manager's LSTM states, the goals
summed so far in the current window, w of the current window, and the tokens read so far
(M, T), whose features D gives at the next step: the sampler needs nothing of its own.

The window convention is that of the authors' training graph (their MLE loss, their
adversarial losses and the prefix part of their rollouts): window k's goal sums g_{(k-1)c+1}
.. g_{kc}, the Manager's outputs after reading the features of prefixes up to kc tokens.
Their sampling graph sums g_{(k-1)c} .. g_{kc-1} instead (one step earlier, and their rollout
reads the prefix's feature twice where it switches from one to the other), so the distribution
they sample from is not the one their losses train. Here one policy does both: what it samples
is what it scores (NLL-test, the MLE and adversarial losses) and what `seqgan sweep` sweeps.

The discriminator is not a parameter of the policy: the run trains it on its own (its
checkpoint prefix `discriminator`); `companions()` names it, so that the run saves it with
the generator and `seqgan.load` restores it. Moving the policy (`.to`) moves it too. Its
features are taken without autograd: the prefix tokens are discrete, so no gradient of the
generator's losses reaches D, and D's parameters belong to D's optimizer alone (as in the
authors' code).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch
from torch import Tensor, nn

from seqgan.models.discriminator import PaddedDiscriminator
from seqgan.ops import linear_cross_entropy
from seqgan.policies.base import Policy
from seqgan.policies.lstm import lstm_step
from seqgan.policies.sampler import State

#: prefix rows whose features the discriminator computes at once (bounds the memory of the
#: (rows, 2F) highway activations; never changes results)
LEAK_CHUNK = 2048
#: no token yet: the id of a prefix's positions beyond its length (the discriminator's row 0)
NO_TOKEN = -1


def normalise(x: Tensor, dim: int = -1) -> Tensor:
    """TF's l2_normalize: x / sqrt(max(sum x^2, 1e-12)) along `dim`."""
    return x * torch.rsqrt(x.pow(2).sum(dim, keepdim=True).clamp(min=1e-12))


def _trunc_normal_(t: Tensor, std: float, generator: Optional[torch.Generator]) -> None:
    """N(0, std) truncated at 2 std by redrawing (TF's truncated_normal), in place."""
    x = torch.randn(t.shape, generator=generator)
    bad = x.abs() > 2.0
    while bool(bad.any()):
        x[bad] = torch.randn(int(bad.sum()), generator=generator)
        bad = x.abs() > 2.0
    t.copy_(x * std)


class LeakGANPolicy(Policy):
    """The Manager and Worker of LeakGAN, reading the features of `disc` (see the module)."""

    kind = "leakgan"

    def __init__(self, vocab_size: int, emb_dim: int, hidden_dim: int, seq_len: int, disc: PaddedDiscriminator,
                 goal_size: int = 16, step_size: int = 4, goal_slots: int = 1, start_token: int = 0,
                 eos_token: Optional[int] = None, pad_token: int = 0) -> None:
        super().__init__(vocab_size, (hidden_dim + 1) * goal_size, seq_len, start_token, eos_token, pad_token)
        V, E, H, k = vocab_size, emb_dim, hidden_dim, goal_size
        Fd = sum(disc.num_filters)
        self.emb_dim, self.hidden_dim, self.goal_size, self.step_size = E, H, k, step_size
        self.num_features, self.goal_slots = Fd, goal_slots
        self.windows = -(-seq_len // step_size)  # K
        self._disc = (disc,)  # a tuple: not registered as a submodule (see the module docstring)
        # Worker: the original's LSTM layout, gates [i | f | o | c]
        self.embedding = nn.Parameter(torch.empty(V, E))
        self.W = nn.Parameter(torch.empty(E, 4 * H))
        self.U = nn.Parameter(torch.empty(H, 4 * H))
        self.b = nn.Parameter(torch.empty(4 * H))
        self.psi = nn.Parameter(torch.empty(Fd, k))  # W_psi: goals -> the Worker's goal embedding
        # Manager: reads features (F) into an LSTM of H units, outputs goals (F)
        self.manager_W = nn.Parameter(torch.empty(Fd, 4 * H))
        self.manager_U = nn.Parameter(torch.empty(H, 4 * H))
        self.manager_b = nn.Parameter(torch.empty(4 * H))
        self.manager_out_W = nn.Parameter(torch.empty(H, Fd))
        self.manager_out_b = nn.Parameter(torch.empty(Fd))
        self.goal_init = nn.Parameter(torch.empty(goal_slots, Fd))
        self.add_output_layer()  # W_out ((H+1) k, V): the Worker's output layer; b_out stays 0
        self.b_out.requires_grad_(False)

    # ------------------------------------------------------------------ parameters
    @property
    def disc(self) -> PaddedDiscriminator:
        """The discriminator whose features the Manager reads."""
        return self._disc[0]

    def companions(self) -> dict[str, nn.Module]:
        return {"discriminator": self.disc}

    def worker_parameters(self) -> list[nn.Parameter]:
        """What the Worker's losses train (the authors' worker_params): its LSTM, output layer and W_psi."""
        return [self.embedding, self.W, self.U, self.b, self.psi, self.W_out]

    def manager_parameters(self) -> list[nn.Parameter]:
        """What the Manager's losses train (the authors' manager_params): its LSTM, output layer and goal_init."""
        return [self.manager_W, self.manager_U, self.manager_b, self.manager_out_W, self.manager_out_b,
                self.goal_init]

    @torch.no_grad()
    def init_normal(self, std: float, generator: Optional[torch.Generator] = None) -> None:
        """The authors' init: every weight and bias ~ N(0, std) (their 0.1), goal_init ~ N(0, std)
        truncated at 2 std; b_out (not a parameter of theirs) 0."""
        for p in self.worker_parameters() + self.manager_parameters()[:-1]:
            p.copy_(torch.randn(p.shape, generator=generator) * std)
        _trunc_normal_(self.goal_init, std, generator)
        self.b_out.zero_()

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> "LeakGANPolicy":  # type: ignore[override]
        super()._apply(fn, recurse)
        self.disc._apply(fn, recurse)  # moved with the policy that reads it
        return self

    # ------------------------------------------------------------------ the leak and the Manager
    @torch.no_grad()
    def leak_tables(self) -> list[Tensor]:
        """The discriminator's first-layer tables (`Discriminator.conv_tables`, kept while D does not change)."""
        return self.disc.conv_tables()

    @torch.no_grad()
    def leak(self, prefixes: Tensor, tables: Optional[list[Tensor]] = None) -> Tensor:
        """f = D.features of prefixes (M, T) ids in -1..V-1 (-1: no token yet) -> (M, F), no autograd,
        LEAK_CHUNK rows at a time."""
        tables = self.leak_tables() if tables is None else tables
        out = [self.disc.features(prefixes[lo:lo + LEAK_CHUNK], tables) for lo in range(0, prefixes.shape[0],
                                                                                          LEAK_CHUNK)]
        return torch.cat(out, 0)

    @torch.no_grad()
    def leak_prefixes(self, tokens: Tensor, upto: int, tables: Optional[list[Tensor]] = None) -> Tensor:
        """f_t for t = 0..upto of every row of tokens (B, >= upto): (B, upto + 1, F), in one batched
        discriminator call (f_0, the empty prefix, is the same for every row)."""
        B, T = tokens.shape[0], self.seq_len
        tables = self.leak_tables() if tables is None else tables
        seq = torch.full((B, T), NO_TOKEN, dtype=torch.long, device=tokens.device)
        n = min(upto, tokens.shape[1])
        seq[:, :n] = tokens[:, :n]
        t = torch.arange(1, upto + 1, device=tokens.device)  # prefix lengths
        pos = torch.arange(T, device=tokens.device)
        prefixes = torch.where(pos[None, None, :] < t[None, :, None], seq[:, None, :], NO_TOKEN)  # (B, upto, T)
        f = self.leak(prefixes.reshape(B * upto, T), tables).view(B, upto, -1)
        f0 = self.leak(torch.full_like(seq[:1], NO_TOKEN), tables).expand(B, 1, f.shape[2])
        return torch.cat([f0, f], 1)

    def manager(self, f: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The Manager over features f (B, L, F): h, c (B, L, H) after reading f_0..f_t, and the unit
        sub-goals g (B, L, F)."""
        B, L, _ = f.shape
        xw = f @ self.manager_W + self.manager_b  # (B, L, 4H), one matmul for every step
        h = xw.new_zeros(B, self.hidden_dim)
        c = xw.new_zeros(B, self.hidden_dim)
        hs, cs = [], []
        for t in range(L):  # the recurrence; everything else is batched over time
            h, c = lstm_step(xw[:, t], h, c, self.manager_U)
            hs.append(h)
            cs.append(c)
        hm = torch.stack(hs, 1)
        return hm, torch.stack(cs, 1), normalise(hm @ self.manager_out_W + self.manager_out_b)

    def slots(self, rows: Tensor) -> Tensor:
        """goal_init's row for each row index (rows modulo the slots; one shared row by default)."""
        return self.goal_init[rows % self.goal_slots]

    def window_goals(self, g: Tensor) -> Tensor:
        """G (B, K, F): goal_init for window 0, then the sums of g over windows, G_k = g_{(k-1)c+1} + ..
        + g_{kc}, from the sub-goals g (B, >= (K-1)c + 1, F)."""
        B, c, K = g.shape[0], self.step_size, self.windows
        first = self.slots(torch.arange(B, device=g.device))[:, None]  # (B, 1, F)
        if K == 1:
            return first
        later = g[:, 1:(K - 1) * c + 1].reshape(B, K - 1, c, -1).sum(2)  # (B, K-1, F)
        return torch.cat([first, later], 1)

    def goal_embedding(self, G: Tensor) -> Tensor:
        """w = normalise(G W_psi). G (..., F) -> (..., k)."""
        return normalise(G @ self.psi)

    # ------------------------------------------------------------------ the Worker
    def worker(self, inputs: Tensor) -> tuple[Tensor, Tensor]:
        """The Worker over input tokens (B, T): h, c (B, T, H), h[:, t] after reading inputs[:, :t+1]."""
        B, T = inputs.shape
        xw = self.embedding[inputs] @ self.W + self.b  # (B, T, 4H)
        h = xw.new_zeros(B, self.hidden_dim)
        c = xw.new_zeros(B, self.hidden_dim)
        hs, cs = [], []
        for t in range(T):
            h, c = lstm_step(xw[:, t], h, c, self.U)
            hs.append(h)
            cs.append(c)
        return torch.stack(hs, 1), torch.stack(cs, 1)

    @staticmethod
    def outer(h: Tensor, w: Tensor) -> Tensor:
        """The features of the output layer: [h, 1] (x) w. h (..., H), w (..., k) -> (..., (H+1) k)."""
        hb = torch.cat([h, torch.ones_like(h[..., :1])], -1)
        return (hb.unsqueeze(-1) * w.unsqueeze(-2)).flatten(-2)

    def _features(self, tokens: Tensor, inputs: Tensor, f: Optional[Tensor]) -> tuple[Tensor, Tensor]:
        """(features (B, T, (H+1) k) with w from the detached goals, G (B, K, F) with autograd) of a
        teacher-forced pass; f (B, >= T, F) the leaked features f_0.. of `tokens` (None: computed)."""
        T = self.seq_len
        if f is None:
            f = self.leak_prefixes(tokens, T - 1)
        g = self.manager(f[:, :T])[2]
        G = self.window_goals(g)
        w = self.goal_embedding(G.detach())  # the Worker's loss does not train the Manager (nor goal_init)
        pos = torch.arange(T, device=tokens.device) // self.step_size
        return self.outer(self.worker(inputs)[0], w[:, pos]), G

    def features(self, inputs: Tensor) -> Tensor:
        # inputs = [start, y_0 .. y_{T-2}]: the prefixes y_<t for t <= T-1 are all in them
        return self._features(inputs[:, 1:], inputs, None)[0]

    # ------------------------------------------------------------------ training
    def forward(self, tokens: Tensor, weights: Optional[Tensor] = None, inputs: Optional[Tensor] = None,
                manager_weights: Optional[Tensor] = None, leaked: Optional[Tensor] = None) -> Tensor:
        """As `Policy.forward`; with `manager_weights` (B, K) instead both of LeakGAN's losses, (2,):
        [sum_{b,t} weights[b, t] * -log p(y_t | y_<t),  -sum_{b,k} manager_weights[b, k] * cos(f_{e_k} - f_{kc}, G_k)]
        with e_k = min((k+1)c, T) the window's end: the Worker's weighted NLL (fused), and the Manager's
        goals weighted by how well they pointed along the feature change of their window. `leaked`
        (B, T + 1, F): the features f_0..f_T of `tokens` (`leak_prefixes(tokens, T)`; None: computed).
        The Worker's loss trains the Worker's parameters only, the Manager's the Manager's."""
        if manager_weights is None:
            return super().forward(tokens, weights, inputs)
        assert weights is not None, "both losses need the Worker's weights"
        B, T = tokens.shape
        f = self.leak_prefixes(tokens, T) if leaked is None else leaked
        feats, G = self._features(tokens, self.inputs(tokens), f)
        worker = linear_cross_entropy(feats.reshape(B * T, -1), self.W_out, self.b_out,
                                      self.targets(tokens).reshape(-1), weights.reshape(-1), self.logit_mask)
        manager = -(manager_weights * self.goal_cosines(f, G)).sum()
        return torch.stack([worker, manager])

    def window_bounds(self, device: torch.device) -> tuple[Tensor, Tensor]:
        """(starts, ends) (K,): window k runs over positions kc .. e_k - 1, e_k = min((k+1)c, T)."""
        starts = torch.arange(self.windows, device=device) * self.step_size
        return starts, (starts + self.step_size).clamp(max=self.seq_len)

    def goal_cosines(self, f: Tensor, G: Tensor) -> Tensor:
        """cos(f_{e_k} - f_{kc}, G_k) for every window: f (B, T+1, F), G (B, K, F) -> (B, K)."""
        starts, ends = self.window_bounds(f.device)
        return (normalise(f[:, ends] - f[:, starts]) * normalise(G)).sum(-1)

    @torch.no_grad()
    def worker_cosines(self, f: Tensor, G: Tensor) -> Tensor:
        """The Worker's intrinsic reward of the authors' code: cos(f_{t+1} - f_{c floor(t/c)}, G_{floor(t/c)}),
        the feature change from the window's start to after token t against the window's goal.
        f (B, T+1, F), G (B, K, F) -> (B, T)."""
        T, c = self.seq_len, self.step_size
        t = torch.arange(T, device=f.device)
        return (normalise(f[:, t + 1] - f[:, (t // c) * c]) * normalise(G[:, t // c])).sum(-1)

    # ------------------------------------------------------------------ scoring
    @torch.no_grad()
    def nll(self, tokens: Tensor, chunk: int = 512, temperature: float = 1.0) -> float:
        """`Policy.nll` in chunks of 512 rows (each chunk's leak holds T x 512 features)."""
        return super().nll(tokens, chunk, temperature)

    # ------------------------------------------------------------------ generation
    def decoder(self) -> "_LeakDecoder":
        return _LeakDecoder(self)

    def prefixes(self, tokens: Tensor) -> "_LeakPrefixes":
        return _LeakPrefixes(self, tokens)


class _LeakDecoder:
    """State after s tokens: (features, h^W, c^W, h^M, c^M, goals summed in the window so far (M, F),
    w of the window (M, k), the tokens read (M, T) with -1 beyond them, s (M,))."""

    def __init__(self, pol: LeakGANPolicy) -> None:
        self.pol = pol
        self.tables = pol.leak_tables()  # D does not change while the decoder runs
        self.xw_table = pol.embedding @ pol.W + pol.b  # (V, 4H)

    def _manager_step(self, f: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        p = self.pol
        h, c = lstm_step(torch.addmm(p.manager_b, f, p.manager_W), h, c, p.manager_U)
        return h, c, normalise(torch.addmm(p.manager_out_b, h, p.manager_out_W))

    def start(self, m: int) -> State:
        p = self.pol
        dev = self.xw_table.device
        zeros = self.xw_table.new_zeros(m, p.hidden_dim)
        tok = torch.full((m,), p.start_token, dtype=torch.long, device=dev)
        hw, cw = lstm_step(self.xw_table[tok], zeros, zeros, p.U)
        seq = torch.full((m, p.seq_len), NO_TOKEN, dtype=torch.long, device=dev)
        f0 = p.leak(seq[:1], self.tables).expand(m, -1)  # the empty prefix
        hm, cm, _ = self._manager_step(f0, zeros, zeros)  # g_0 starts no window's sum (the authors' training graph)
        w = p.goal_embedding(p.slots(torch.arange(m, device=dev)))
        acc = self.xw_table.new_zeros(m, p.num_features)
        return p.outer(hw, w), hw, cw, hm, cm, acc, w, seq, torch.zeros(m, dtype=torch.long, device=dev)

    def step(self, state: State, tokens: Tensor) -> State:
        p = self.pol
        _, hw, cw, hm, cm, acc, w, seq, s = state
        hw, cw = lstm_step(self.xw_table[tokens], hw, cw, p.U)
        seq = seq.scatter(1, s[:, None], tokens[:, None])
        s = s + 1
        hm, cm, g = self._manager_step(p.leak(seq, self.tables), hm, cm)
        acc = acc + g
        boundary = (s % p.step_size == 0)[:, None]  # a window ends: its sum is the next window's goal
        w = torch.where(boundary, p.goal_embedding(acc), w)
        acc = torch.where(boundary, torch.zeros_like(acc), acc)
        return p.outer(hw, w), hw, cw, hm, cm, acc, w, seq, s


class _LeakPrefixes:
    """The teacher-forced states of Y (B, T) after each prefix, as `_LeakDecoder` would have them."""

    def __init__(self, pol: LeakGANPolicy, Y: Tensor) -> None:
        with torch.no_grad():
            self.pol, self.Y = pol, Y
            T = pol.seq_len
            self.hw, self.cw = pol.worker(pol.inputs(Y))  # (B, T, H)
            self.hm, self.cm, self.g = pol.manager(pol.leak_prefixes(Y, T - 1))  # (B, T, .)
            self.w = pol.goal_embedding(pol.window_goals(self.g))  # (B, K, k)

    def state(self, s: int, rows: Tensor) -> State:
        p, c = self.pol, self.pol.step_size
        k = s // c
        acc = self.g[rows, k * c + 1:s + 1].sum(1) if s > k * c else self.g.new_zeros(rows.numel(), p.num_features)
        pos = torch.arange(p.seq_len, device=rows.device)
        seq = torch.where(pos[None, :] < s, self.Y[rows], NO_TOKEN)
        w = self.w[rows, k]
        hw = self.hw[rows, s]
        return (p.outer(hw, w), hw, self.cw[rows, s], self.hm[rows, s], self.cm[rows, s], acc, w, seq,
                torch.full((rows.numel(),), s, dtype=torch.long, device=rows.device))


def build_leakgan_policy(vocab_size: int, emb_dim: int, hidden_dim: int, seq_len: int, disc: PaddedDiscriminator,
                         goal_size: int, step_size: int, goal_slots: int, init_std: float,
                         generator: Optional[torch.Generator], **tokens: Any) -> LeakGANPolicy:
    """A LeakGANPolicy reading `disc`, initialised as the authors' (`init_normal`)."""
    pol = LeakGANPolicy(vocab_size, emb_dim, hidden_dim, seq_len, disc, goal_size, step_size, goal_slots, **tokens)
    pol.init_normal(init_std, generator)
    return pol
