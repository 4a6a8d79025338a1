"""ORGAN's druglikeness objective for `reward.objective`: QED of each generated SMILES, 0 if invalid.

QED (Bickerton et al. 2012, "Quantifying the chemical beauty of drugs") lies in [0, 1], the
default `reward.objective_range`; a string RDKit cannot parse (or an empty one) scores 0, as in
ORGAN (Guimaraes et al. 2017), so the objective also rewards validity. Needs RDKit
(`pip install "seqgan[chem]"`). With the `molecules` preset:

    seqgan train --preset molecules --data ../shared/data/moses/train.smi.gz \
        --test ../shared/data/moses/test.smi.gz \
        --set reward.objective=examples/rewards/qed.py --set reward.mix=0.5

(λ = reward.mix = 0.5: half the discriminator, half QED). RDKit's parse warnings are silenced
for the call only.
"""

from rdkit import Chem
from rdkit.Chem import QED
from rdkit.rdBase import BlockLogs


def score(sequences: list[str]) -> list[float]:
    """For each SMILES string, RDKit's QED of the molecule, or 0.0 when it does not parse."""
    out = []
    with BlockLogs():  # invalid SMILES would print one warning each; only for this call
        for s in sequences:
            mol = Chem.MolFromSmiles(s) if s else None
            out.append(float(QED.qed(mol)) if mol is not None else 0.0)
    return out
