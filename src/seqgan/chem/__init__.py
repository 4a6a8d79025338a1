"""Molecules as SMILES: the MOSES metrics of generated molecules (`seqgan.chem.metrics`).

Optional: `pip install 'seqgan[chem]'` brings RDKit and `fcd` (ChemNet's weights, for FCD).
Importing this package needs neither; `seqgan.chem.metrics.require()` says, in one line, what
is missing and how to install it.
"""
