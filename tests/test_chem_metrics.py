"""The MOSES molecule metrics (seqgan.chem.metrics) against hand computations on a handful of
molecules, against MOSES's own published test values, and end to end through `evaluate` and
`sweep`. Skipped cleanly without RDKit (and the FCD parts without the fcd package)."""

from __future__ import annotations

import gzip
import json
import math
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rdkit")

from rdkit import Chem, DataStructs  # noqa: E402
from rdkit.Chem import QED, Crippen, rdFingerprintGenerator  # noqa: E402

from conftest import SHARED  # noqa: E402
from seqgan.chem import metrics as cm  # noqa: E402
from seqgan.cli import main  # noqa: E402

MOSES = SHARED / "data" / "moses"


def has_fcd() -> bool:
    try:
        import fcd  # noqa: F401
    except ImportError:
        return False
    return True


needs_fcd = pytest.mark.skipif(not has_fcd(), reason="the fcd package (pip install 'seqgan[chem]') is not installed")


def morgan(smiles: str) -> DataStructs.ExplicitBitVect:
    """RDKit's Morgan bit vector, radius 2, 1,024 bits, computed here independently of the module."""
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    return gen.GetFingerprint(Chem.MolFromSmiles(smiles))


def mols(smiles: list[str]) -> list:
    return [cm.to_mol(s) for s in smiles]


# ============================================================================ validity, uniqueness, novelty

def test_validity_by_hand():
    # valid: CCO, benzene, Kekulé benzene; invalid: an unclosed ring, the empty string, a five-valent carbon,
    # a non-aromatic lower-case ring (c1cccc1 cannot be kekulised), text
    samples = ["CCO", "C1CC", "", "c1ccccc1", "C(C)(C)(C)(C)C", "C1=CC=CC=C1", "c1cccc1", "hello"]
    assert cm.validity(samples) == 3 / 8
    assert cm.canonical(["OCC", "C1=CC=CC=C1", "C1CC"]) == ["CCO", "c1ccccc1", None]


def test_unique_at_counts_the_first_k_valid_canonical():
    valid = [c for c in cm.canonical(["CCO", "OCC", "C1CC", "CCN", "c1ccccc1", "C1=CC=CC=C1", "NCC"]) if c]
    assert valid == ["CCO", "CCO", "CCN", "c1ccccc1", "c1ccccc1", "CCN"]
    assert cm.unique_at(valid, 2) == 1 / 2  # CCO twice
    assert cm.unique_at(valid, 3) == 2 / 3
    assert cm.unique_at(valid, 6) == 3 / 6
    assert cm.unique_at(valid, 7) is None  # fewer than k valid: not computed


def test_novelty_by_hand():
    valid = ["CCO", "CCN", "CCN", "c1ccccc1", "CCCl"]
    assert cm.novelty(valid, frozenset({"CCO", "c1ccccc1", "CCCC"})) == 2 / 4  # CCN and CCCl are new
    assert math.isnan(cm.novelty([], frozenset({"CCO"})))


def test_molecule_metrics_counts_and_notes(monkeypatch):
    notes: list[str] = []
    out = cm.molecule_metrics(["CCO", "OCC", "C1CC", "CCN"], train=frozenset({"CCO"}), notes=notes)
    assert (out["chem_samples"], out["chem_valid"], out["valid"]) == (4, 3, 3 / 4)
    assert out["novelty"] == 1 / 2  # {CCO, CCN} - {CCO}
    assert "unique@1k" not in out and "unique@10k" not in out
    assert notes == ["unique@1k needs 1000 valid molecules and there are 3; draw more samples",
                     "unique@10k needs 10000 valid molecules and there are 3; draw more samples"]
    labels = (cm.unique_label(1000), cm.unique_label(10000), cm.unique_label(3))
    assert labels == ("unique@1k", "unique@10k", "unique@3")
    monkeypatch.setattr(cm, "UNIQUE_AT", (3, 4))
    out = cm.molecule_metrics(["CCO", "OCC", "C1CC", "CCN", "NCC", "CCCl"], notes=[])
    assert (out["unique@3"], out["unique@4"]) == (2 / 3, 2 / 4)  # valid: CCO CCO CCN | CCN CCCl


