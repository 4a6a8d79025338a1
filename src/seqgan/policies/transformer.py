"""A decoder-only causal Transformer policy with a KV cache (GPT-style, pre-LayerNorm).

Notation: B batch, T length, V vocabulary, D model width, Hm MLP width, L layers, nh heads,
hd = D / nh, M rows, t positions read so far.

    x_t = tok_emb[input_t] + pos_emb[t]                              (B, T, D)
    per layer: x = x + proj(causal_attention(ln1(x)));  x = x + fc2(gelu(fc1(ln2(x))))
    features = ln_f(x);  logits = features @ W_out + b_out

Teacher forcing runs every position at once with a causal mask. Sampling and rollouts read
one token per step with a KV cache: a state is (features (M, D), K (M, L, nh, t, hd),
V (M, L, nh, t, hd)), the keys and values of the t tokens read so far, so each new token costs
one position's work, not a recomputation of the prefix. The cached step equals the full
forward up to float rounding (tests/test_policies.py). Rollouts take the teacher-forced
keys and values of a prefix as the state it starts from.

Init: embeddings and weight matrices ~ N(0, init_std), biases 0, LayerNorm gains 1.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqgan.policies.base import Policy
from seqgan.policies.sampler import State


class Block(nn.Module):
    def __init__(self, D: int, Hm: int, heads: int) -> None:
        super().__init__()
        if D % heads:
            raise ValueError(f"generator.emb_dim={D} must be a multiple of generator.num_heads={heads}")
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.qkv, self.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.fc1, self.fc2 = nn.Linear(D, Hm), nn.Linear(Hm, D)

    def _split(self, h: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(B, t, D) -> q, k, v each (B, nh, t, hd)."""
        B, t, D = h.shape
        q, k, v = self.qkv(h).split(D, dim=2)
        return tuple(z.view(B, t, self.heads, D // self.heads).transpose(1, 2) for z in (q, k, v))  # type: ignore

    def _finish(self, x: Tensor, y: Tensor) -> Tensor:
        """Residual attention output y (B, nh, t, hd), then the MLP."""
        B, _, t, _ = y.shape
        x = x + self.proj(y.transpose(1, 2).reshape(B, t, -1))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """All positions, causal. x (B, T, D) -> x', k, v (B, nh, T, hd)."""
        q, k, v = self._split(self.ln1(x))
        return self._finish(x, F.scaled_dot_product_attention(q, k, v, is_causal=True)), k, v

    def step(self, x: Tensor, k_cache: Tensor, v_cache: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """One new position attending to the cache and itself. x (M, 1, D), caches (M, nh, t, hd)."""
        q, k, v = self._split(self.ln1(x))
        k, v = torch.cat([k_cache, k], 2), torch.cat([v_cache, v], 2)  # (M, nh, t+1, hd)
        return self._finish(x, F.scaled_dot_product_attention(q, k, v)), k, v


class TransformerPolicy(Policy):
    kind = "transformer"
    input_embedding = "tok_emb"

    def __init__(self, vocab_size: int, emb_dim: int, hidden_dim: int, seq_len: int, num_layers: int = 2,
                 num_heads: int = 2, start_token: int = 0, eos_token: Optional[int] = None,
                 pad_token: int = 0) -> None:
        super().__init__(vocab_size, emb_dim, seq_len, start_token, eos_token, pad_token)
        D = emb_dim
        self.emb_dim, self.hidden_dim, self.num_layers, self.num_heads = D, hidden_dim, num_layers, num_heads
        self.tok_emb = nn.Parameter(torch.empty(vocab_size, D))
        self.pos_emb = nn.Parameter(torch.empty(seq_len, D))
        self.blocks = nn.ModuleList([Block(D, hidden_dim, num_heads) for _ in range(num_layers)])
        self.ln_f = nn.LayerNorm(D)
        self.add_output_layer()

    @torch.no_grad()
    def init_normal(self, std: float, generator: Optional[torch.Generator] = None) -> None:
        """Embeddings and weight matrices ~ N(0, std); biases 0; LayerNorm gains 1."""
        for name, p in self.named_parameters():
            if ".ln" in name or name.startswith("ln_f"):
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            elif name.endswith(".bias") or name == "b_out":
                p.zero_()
            else:
                p.copy_(torch.randn(p.shape, generator=generator, device=p.device) * std)

    def _embed(self, tokens: Tensor, pos: int) -> Tensor:
        """tokens (B, t) read at positions pos.. -> (B, t, D)."""
        return F.embedding(tokens, self.tok_emb) + self.pos_emb[pos:pos + tokens.shape[1]]

    def _forward(self, inputs: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """inputs (B, T) -> features (B, T, D), K and V (B, L, nh, T, hd)."""
        x = self._embed(inputs, 0)
        ks, vs = [], []
        for block in self.blocks:
            x, k, v = block(x)
            ks.append(k)
            vs.append(v)
        return self.ln_f(x), torch.stack(ks, 1), torch.stack(vs, 1)

    def features(self, inputs: Tensor) -> Tensor:
        return self._forward(inputs)[0]

    def decoder(self) -> "_TransformerDecoder":
        return _TransformerDecoder(self)

    def prefixes(self, tokens: Tensor) -> "_TransformerPrefixes":
        return _TransformerPrefixes(*self._forward(self.inputs(tokens)))


class _TransformerDecoder:
    def __init__(self, model: TransformerPolicy) -> None:
        self.model = model

    def start(self, m: int) -> State:
        M = self.model
        hd = M.emb_dim // M.num_heads
        empty = M.tok_emb.new_zeros(m, M.num_layers, M.num_heads, 0, hd)
        tok = torch.full((m,), M.start_token, dtype=torch.long, device=empty.device)
        return self.step((empty.new_zeros(m, M.emb_dim), empty, empty), tok)

    def step(self, state: State, tokens: Tensor) -> State:
        _, K, V = state
        x = self.model._embed(tokens[:, None], K.shape[3])  # (M, 1, D) at position t
        ks, vs = [], []
        for layer, block in enumerate(self.model.blocks):
            x, k, v = block.step(x, K[:, layer], V[:, layer])  # type: ignore[operator]
            ks.append(k)
            vs.append(v)
        return self.model.ln_f(x)[:, 0], torch.stack(ks, 1), torch.stack(vs, 1)


class _TransformerPrefixes:
    def __init__(self, features: Tensor, K: Tensor, V: Tensor) -> None:
        self.f, self.K, self.V = features, K, V

    def state(self, s: int, rows: Tensor) -> State:
        return self.f[rows, s], self.K[rows, :, :, : s + 1], self.V[rows, :, :, : s + 1]
