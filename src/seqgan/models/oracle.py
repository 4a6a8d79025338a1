"""The oracle: an LSTM with N(0, 1) parameters that plays the real world (reference §1).

Either seeded (`Oracle.seeded`), the project's default, or loaded from the original's
parameters (`Oracle.from_npz`, key layout of shared/reference/seqgan_oracle.md).
The oracle is never trained: its parameters do not require gradients.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from seqgan.config import Config, ConfigError

from seqgan.policies.lstm import LSTMPolicy

_GATES = ("i", "f", "o", "c")


class OracleFileError(ValueError):
    """The oracle file is missing, unreadable, or has wrong keys or shapes."""


#: the most numbers an oracle file may hold (the original's: 5000 x 32 embedding and 32 x 5000 output, ~330k)
MAX_ORACLE_NUMBERS = 1 << 27


def npz_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """{key: (shape, dtype)} of an .npz's arrays, read from the .npy headers alone, so that a
    huge or hostile member (a zip bomb) is judged before any of its data is decompressed.
    Raises OracleFileError for what is not a zip of .npy arrays."""
    import zipfile

    from numpy.lib import format as npf
    readers = {(1, 0): npf.read_array_header_1_0, (2, 0): npf.read_array_header_2_0}
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                with zf.open(name) as f:
                    version = npf.read_magic(f)
                    if version not in readers:
                        raise ValueError(f"{name}: .npy format version {version} (1.0 or 2.0 expected)")
                    shape, _, dtype = readers[version](f)
                out[name[:-4] if name.endswith(".npy") else name] = (tuple(shape), np.dtype(dtype))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise OracleFileError(f"{path}: not a readable .npz of arrays ({e})") from None
    return out


class Oracle(LSTMPolicy):
    """A frozen LSTM language model that generates the real data and scores samples."""

    def __init__(self, vocab_size: int, emb_dim: int, hidden_dim: int, seq_len: int,
                 start_token: int = 0) -> None:
        super().__init__(vocab_size, emb_dim, hidden_dim, seq_len, start_token)
        self.requires_grad_(False)

    @classmethod
    def seeded(cls, vocab_size: int, emb_dim: int, hidden_dim: int, seq_len: int, seed: int,
               std: float = 1.0, start_token: int = 0) -> "Oracle":
        """Every parameter ~ N(0, std) from its own torch.Generator seeded with `seed`."""
        oracle = cls(vocab_size, emb_dim, hidden_dim, seq_len, start_token)
        oracle.init_normal(std, torch.Generator().manual_seed(seed))
        return oracle

    @classmethod
    def from_npz(cls, path: str | Path, seq_len: int, start_token: int = 0) -> "Oracle":
        """Load the original's oracle (15 float32 arrays: embedding, W_/U_/b_ for i f o c, W_out, b_out)."""
        path = Path(path)
        if not path.is_file():
            raise OracleFileError(f"{path}: oracle file not found (give an .npz in the layout of seqgan_oracle.md)")
        # keys, shapes, sizes and dtypes from the .npy headers, before any array is decompressed
        headers = npz_headers(path)
        expected = ["embedding", "W_out", "b_out"] + [f"{m}_{g}" for g in _GATES for m in ("W", "U", "b")]
        missing = [k for k in expected if k not in headers]
        extra = [k for k in headers if k not in expected]
        if missing or extra:
            raise OracleFileError(f"{path}: missing keys {missing}, unexpected keys {extra}; expected {expected}")
        not_numbers = [k for k, (_, dt) in headers.items() if dt.kind not in "fiu"]
        if not_numbers:
            raise OracleFileError(f"{path}: {', '.join(not_numbers)} are not arrays of numbers")
        if len(headers["embedding"][0]) != 2 or len(headers["W_i"][0]) != 2:
            raise OracleFileError(f"{path}: 'embedding' and 'W_i' must be 2-D matrices")
        V, E = headers["embedding"][0]
        H = headers["W_i"][0][1]
        shapes = {"embedding": (V, E), "W_out": (H, V), "b_out": (V,)}
        for g in _GATES:
            shapes.update({f"W_{g}": (E, H), f"U_{g}": (H, H), f"b_{g}": (H,)})
        wrong = [f"{k} {headers[k][0]} (expected {s})" for k, s in shapes.items() if headers[k][0] != s]
        if wrong:
            raise OracleFileError(f"{path}: wrong shapes: {', '.join(wrong)}")
        numbers = sum(int(np.prod(s)) for s in shapes.values())
        if numbers > MAX_ORACLE_NUMBERS:
            raise OracleFileError(f"{path}: {numbers} parameters (vocabulary {V}, embedding {E}, hidden {H}), more "
                                  f"than the {MAX_ORACLE_NUMBERS} an oracle may have; give the original's oracle")
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: np.asarray(z[k]) for k in z.files}
        except Exception as e:  # zipfile/ValueError/OSError: all mean "not a readable npz"
            raise OracleFileError(f"{path}: not a readable .npz of arrays ({e})") from None
        # checked after the cast: a float64 beyond float32's range is finite before it and inf after
        with np.errstate(over="ignore", invalid="ignore"):
            cast = {k: v.astype(np.float32) for k, v in arrays.items()}
        bad = [k for k in expected if not np.isfinite(cast[k]).all()]
        if bad:
            raise OracleFileError(f"{path}: non-finite values (NaN or inf) in {', '.join(bad)} as float32 (beyond "
                                  f"±3.4e38 or NaN); an oracle needs finite parameters")
        oracle = cls(V, E, H, seq_len, start_token)
        t = {k: torch.from_numpy(v) for k, v in cast.items()}
        with torch.no_grad():
            oracle.embedding.copy_(t["embedding"])
            oracle.W.copy_(torch.cat([t[f"W_{g}"] for g in _GATES], 1))
            oracle.U.copy_(torch.cat([t[f"U_{g}"] for g in _GATES], 1))
            oracle.b.copy_(torch.cat([t[f"b_{g}"] for g in _GATES], 0))
            oracle.W_out.copy_(t["W_out"])
            oracle.b_out.copy_(t["b_out"])
        return oracle


def build_oracle(cfg: Config) -> Oracle:
    """The oracle of a (resolved) config: the original's parameters from `oracle.path`, or the
    seeded N(0, oracle.init_std) LSTM. Raises OracleFileError for a bad file, ConfigError for a
    vocabulary that does not match the generator's."""
    g = cfg.generator
    if cfg.oracle.path:
        oracle = Oracle.from_npz(cfg.oracle.path, g.seq_len, g.start_token)
        if oracle.vocab_size != g.vocab_size:
            raise ConfigError(f"oracle.path={cfg.oracle.path} has vocabulary {oracle.vocab_size} but "
                              f"generator.vocab_size={g.vocab_size}; set them equal")
        return oracle
    return Oracle.seeded(g.vocab_size, cfg.oracle.emb_dim, cfg.oracle.hidden_dim, g.seq_len,
                         cfg.oracle.seed, cfg.oracle.init_std, g.start_token)
