"""`seqgan evaluate` on an oracle run: NLL-oracle of the final generator and of the MLE baseline with the
run's own oracle, NLL-test on the run's held-out oracle sequences, equal to summary.json's. (Evaluate on
your data, SMILES and hostile input: tests/test_cli_data.py, test_chem_metrics.py, test_hostile_inputs.py.)"""

from __future__ import annotations

import json

import torch

import seqgan
from seqgan.cli import main


def test_evaluate_an_oracle_run(reference_run, capsys):
    """NLL-oracle of the final generator and of the MLE baseline, with the run's own oracle."""
    from seqgan.models import build_oracle
    assert main(["evaluate", str(reference_run), "-n", "256", "--json"]) == 0
    final = json.loads(capsys.readouterr().out)
    gen = seqgan.load(reference_run)
    oracle = build_oracle(gen.config)
    assert final["samples"] == 256
    assert final["nll_oracle"] == oracle.nll(gen.sample(256, torch.Generator().manual_seed(0)))  # as Run.score
    assert main(["evaluate", str(reference_run), "-n", "256", "--json", "--mle"]) == 0
    mle = json.loads(capsys.readouterr().out)
    base = seqgan.load(reference_run, mle=True)  # the generator as it was at the end of MLE
    assert mle["nll_oracle"] == oracle.nll(base.sample(256, torch.Generator().manual_seed(0)))
    assert mle["nll_oracle"] != final["nll_oracle"]
    # NLL-test: the generator's NLL of the run's held-out oracle sequences (the same ones as in training)
    from seqgan.train.run import HELDOUT_SEED, STREAM_HELDOUT, make_rng
    heldout = oracle.sample(gen.config.oracle.test_samples, make_rng(HELDOUT_SEED, STREAM_HELDOUT, torch.device("cpu")))
    assert final["nll_test"] == gen.nll(heldout) and mle["nll_test"] == base.nll(heldout)
    last = json.loads((reference_run / "summary.json").read_text())["evaluations"]["final"]
    assert last["nll_test"] == final["nll_test"]