def test_duplicates_count_as_often_as_sampled():
    """Every statistic is computed once per distinct molecule and weighted by its count: the
    same numbers as with each sample on its own."""
    gen = ["CCO", "OCC", "c1ccccc1O", "CCO", "Cc1ccc(Cc2ccccn2)cc1", "CC=O", "CC=O", "CC=O"]
    ref = cm.Reference.of(REF, fcd=False)
    out = cm.molecule_metrics(gen, ref, fcd=False, notes=[])
    valid = [s for s in cm.canonical(gen) if s]
    each = mols(valid)  # one molecule per sample, duplicates repeated
    assert out["filters"] == pytest.approx(sum(cm.passes_filters(m) for m in each) / len(each))
    assert out["frag_test"] == pytest.approx(cm.cosine_similarity(ref.frag, sum(
        (cm.fragments([m]) for m in each), Counter())))
    assert out["qed_mean"] == pytest.approx(np.mean([QED.qed(m) for m in each]))
    fps = [morgan(s) for s in valid]
    T = np.array([[DataStructs.TanimotoSimilarity(a, b) for b in fps] for a in fps])
    assert out["intdiv"] == pytest.approx(1 - T.mean(), abs=1e-12)


# ============================================================================ Tanimoto: IntDiv and SNN

GEN = ["CCOC(=O)c1ccccc1", "CC(=O)Nc1ccc(O)cc1", "c1ccc2ccccc2c1", "CCOC(=O)c1ccccc1", "CCN(CC)C(=O)c1ccccc1"]
REF = ["COc1ccccc1", "Cc1ccc(Cc2ccccn2)cc1", "CC(=O)Nc1ccccc1", "O=C(O)c1ccccc1"]


def test_internal_diversity_by_hand():
    fps = [morgan(s) for s in GEN]
    T = np.array([[DataStructs.TanimotoSimilarity(a, b) for b in fps] for a in fps])  # every ordered pair
    assert T[0, 3] == 1.0 and T[0, 0] == 1.0  # the duplicate counts, and so does each molecule with itself
    packed = cm.fingerprints(mols(GEN))
    assert cm.internal_diversity(packed, 1) == pytest.approx(1 - T.mean(), abs=1e-12)
    assert cm.internal_diversity(packed, 2) == pytest.approx(1 - np.sqrt((T ** 2).mean(1)).mean(), abs=1e-12)
    # MOSES's code takes the root per molecule: not the paper's (mean T^2)^(1/2) over all pairs
    assert abs(cm.internal_diversity(packed, 2) - (1 - np.sqrt((T ** 2).mean()))) > 1e-3


def test_snn_by_hand():
    g, r = [morgan(s) for s in GEN], [morgan(s) for s in REF]
    nearest = [max(DataStructs.BulkTanimotoSimilarity(a, r)) for a in g]
    assert cm.snn(cm.fingerprints(mols(GEN)), cm.fingerprints(mols(REF))) == pytest.approx(np.mean(nearest), abs=1e-12)
    # blocks: the same with blocks smaller than the sets
    sims = np.zeros(len(GEN))
    for j, s in cm._tanimoto_blocks(cm.fingerprints(mols(REF)), cm.fingerprints(mols(GEN)), block=2):
        sims[j:j + s.shape[1]] = np.maximum(sims[j:j + s.shape[1]], s.max(0).values.double().numpy())
    assert sims == pytest.approx(nearest, abs=1e-7)


def test_fingerprints_are_rdkits_morgan_bits():
    packed = cm.fingerprints(mols(["CC(=O)Nc1ccc(O)cc1"]))
    assert packed.shape == (1, 128) and packed.dtype == np.uint8
    assert np.flatnonzero(np.unpackbits(packed[0])).tolist() == list(morgan("CC(=O)Nc1ccc(O)cc1").GetOnBits())


def test_two_empty_fingerprints_are_identical():
    empty = np.zeros((2, 128), dtype=np.uint8)
    assert cm.snn(empty, empty) == 1.0 and cm.internal_diversity(empty, 1) == 0.0


# ============================================================================ fragments and scaffolds

def test_brics_fragments_by_hand():
    # ethyl benzoate: BRICS cuts the ester into the carbonyl, the ester oxygen, the ethyl and the phenyl
    assert cm.fragments(mols(["CCOC(=O)c1ccccc1"])) == Counter(
        {"[1*]C([6*])=O": 1, "[3*]O[3*]": 1, "[4*]CC": 1, "[16*]c1ccccc1": 1})
    # N,N-diethylbenzamide: two ethyls; naphthalene has no BRICS bond and stays whole
    assert cm.fragments(mols(["CCN(CC)C(=O)c1ccccc1", "c1ccc2ccccc2c1"])) == Counter(
        {"[4*]CC": 2, "[5*]N([5*])[5*]": 1, "[1*]C([6*])=O": 1, "[16*]c1ccccc1": 1, "c1ccc2ccccc2c1": 1})


