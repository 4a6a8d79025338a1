"""The MOSES metrics of generated molecules (Polykovskiy et al., "Molecular Sets (MOSES): A
Benchmarking Platform for Molecular Generation Models", Front. Pharmacol. 11, 565644, 2020),
on RDKit. Where MOSES's paper and its code (molecularsets/moses) differ, the code is followed and
both are named.

Generated strings G (all the samples, invalid ones included); V: the valid ones, each as RDKit's
canonical SMILES, duplicates kept (MOSES's `remove_invalid(gen, canonize=True)`).

    valid        |V| / |G|: a string is valid when RDKit parses and sanitises it (valences,
                 aromaticity); the empty string is not.
    unique@k     |set(V[:k])| / k, on the first k valid molecules (k = 1,000 and 10,000); not
                 computed (None, and a note) when there are fewer than k.
    novelty      |set(V) - train| / |set(V)|: the share of distinct valid molecules whose canonical
                 SMILES is not a line of the training file (MOSES compares with the training
                 strings as they are; MOSES's are RDKit-canonical).
    intdiv       IntDiv_p = 1 - mean_{a in V} ( mean_{b in V} T(a, b)^p )^(1/p), p = 1 (intdiv) and
    intdiv2      p = 2, T the Tanimoto similarity of Morgan fingerprints (radius 2, 1,024 bits),
                 every ordered pair including a = b. The paper writes 1 - (mean_{a,b} T^p)^(1/p); the
                 code takes the p-th root per molecule before the mean (the same for p = 1).
    filters      the share of V that passes MOSES's data filters: no ring of 8 or more atoms, no
                 formal charge, atoms only C N S O F Cl Br H, none of the 22 MCF and 480 PAINS
                 substructures (SMARTS in seqgan/chem/filters, matched on the molecule with explicit
                 hydrogens), and a non-isomeric SMILES that parses again.
    fcd_*        Fréchet ChemNet Distance: ||mu_V - mu_R||^2 + Tr(S_V + S_R - 2 (S_V S_R)^(1/2)),
                 mu and S the mean and covariance of ChemNet's penultimate activations of the
                 canonical SMILES (the `fcd` package's network and weights; MOSES uses fcd_torch,
                 the same network: both give the same activations).
    snn_*        mean_{a in V} max_{r in R} T(a, r): similarity to the nearest neighbour in R.
    frag_*       cosine similarity of the counts of BRICS fragments (canonical SMILES of the pieces
                 of RDKit's FragmentOnBRICSBonds) over V and over R.
    scaf_*       cosine similarity of the counts of Bemis-Murcko scaffolds; MOSES's code counts only
                 scaffolds of at least 2 rings (its `min_rings=2`; the paper does not say).
    qed_mean     means over V of RDKit's QED, of the synthetic accessibility score (RDKit's
    sa_mean      Contrib SA_Score; lower is easier) and of Crippen's logP. MOSES reports the
    logp_mean    Wasserstein distance of each property's distribution to the test set's instead.

R is a reference set: the test set (`*_test`) or the scaffold test set (`*_testsf`). Its
statistics (fingerprints, fragment and scaffold counts, ChemNet's mean and covariance) take
minutes for MOSES's 176k molecules, so `reference` keeps them in a cache file (numpy arrays, no
pickle) keyed by the file's bytes and the versions of RDKit, `fcd` and this module.
A metric of an empty set (no valid molecule, no scaffold) is NaN: undefined, as in MOSES.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import sys
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np
import torch

from seqgan.config import ConfigError
from seqgan.data import DataError, read_bytes

INSTALL = "pip install 'seqgan[chem]'"
#: bump when a reference statistic changes meaning: it invalidates every cached reference
STATS_VERSION = 1
FP_BITS, FP_RADIUS = 1024, 2
ALLOWED_ATOMS = frozenset({"C", "N", "S", "O", "F", "Cl", "Br", "H"})
UNIQUE_AT = (1000, 10000)


class ChemUnavailable(ConfigError):
    """RDKit or the FCD package is missing; the message says how to install it."""


def require(fcd: bool = False) -> None:
    """Raise ChemUnavailable (one line naming the install command) unless RDKit (and with `fcd`
    the `fcd` package, which ships ChemNet's weights) can be imported."""
    try:
        import rdkit  # noqa: F401
    except ImportError:
        raise ChemUnavailable(f"the molecule metrics need RDKit, which is not installed: {INSTALL}") from None
    if fcd:
        try:
            import fcd as _fcd  # noqa: F401
        except ImportError:
            raise ChemUnavailable(f"FCD needs the fcd package (ChemNet and its weights), which is not installed: "
                                  f"{INSTALL}") from None


def _quiet() -> Any:
    """A context in which RDKit logs nothing (its parser reports every invalid SMILES on stderr);
    RDKit's logging is as it was afterwards."""
    from rdkit import rdBase
    return rdBase.BlockLogs()


# ============================================================================ molecules

def to_mol(smiles: str) -> Any:
    """The RDKit molecule of a SMILES string, or None when it is empty or does not parse and
    sanitise (MOSES's get_mol)."""
    from rdkit import Chem
    if not smiles:
        return None
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None
    try:
        Chem.SanitizeMol(mol)
    except ValueError:
        return None
    return mol


def canonical(smiles: Sequence[str]) -> list[Optional[str]]:
    """RDKit's canonical SMILES of each string (None where invalid)."""
    from rdkit import Chem
    with _quiet():
        mols = [to_mol(s) for s in smiles]
    return [None if m is None else Chem.MolToSmiles(m) for m in mols]


def validity(smiles: Sequence[str]) -> float:
    """The share of strings that are valid molecules."""
    if not smiles:
        return math.nan
    return sum(c is not None for c in canonical(smiles)) / len(smiles)


def unique_at(valid: Sequence[str], k: int) -> Optional[float]:
    """unique@k: distinct canonical SMILES among the first k valid molecules, over k; None when
    fewer than k are given."""
    if len(valid) < k:
        return None
    return len(set(valid[:k])) / k


def novelty(valid: Sequence[str], train: "set[str] | frozenset[str]") -> float:
    """The share of distinct valid molecules (canonical SMILES) not in `train`."""
    distinct = set(valid)
    if not distinct:
        return math.nan
    return len(distinct - train) / len(distinct)


# ============================================================================ fingerprints and Tanimoto

def fingerprints(mols: Sequence[Any]) -> np.ndarray:
    """Morgan fingerprints (radius 2, 1,024 bits, no chirality) as packed bits: (N, 128) uint8."""
    from rdkit.Chem import rdFingerprintGenerator
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=FP_RADIUS, fpSize=FP_BITS)
    out = np.zeros((len(mols), FP_BITS // 8), dtype=np.uint8)
    for i, m in enumerate(mols):
        out[i] = np.packbits(gen.GetFingerprintAsNumPy(m))
    return out


def _unpack(packed: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.unpackbits(packed, axis=1)).float()


def _tanimoto_blocks(ref: np.ndarray, gen: np.ndarray, block: int = 4096
                     ) -> Iterator[tuple[int, torch.Tensor]]:
    """Tanimoto similarities of packed fingerprints, one (ref block, gen block) at a time:
    yields (gen offset, (r, g) float64 similarities). |a & b| is a float32 matrix product of 0/1
    vectors, exact; two empty fingerprints have similarity 1 (MOSES). (MOSES divides in float32.)"""
    for j in range(0, len(gen), block):
        y = _unpack(gen[j:j + block])  # (g, D)
        ny = y.sum(1)
        for i in range(0, len(ref), block):
            x = _unpack(ref[i:i + block])  # (r, D)
            both = (x @ y.T).double()  # (r, g) exact integer counts
            union = x.sum(1, keepdim=True).double() + ny.double()[None, :] - both
            sim = torch.where(union > 0, both / union.clamp_min(1), torch.ones_like(both))
            yield j, sim


def nearest_similarity(gen: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """For each generated fingerprint, its largest Tanimoto similarity to a reference one: (G,)."""
    best = np.zeros(len(gen), dtype=np.float64)
    for j, sim in _tanimoto_blocks(ref, gen):
        cols = sim.max(0).values.numpy()
        best[j:j + len(cols)] = np.maximum(best[j:j + len(cols)], cols)
    return best


def snn(gen: np.ndarray, ref: np.ndarray) -> float:
    """SNN: mean over generated molecules of the Tanimoto similarity to their nearest neighbour
    in the reference set."""
    if len(gen) == 0 or len(ref) == 0:
        return math.nan
    return float(nearest_similarity(gen, ref).mean())


def internal_diversity(fps: np.ndarray, p: int = 1) -> float:
    """IntDiv_p = 1 - mean_a (mean_b T(a, b)^p)^(1/p) over every ordered pair, a = b included
    (MOSES's code; its paper writes the p-th root outside the mean, the same for p = 1)."""
    if len(fps) == 0:
        return math.nan
    total = np.zeros(len(fps), dtype=np.float64)
    for j, sim in _tanimoto_blocks(fps, fps):
        total[j:j + sim.shape[1]] += (sim if p == 1 else sim ** p).sum(0).numpy()
    per = (total / len(fps)) ** (1.0 / p)
    return float(1.0 - per.mean())


# ============================================================================ fragments, scaffolds, filters

def _weights(mols: Sequence[Any], weights: Optional[Sequence[int]]) -> Sequence[int]:
    return weights if weights is not None else [1] * len(mols)


def fragments(mols: Sequence[Any], weights: Optional[Sequence[int]] = None) -> Counter:
    """Counts of BRICS fragments (canonical SMILES of the pieces, with their dummy atoms) over
    `mols`, each molecule counted `weights[i]` times (default once)."""
    from rdkit import Chem
    out: Counter = Counter()
    for m, w in zip(mols, _weights(mols, weights)):
        for piece in Chem.MolToSmiles(Chem.FragmentOnBRICSBonds(m)).split("."):
            out[piece] += w
    return out


def scaffold(mol: Any, min_rings: int = 2) -> Optional[str]:
    """The Bemis-Murcko scaffold's canonical SMILES, or None when it is empty or has fewer than
    `min_rings` rings (MOSES's code: 2)."""
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold
    try:
        scaf = MurckoScaffold.GetScaffoldForMol(mol)
    except (ValueError, RuntimeError):
        return None
    smiles = Chem.MolToSmiles(scaf)
    if not smiles or scaf.GetRingInfo().NumRings() < min_rings:
        return None
    return smiles


def scaffolds(mols: Sequence[Any], weights: Optional[Sequence[int]] = None) -> Counter:
    """Counts of the scaffolds of `mols` (those `scaffold` keeps), molecule i counted `weights[i]` times."""
    out: Counter = Counter()
    for m, w in zip(mols, _weights(mols, weights)):
        out[scaffold(m)] += w
    out.pop(None, None)
    return out


def cosine_similarity(a: Counter, b: Counter) -> float:
    """Cosine similarity of two count vectors over the union of their keys (NaN when either is
    empty, as MOSES)."""
    if not a or not b:
        return math.nan
    keys = sorted(set(a) | set(b))
    x = np.array([a.get(k, 0) for k in keys], dtype=np.float64)
    y = np.array([b.get(k, 0) for k in keys], dtype=np.float64)
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


_FILTERS: list[Any] = []


def filter_patterns() -> list[Any]:
    """The MCF and PAINS substructures (seqgan/chem/filters/*.csv, MOSES's lists) as RDKit queries."""
    from rdkit import Chem
    if not _FILTERS:
        pats = []
        for name in ("mcf.csv", "wehi_pains.csv"):
            text = resources.files("seqgan.chem").joinpath("filters", name).read_text(encoding="utf-8")
            for row in csv.DictReader(io.StringIO(text)):
                pat = Chem.MolFromSmarts(row["smarts"])
                if pat is None:
                    raise RuntimeError(f"seqgan/chem/filters/{name}: RDKit cannot read the SMARTS of {row['name']}")
                pats.append(pat)
        _FILTERS.extend(pats)
    return _FILTERS


def passes_filters(mol: Any) -> bool:
    """MOSES's data filters (see the module docstring), in MOSES's order."""
    from rdkit import Chem
    if mol is None:
        return False
    rings = mol.GetRingInfo()
    if rings.NumRings() and any(len(r) >= 8 for r in rings.AtomRings()):
        return False
    if any(a.GetFormalCharge() != 0 for a in mol.GetAtoms()):
        return False
    if any(a.GetSymbol() not in ALLOWED_ATOMS for a in mol.GetAtoms()):
        return False
    with_h = Chem.AddHs(mol)
    if any(with_h.HasSubstructMatch(p) for p in filter_patterns()):
        return False
    smiles = Chem.MolToSmiles(mol, isomericSmiles=False)
    return bool(smiles) and Chem.MolFromSmiles(smiles) is not None


def filters(mols: Sequence[Any], weights: Optional[Sequence[int]] = None) -> float:
    """The share of molecules that pass MOSES's filters (molecule i counted `weights[i]` times)."""
    w = _weights(mols, weights)
    if not mols:
        return math.nan
    with _quiet():
        return sum(wi for m, wi in zip(mols, w) if passes_filters(m)) / sum(w)


# ============================================================================ properties

def _sa_scorer() -> Callable[[Any], float]:
    """RDKit's Contrib SA_Score (Ertl & Schuffenhauer 2009; its fragment table is a file of the
    RDKit package, which it unpickles itself)."""
    try:
        from rdkit.Contrib.SA_Score import sascorer  # type: ignore[import-not-found]
    except ImportError:
        raise ChemUnavailable("this RDKit build lacks Contrib/SA_Score, which the SA score needs: "
                              f"{INSTALL} (the PyPI rdkit wheel ships it)") from None
    return sascorer.calculateScore  # type: ignore[no-any-return]


def property_means(mols: Sequence[Any], weights: Optional[Sequence[int]] = None) -> dict[str, float]:
    """Means of QED, SA and Crippen logP over `mols`, molecule i counted `weights[i]` times (NaN for none)."""
    from rdkit.Chem import QED, Crippen
    if not mols:
        return {"qed_mean": math.nan, "sa_mean": math.nan, "logp_mean": math.nan}
    sa = _sa_scorer()
    w = _weights(mols, weights)
    n = sum(w)
    return {"qed_mean": math.fsum(wi * QED.qed(m) for m, wi in zip(mols, w)) / n,
            "sa_mean": math.fsum(wi * sa(m) for m, wi in zip(mols, w)) / n,
            "logp_mean": math.fsum(wi * Crippen.MolLogP(m)  # type: ignore[attr-defined]
                                   for m, wi in zip(mols, w)) / n}


# ============================================================================ FCD

FCD_BATCH = 1024  # SMILES per ChemNet call (the progress bar's step); the network's own batch is 128


def chemnet(smiles: Sequence[str], progress: Optional[Callable[[int], None]] = None) -> np.ndarray:
    """ChemNet's penultimate activations (N, 512) of canonical SMILES (the `fcd` package's network
    and weights, on the CPU in this process)."""
    import fcd
    model = fcd.load_ref_model()
    parts = []
    for i in range(0, len(smiles), FCD_BATCH):
        chunk = list(smiles[i:i + FCD_BATCH])
        parts.append(fcd.get_predictions(model, chunk, batch_size=128, n_jobs=0, device="cpu"))
        if progress is not None:
            progress(len(chunk))
    return np.concatenate(parts) if parts else np.zeros((0, 512), dtype=np.float32)


def gaussian(act: np.ndarray, weights: Optional[Sequence[int]] = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (N - 1 normalised, as numpy's cov) of activations (N, 512), row i
    counted `weights[i]` times (the same as repeating it)."""
    a = act.astype(np.float64)
    w = np.ones(len(a), dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)
    return (a * w[:, None]).sum(0) / w.sum(), np.cov(a.T, fweights=w)


def frechet(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """The Fréchet distance of two Gaussians (the `fcd` package's computation)."""
    import fcd
    return float(fcd.calculate_frechet_distance(mu1, s1, mu2, s2))


# ============================================================================ reference sets

@dataclass
class Reference:
    """A reference set's statistics: everything the metrics need from it."""

    name: str
    size: int
    """Molecules in the file (non-blank lines)."""
    invalid: int
    """Lines RDKit could not read (left out of every statistic)."""
    fps: np.ndarray
    """(size - invalid, 128) packed Morgan fingerprints."""
    frag: Counter
    scaf: Counter
    mu: Optional[np.ndarray] = None
    sigma: Optional[np.ndarray] = None
    """ChemNet's mean (512,) and covariance (512, 512); None when computed without FCD."""

    @classmethod
    def of(cls, smiles: Sequence[str], name: str = "reference", fcd: bool = True,
           progress: Optional[Callable[[int], None]] = None) -> "Reference":
        """The statistics of a list of SMILES. `progress(n)` is called as molecules are done (twice
        per molecule with `fcd`: once for RDKit's statistics, once for ChemNet's)."""
        from rdkit import Chem
        fps_parts: list[np.ndarray] = []
        canon: list[str] = []
        frag: Counter = Counter()
        scaf: Counter = Counter()
        step = 2048  # molecules parsed at a time: RDKit molecules are large, only their statistics are kept
        for i in range(0, len(smiles), step):
            with _quiet():
                part = [m for m in (to_mol(s) for s in smiles[i:i + step]) if m is not None]
            fps_parts.append(fingerprints(part))
            frag.update(fragments(part))
            scaf.update(scaffolds(part))
            canon += [Chem.MolToSmiles(m) for m in part]
            if progress is not None:
                progress(min(step, len(smiles) - i))
        fps = np.concatenate(fps_parts) if fps_parts else np.zeros((0, FP_BITS // 8), dtype=np.uint8)
        mu = sigma = None
        if fcd and len(canon) >= 2:
            mu, sigma = gaussian(chemnet(canon, progress))
        return cls(name, len(smiles), len(smiles) - len(canon), fps, frag, scaf, mu, sigma)

    # ------------------------------------------------------------------ cache files (npz, no pickle)
    def save(self, path: Path, key: str) -> None:
        arrays: dict[str, np.ndarray] = {
            "meta": np.array(json.dumps({"key": key, "name": self.name, "size": self.size,
                                         "invalid": self.invalid})),
            "fps": self.fps,
            "frag_keys": np.array(list(self.frag), dtype=str), "frag_counts": np.array(list(self.frag.values())),
            "scaf_keys": np.array(list(self.scaf), dtype=str), "scaf_counts": np.array(list(self.scaf.values())),
        }
        if self.mu is not None and self.sigma is not None:
            arrays["mu"], arrays["sigma"] = self.mu, self.sigma
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, key: str) -> Optional["Reference"]:
        """The statistics saved under `key`, or None when the file is missing, damaged or another's."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                if meta.get("key") != key:
                    return None
                frag = Counter(dict(zip(z["frag_keys"].tolist(), z["frag_counts"].tolist())))
                scaf = Counter(dict(zip(z["scaf_keys"].tolist(), z["scaf_counts"].tolist())))
                mu = z["mu"] if "mu" in z.files else None
                sigma = z["sigma"] if "sigma" in z.files else None
                return cls(meta["name"], int(meta["size"]), int(meta["invalid"]), z["fps"], frag, scaf, mu, sigma)
        except (OSError, ValueError, KeyError, TypeError):
            return None


def read_smiles(path: str | Path, what: str) -> list[str]:
    """The SMILES of a file (plain or gzip): each non-blank line's first whitespace-separated
    field. DataError (one line, naming the file) for a missing, corrupt or non-UTF-8 file."""
    raw = read_bytes(path, what)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: invalid UTF-8; convert the file to UTF-8") from None
    out = [ln.split(maxsplit=1)[0] for ln in text.lstrip("\ufeff").splitlines() if ln.strip()]
    if not out:
        raise DataError(f"{what}={path}: the file has no SMILES; give a file with one molecule per line")
    return out


def cache_dir() -> Path:
    """Where reference statistics are kept: $SEQGAN_CACHE, else $XDG_CACHE_HOME/seqgan, else ~/.cache/seqgan."""
    if os.environ.get("SEQGAN_CACHE"):
        return Path(os.environ["SEQGAN_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "seqgan"


def _versions(fcd: bool) -> str:
    import rdkit
    parts = [f"stats{STATS_VERSION}", f"rdkit{rdkit.__version__}"]
    if fcd:
        import fcd as _fcd
        parts.append(f"fcd{getattr(_fcd, '__version__', '?')}")
    return "-".join(parts)


def reference(path: str | Path, what: str, fcd: bool = True, cache: Optional[Path] = None,
              quiet: bool = False) -> Reference:
    """A reference file's statistics, from `cache` when they were computed before (the key: the
    file's bytes, the versions of RDKit, fcd and these statistics), else computed (with a progress
    bar on stderr unless `quiet`) and saved there. cache=None: computed, not saved."""
    require(fcd)
    raw = read_bytes(path, what)
    key = f"{hashlib.sha256(raw).hexdigest()}-{_versions(fcd)}"
    file = cache / f"moses-reference-{key[:16]}.npz" if cache is not None else None
    if file is not None and file.is_file():
        ref = Reference.load(file, key)
        if ref is not None:
            return ref
    smiles = read_smiles(path, what)
    from tqdm import tqdm
    with tqdm(total=len(smiles) * (2 if fcd else 1), desc=f"reference statistics of {Path(path).name}",
              unit="mol", disable=quiet, file=sys.stderr, dynamic_ncols=True) as bar:
        ref = Reference.of(smiles, Path(path).name, fcd, bar.update)
    if file is not None:
        try:
            ref.save(file, key)
        except OSError as e:
            if not quiet:
                print(f"seqgan: warning: cannot cache the reference statistics in {file} ({e.strerror}); they "
                      f"will be computed again next time (set SEQGAN_CACHE to a writable folder)", file=sys.stderr)
    return ref


# ============================================================================ all of them

def molecule_metrics(samples: Sequence[str], test: Optional[Reference] = None,
                     scaffold_test: Optional[Reference] = None,
                     train: "Optional[set[str] | frozenset[str]]" = None, fcd: bool = True,
                     notes: Optional[list[str]] = None, progress: Optional[Callable[[str], None]] = None
                     ) -> dict[str, float]:
    """Every MOSES metric of generated SMILES `samples` (see the module docstring for each):
    valid, unique@1k, unique@10k (left out, with a note, when there are fewer valid molecules),
    novelty (with `train`), intdiv, intdiv2, filters, then fcd/snn/frag/scaf against `test`
    (_test) and `scaffold_test` (_testsf), and qed_mean, sa_mean, logp_mean. Also the counts
    chem_samples and chem_valid. `notes` collects a line for each metric that was left out."""
    require(fcd and (test is not None or scaffold_test is not None))
    say = progress or (lambda _: None)
    notes = notes if notes is not None else []
    say("parsing")
    valid = [c for c in canonical(samples) if c is not None]
    # every statistic below is a function of the molecule: computed once per distinct canonical
    # SMILES (re-read, as MOSES does) and counted as often as it was sampled
    counts = Counter(valid)
    with _quiet():
        parsed = [(smi, to_mol(smi)) for smi in counts]
    distinct = [smi for smi, m in parsed if m is not None]
    mols = [m for _, m in parsed if m is not None]
    weights = [counts[smi] for smi in distinct]
    out: dict[str, float] = {"chem_samples": len(samples), "chem_valid": len(valid),
                             "valid": len(valid) / len(samples) if samples else math.nan}
    for k in UNIQUE_AT:
        label = unique_label(k)
        u = unique_at(valid, k)
        if u is None:
            notes.append(f"{label} needs {k} valid molecules and there are {len(valid)}; draw more samples")
        else:
            out[label] = u
    if train is not None:
        out["novelty"] = novelty(valid, train)
    say("fingerprints")
    row = {smi: i for i, smi in enumerate(distinct)}
    fps = fingerprints(mols)[[row[smi] for smi in valid if smi in row]]  # one row per valid sample
    say("internal diversity")
    out["intdiv"] = internal_diversity(fps, 1)
    out["intdiv2"] = internal_diversity(fps, 2)
    say("filters")
    out["filters"] = filters(mols, weights)
    refs = [(suffix, r) for suffix, r in (("test", test), ("testsf", scaffold_test)) if r is not None]
    if refs:
        say("fragments and scaffolds")
        frag, scaf = fragments(mols, weights), scaffolds(mols, weights)
        gauss = None
        if fcd:
            say("ChemNet")
            if len(valid) >= 2:
                gauss = gaussian(chemnet(distinct), weights)
        for suffix, ref in refs:
            if fcd:
                if gauss is None or ref.mu is None or ref.sigma is None:
                    notes.append(f"fcd_{suffix} needs at least 2 valid molecules in both sets")
                else:
                    out[f"fcd_{suffix}"] = frechet(gauss[0], gauss[1], ref.mu, ref.sigma)
            say(f"nearest neighbours in {ref.name}")
            out[f"snn_{suffix}"] = snn(fps, ref.fps)
            out[f"frag_{suffix}"] = cosine_similarity(ref.frag, frag)
            out[f"scaf_{suffix}"] = cosine_similarity(ref.scaf, scaf)
    say("properties")
    out.update(property_means(mols, weights))
    return out


def unique_label(k: int) -> str:
    """'unique@1k' for k = 1000, 'unique@10k', else 'unique@<k>'."""
    return f"unique@{k // 1000}k" if k % 1000 == 0 else f"unique@{k}"


def validity_and_fcd(samples: Sequence[str], test: Reference) -> dict[str, float]:
    """`valid` and `fcd_test` alone (for temperature sweeps): the share of valid SMILES, and the
    FCD of the valid ones (canonical, duplicates kept) to `test` (NaN with fewer than 2)."""
    require(fcd=True)
    valid = [c for c in canonical(samples) if c is not None]
    out = {"valid": len(valid) / len(samples) if samples else math.nan, "fcd_test": math.nan}
    if len(valid) >= 2 and test.mu is not None and test.sigma is not None:
        counts = Counter(valid)
        mu, sigma = gaussian(chemnet(list(counts)), list(counts.values()))
        out["fcd_test"] = frechet(mu, sigma, test.mu, test.sigma)
    return out


def read_train_set(path: str | Path, what: str = "data.train") -> frozenset[str]:
    """The training file's SMILES as a set (novelty compares canonical generated SMILES with these
    strings as they are: MOSES's training set is RDKit-canonical)."""
    return frozenset(read_smiles(path, what))
