"""The oracle: the original's parameters reproduce the reference equations exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqgan.models.oracle import Oracle, OracleFileError


def numpy_oracle_nll(p: dict[str, np.ndarray], seqs: np.ndarray) -> np.ndarray:
    """Per-token -ln p(y_t | y_<t), written from the equations of seqgan_oracle.md, float64."""
    def sig(x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-x))

    q = {k: v.astype(np.float64) for k, v in p.items()}
    M, T = seqs.shape
    H = q["U_i"].shape[0]
    h, c = np.zeros((M, H)), np.zeros((M, H))
    x = np.repeat(q["embedding"][0][None], M, 0)  # start token 0
    out = np.zeros((M, T))
    for t in range(T):
        i = sig(x @ q["W_i"] + h @ q["U_i"] + q["b_i"])
        f = sig(x @ q["W_f"] + h @ q["U_f"] + q["b_f"])
        o = sig(x @ q["W_o"] + h @ q["U_o"] + q["b_o"])
        g = np.tanh(x @ q["W_c"] + h @ q["U_c"] + q["b_c"])
        c = f * c + i * g
        h = o * np.tanh(c)
        logits = h @ q["W_out"] + q["b_out"]
        m = logits.max(1, keepdims=True)
        lse = (m + np.log(np.exp(logits - m).sum(1, keepdims=True)))[:, 0]
        out[:, t] = lse - logits[np.arange(M), seqs[:, t]]
        x = q["embedding"][seqs[:, t]]
    return out


def test_loaded_oracle_matches_numpy_equations(oracle_npz):
    oracle = Oracle.from_npz(oracle_npz, seq_len=20)
    params = dict(np.load(oracle_npz))
    seqs = torch.randint(0, 5000, (64, 20), generator=torch.Generator().manual_seed(0))
    ours = oracle.token_nll(seqs).double().numpy()
    ref = numpy_oracle_nll(params, seqs.numpy())
    assert ours.shape == (64, 20)
    np.testing.assert_allclose(ours, ref, atol=1e-4, rtol=0)
    # the autograd path (log_probs) gives the same numbers
    np.testing.assert_allclose(-oracle.log_probs(seqs).detach().double().numpy(), ref, atol=1e-4, rtol=0)


def test_oracle_samples_score_its_entropy_rate(oracle_npz):
    oracle = Oracle.from_npz(oracle_npz, seq_len=20)
    samples = oracle.sample(2000, torch.Generator().manual_seed(1))
    assert samples.shape == (2000, 20) and samples.dtype == torch.long
    assert abs(oracle.nll(samples) - 5.75) < 0.05
    # uniformly random tokens are far less likely (11.44 nats/token, seqgan_oracle.md)
    rand = torch.randint(0, 5000, (500, 20), generator=torch.Generator().manual_seed(2))
    assert abs(oracle.nll(rand) - 11.44) < 0.15


def test_oracle_is_frozen_and_seeded():
    a = Oracle.seeded(50, 4, 4, 6, seed=5)
    b = Oracle.seeded(50, 4, 4, 6, seed=5)
    c = Oracle.seeded(50, 4, 4, 6, seed=6)
    assert all(not p.requires_grad for p in a.parameters())
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.W, c.W)
    assert 0.9 < float(a.W_out.std()) < 1.1  # N(0, 1)


def _save(tmp_path, arrays):
    p = tmp_path / "o.npz"
    np.savez(p, **arrays)
    return p


def _good_arrays(V=7, E=3, H=2):
    rng = np.random.default_rng(0)
    a = {"embedding": rng.normal(size=(V, E)), "W_out": rng.normal(size=(H, V)), "b_out": rng.normal(size=V)}
    for g in "ifoc":
        a.update({f"W_{g}": rng.normal(size=(E, H)), f"U_{g}": rng.normal(size=(H, H)), f"b_{g}": rng.normal(size=H)})
    return {k: v.astype(np.float32) for k, v in a.items()}


def test_from_npz_layout_and_errors(tmp_path):
    arrays = _good_arrays()
    o = Oracle.from_npz(_save(tmp_path, arrays), seq_len=4)
    assert torch.equal(o.W[:, 2:4], torch.from_numpy(arrays["W_f"]))  # gate order i, f, o, c
    assert torch.equal(o.b[6:8], torch.from_numpy(arrays["b_c"]))

    bad = dict(arrays)
    del bad["U_o"]
    bad["U_x"] = arrays["U_i"]
    with pytest.raises(OracleFileError, match=r"missing keys \['U_o'\].*unexpected keys \['U_x'\]"):
        Oracle.from_npz(_save(tmp_path, bad), seq_len=4)

    bad = dict(arrays)
    bad["W_out"] = np.zeros((2, 6), np.float32)
    with pytest.raises(OracleFileError, match=r"W_out \(2, 6\) \(expected \(2, 7\)\)"):
        Oracle.from_npz(_save(tmp_path, bad), seq_len=4)

    with pytest.raises(OracleFileError, match="not found"):
        Oracle.from_npz(tmp_path / "nope.npz", seq_len=4)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(OracleFileError, match="not a readable"):
        Oracle.from_npz(junk, seq_len=4)