def test_scaffolds_by_hand():
    assert cm.scaffold(cm.to_mol("Cc1ccc(Cc2ccccn2)cc1")) == "c1ccc(Cc2ccccn2)cc1"  # side chain off, linker kept
    assert cm.scaffold(cm.to_mol("CCOC(=O)c1ccccc1")) is None  # one ring: below MOSES's min_rings=2
    assert cm.scaffold(cm.to_mol("CCOC(=O)c1ccccc1"), min_rings=1) == "c1ccccc1"
    assert cm.scaffold(cm.to_mol("CCCC")) is None
    assert cm.scaffolds(mols(["Cc1ccc(Cc2ccccn2)cc1", "Clc1ccc(Cc2ccccn2)cc1", "c1ccc2ccccc2c1", "CCO"])) == Counter(
        {"c1ccc(Cc2ccccn2)cc1": 2, "c1ccc2ccccc2c1": 1})


def test_cosine_similarity_by_hand():
    a, b = Counter({"x": 2, "y": 1}), Counter({"x": 1, "z": 3})
    assert cm.cosine_similarity(a, b) == pytest.approx(2 / (math.sqrt(5) * math.sqrt(10)), abs=1e-15)
    assert cm.cosine_similarity(a, a) == pytest.approx(1.0)
    assert math.isnan(cm.cosine_similarity(a, Counter()))


def test_frag_and_scaf_metrics_by_hand():
    gen, ref = ["CCOC(=O)c1ccccc1", "Cc1ccc(Cc2ccccn2)cc1"], ["COc1ccccc1", "Cc1ccc(Cc2ccccn2)cc1", "c1ccc2ccccc2c1"]
    test = cm.Reference.of(ref, fcd=False)
    out = cm.molecule_metrics(gen, test, fcd=False, notes=[])
    # gen fragments: ester 4 pieces + [14*]c1ccccn1, [16*]c1ccc(C)cc1, [8*]C[8*]; ref: [16*]c1ccccc1, [3*]OC,
    # the same three of the pyridine, naphthalene. Shared: [16*]c1ccccc1 (1, 1) and the three (1, 1) each.
    assert out["frag_test"] == pytest.approx(4 / (math.sqrt(7) * math.sqrt(6)), abs=1e-12)
    # scaffolds: gen {pyridyl-benzyl: 1}; ref {pyridyl-benzyl: 1, naphthalene: 1}
    assert out["scaf_test"] == pytest.approx(1 / math.sqrt(2), abs=1e-12)


# ============================================================================ filters and properties

@pytest.mark.parametrize("smiles, passes, why", [
    ("CCO", True, "clean"),
    ("O=C(O)c1ccccc1Cl", True, "aryl chloride is allowed"),
    ("C1CCCCCC1", True, "a 7-ring is allowed"),
    ("C1CCCCCCC1", False, "a ring of 8 atoms"),
    ("CC[N+](C)(C)C", False, "a formal charge"),
    ("CCP", False, "phosphorus is not among C N S O F Cl Br H"),
    ("CC=O", False, "MCF7: aldehyde"),
    ("C1CO1", False, "MCF5: epoxide"),
    ("CCCl", False, "MCF4: alkyl halide"),
    ("Oc1ccccc1O", False, "PAINS catechol_A"),
    ("S=C1SC(=Cc2ccccc2)C(=O)N1", False, "PAINS ene_rhod"),
])
def test_filters_rules(smiles, passes, why):
    assert cm.passes_filters(cm.to_mol(smiles)) is passes, why


def test_filter_lists_are_moses_s():
    pats = cm.filter_patterns()
    assert len(pats) == 22 + 480
    assert cm.filters(mols(["CCO", "CC=O", "Oc1ccccc1O", "c1ccccc1"])) == 2 / 4


@pytest.mark.skipif(not (MOSES / "test.smi.gz").is_file(), reason="../shared/data/moses not present")
def test_moses_test_molecules_pass_moses_filters():
    """MOSES built its data set with these filters: a sample of its test set passes all of them."""
    with gzip.open(MOSES / "test.smi.gz", "rt") as f:
        lines = f.read().splitlines()
    sample = random.Random(0).sample(lines, 100)
    assert cm.filters(mols(sample)) == 1.0


def test_property_means_by_hand():
    from rdkit.Contrib.SA_Score import sascorer
    smiles = ["CCO", "CC(=O)Nc1ccc(O)cc1", "c1ccc2ccccc2c1"]
    ms = [Chem.MolFromSmiles(s) for s in smiles]
    out = cm.property_means(mols(smiles))
    assert out["qed_mean"] == pytest.approx(sum(QED.qed(m) for m in ms) / 3, abs=1e-12)
    assert out["logp_mean"] == pytest.approx(sum(Crippen.MolLogP(m) for m in ms) / 3, abs=1e-12)
    assert out["sa_mean"] == pytest.approx(sum(sascorer.calculateScore(m) for m in ms) / 3, abs=1e-12)
    weighted = cm.property_means(mols(smiles), [2, 1, 1])  # a molecule sampled twice counts twice
    assert weighted["qed_mean"] == pytest.approx((2 * QED.qed(ms[0]) + QED.qed(ms[1]) + QED.qed(ms[2])) / 4)


# ============================================================================ FCD and MOSES's own numbers

@needs_fcd
def test_fcd_equals_the_frechet_formula_by_eigenvalues():
    import fcd
    a = ["CCO", "CCN", "c1ccccc1", "CC(=O)O", "CCCl", "c1ccncc1", "CC(C)O", "OCCO", "OCC", "c1ccccc1"]  # 2 twice
    b = ["CCCO", "c1ccccc1O", "CC(=O)Nc1ccccc1", "CCOC", "NCCN", "c1ccsc1", "CC#N", "O=C=O"]
    model = fcd.load_ref_model()
    xa = fcd.get_predictions(model, [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in a], n_jobs=0, device="cpu")
    xb = fcd.get_predictions(model, [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in b], n_jobs=0, device="cpu")
    ma, mb = xa.astype(np.float64).mean(0), xb.astype(np.float64).mean(0)
    sa, sb = np.cov(xa.astype(np.float64).T), np.cov(xb.astype(np.float64).T)
    # Tr((S_a S_b)^(1/2)) = sum of the square roots of the eigenvalues of S_a S_b (real, >= 0)
    ev = np.linalg.eigvals(sa @ sb).real.clip(min=0)
    by_hand = float(((ma - mb) ** 2).sum() + np.trace(sa) + np.trace(sb) - 2 * np.sqrt(ev).sum())
    ref = cm.Reference.of(b)
    out = cm.molecule_metrics(a, ref, notes=[])
    assert out["fcd_test"] == pytest.approx(by_hand, rel=1e-4)
    assert cm.validity_and_fcd(a, ref)["fcd_test"] == pytest.approx(out["fcd_test"], rel=1e-9)
    assert cm.validity_and_fcd(b, ref)["fcd_test"] == pytest.approx(0.0, abs=1e-3)  # a set against itself


@needs_fcd
def test_moses_s_own_test_values():
    """MOSES's tests/test_metrics.py (molecularsets/moses) publishes these numbers for six generated
    strings against two test molecules; its FCD comes from fcd_torch and an older RDKit."""
    test = ["Oc1ccccc1-c1cccc2cnccc12", "COc1cccc(NC(=O)Cc2coc3ccc(OC)cc23)c1"]
    gen = ["CNC", "Oc1ccccc1-c1cccc2cnccc12", "INVALID", "CCCP", "Cc1noc(C)c1CN(C)C(=O)Nc1cc(F)cc(F)c1",
           "Cc1nc(NCc2ccccc2)no1-c1ccccc1"]
    out = cm.molecule_metrics(gen, cm.Reference.of(test), notes=[])
    assert out["valid"] == pytest.approx(2 / 3)
    assert out["snn_test"] == pytest.approx(0.3152585653588176, abs=1e-8)  # MOSES divides in float32
    assert out["frag_test"] == pytest.approx(0.3, abs=1e-9)
    assert out["scaf_test"] == pytest.approx(0.5, abs=1e-9)
    assert out["intdiv"] == pytest.approx(0.7189187309761661, abs=1e-9)
    assert out["filters"] == pytest.approx(0.75)
    assert out["fcd_test"] == pytest.approx(52.58371754126664, rel=1e-5)


# ============================================================================ reference files and their cache

def test_reference_cache_round_trips_and_is_keyed_by_the_file(tmp_path, monkeypatch):
    (tmp_path / "ref.smi.gz").write_bytes(gzip.compress("\n".join(REF + ["C1CC"]).encode()))
    cache = tmp_path / "cache"
    first = cm.reference(tmp_path / "ref.smi.gz", "--test", fcd=False, cache=cache, quiet=True)
    assert (first.size, first.invalid) == (5, 1) and len(list(cache.glob("*.npz"))) == 1

    def no(*a, **k):
        raise AssertionError("computed again")
    monkeypatch.setattr(cm.Reference, "of", classmethod(no))
    again = cm.reference(tmp_path / "ref.smi.gz", "--test", fcd=False, cache=cache, quiet=True)
    assert np.array_equal(again.fps, first.fps) and again.frag == first.frag and again.scaf == first.scaf
    assert (again.size, again.invalid, again.name) == (first.size, first.invalid, first.name)
    monkeypatch.setattr(cm, "STATS_VERSION", cm.STATS_VERSION + 1)  # the same file, other versions: recomputed
    with pytest.raises(AssertionError, match="computed again"):
        cm.reference(tmp_path / "ref.smi.gz", "--test", fcd=False, cache=cache, quiet=True)
    monkeypatch.setattr(cm, "STATS_VERSION", cm.STATS_VERSION - 1)
    (tmp_path / "ref.smi.gz").write_bytes(gzip.compress("\n".join(REF).encode()))  # another file: recomputed
    with pytest.raises(AssertionError, match="computed again"):
        cm.reference(tmp_path / "ref.smi.gz", "--test", fcd=False, cache=cache, quiet=True)


def test_reference_file_errors_are_one_line(tmp_path):
    from seqgan.data import DataError
    with pytest.raises(DataError, match=r"--scaffold-test=.*nope.smi: no such file"):
        cm.reference(tmp_path / "nope.smi", "--scaffold-test", fcd=False, quiet=True)
    (tmp_path / "blank.smi").write_text("\n \n")
    with pytest.raises(DataError, match=r"--test=.*blank.smi: the file has no SMILES"):
        cm.reference(tmp_path / "blank.smi", "--test", fcd=False, quiet=True)


# ============================================================================ evaluate and sweep

TINY = """\
seed: 2
device: cpu
task: data
data: {tokenizer: smiles}
generator: {emb_dim: 8, hidden_dim: 16}
discriminator: {emb_dim: 8, filter_sizes: [1, 2, 3], num_filters: [4, 4, 4]}
pretrain: {generator_epochs: 30, discriminator_rounds: 1, discriminator_epochs: 1}
adversarial: {iterations: 1, discriminator_rounds: 1, discriminator_epochs: 1, rollout_num: 2}
train: {batch_size: 16, eval_every: 10, threads: 1, tensorboard: false}
eval: {bleu_samples: 20, chem_samples: 40}
"""

CORPUS = ["CCO", "CCN", "CCOC(=O)c1ccccc1", "CC(=O)Nc1ccc(O)cc1", "c1ccc2ccccc2c1", "Cc1ccc(Cc2ccccn2)cc1",
          "COc1ccccc1", "CCN(CC)C(=O)c1ccccc1", "O=C(O)c1ccccc1Cl", "CC(C)O"]


@pytest.mark.slow  # the default suite keeps a SMILES run: test_smiles' test_smiles_run_generates_smiles
@needs_fcd
def test_evaluate_and_sweep_a_smiles_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SEQGAN_CACHE", str(tmp_path / "cache"))
    (tmp_path / "train.smi").write_text("\n".join(CORPUS * 12) + "\n")
    (tmp_path / "test.smi.gz").write_bytes(gzip.compress("\n".join(CORPUS[::2]).encode()))
    (tmp_path / "sf.smi").write_text("\n".join(REF) + "\n")
    (tmp_path / "cfg.yaml").write_text(TINY)
    run = tmp_path / "run"
    assert main(["train", "--config", str(tmp_path / "cfg.yaml"), "--data", str(tmp_path / "train.smi"), "--test",
                 str(tmp_path / "test.smi.gz"), "--out", str(run), "-q"]) == 0
    assert main(["evaluate", str(run), "--scaffold-test", str(tmp_path / "sf.smi"), "--json", "-q"]) == 0
    table = json.loads(capsys.readouterr().out)
    keys = {"valid", "novelty", "intdiv", "intdiv2", "filters", "qed_mean", "sa_mean", "logp_mean"} | {
        f"{m}_{r}" for m in ("fcd", "snn", "frag", "scaf") for r in ("test", "testsf")}
    assert keys <= set(table) and table["chem_samples"] == 40 and table["scaffold_test"] == str(tmp_path / "sf.smi")
    assert table["train"] == str(tmp_path / "train.smi")
    # the same numbers from the SMILES that `generate` prints with the same seed and count
    assert main(["generate", str(run), "-n", "40", "--seed", "0"]) == 0
    smiles = ["" if s == "<empty>" else s for s in capsys.readouterr().out.splitlines()]
    again = cm.molecule_metrics(smiles, cm.Reference.of(CORPUS[::2]), cm.Reference.of(REF),
                                frozenset(CORPUS), notes=[])
    for k in keys | {"chem_valid"}:
        a, b = table[k], again[k]
        assert (a is None and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-12), k
    assert table["valid"] > 0.3  # the tiny model has learnt some molecules
    # sweep: validity and FCD per temperature; at T = 1 with as many samples, evaluate's numbers
    assert main(["sweep", str(run), "--temperatures", "0.5,1.0", "--samples", "40", "--json", "-q"]) == 0
    points = json.loads(capsys.readouterr().out)[0]["points"]
    assert [p["temperature"] for p in points] == [0.5, 1.0] and all("fcd_test" in p for p in points)
    assert points[1]["valid"] == table["valid"] and points[1]["fcd_test"] == pytest.approx(table["fcd_test"], rel=1e-9)
    from seqgan.sweep import Curve, to_markdown
    assert "| valid | fcd_test |" in to_markdown([Curve("run", str(run), "final", "data", points)])
    # --no-chem: the text metrics only
    assert main(["evaluate", str(run), "--no-chem", "--json"]) == 0
    assert "valid" not in json.loads(capsys.readouterr().out)
    assert main(["evaluate", str(run), "--no-chem", "--train", "x"]) == 2
    assert "drop --no-chem" in capsys.readouterr().err


def test_evaluate_names_a_missing_reference_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SEQGAN_CACHE", str(tmp_path / "cache"))
    (tmp_path / "train.smi").write_text("\n".join(CORPUS * 12) + "\n")
    (tmp_path / "cfg.yaml").write_text(TINY.replace("generator_epochs: 30", "generator_epochs: 1"))
    run = tmp_path / "run"
    assert main(["train", "--config", str(tmp_path / "cfg.yaml"), "--data", str(tmp_path / "train.smi"),
                 "--out", str(run), "-q"]) == 0
    assert main(["evaluate", str(run), "--scaffold-test", str(tmp_path / "nope.smi"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    if has_fcd():
        assert len(err) == 1 and "--scaffold-test=" in err[0] and "nope.smi: no such file" in err[0]
    else:  # a reference set means FCD: without the fcd package, one line saying how to get it
        assert err == ["seqgan: error: FCD needs the fcd package (ChemNet and its weights), which is not installed: "
                       "pip install 'seqgan[chem]'"]
    # no test file and no scaffold test: no FCD, so the fcd package is not needed; the rest is there
    assert main(["evaluate", str(run), "--json", "-q"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert "valid" in table and "fcd_test" not in table and "novelty" in table
    # --temperature: the molecules `generate --temperature` prints with the same seed and count
    assert main(["evaluate", str(run), "--temperature", "0.5", "--json", "-q"]) == 0
    cold = json.loads(capsys.readouterr().out)
    assert main(["generate", str(run), "-n", "40", "--seed", "0", "--temperature", "0.5"]) == 0
    smiles = ["" if s == "<empty>" else s for s in capsys.readouterr().out.splitlines()]
    again = cm.molecule_metrics(smiles, None, None, frozenset(CORPUS), fcd=False, notes=[])
    for k in ("valid", "novelty", "intdiv", "filters", "qed_mean"):
        a, b = cold[k], again[k]
        assert (a is None and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-12), k
    assert cold["temperature"] == 0.5 and (cold["valid"], cold["qed_mean"]) != (table["valid"], table["qed_mean"])


def test_shared_path_in_the_preset_exists_beside_the_checkout():
    if not MOSES.is_dir():
        pytest.skip("../shared/data/moses not present")
    assert all((MOSES / f).is_file() for f in ("train.smi.gz", "test.smi.gz", "test_scaffolds.smi.gz"))
    assert Path(__file__).resolve().parents[1].parent / "shared" == SHARED
