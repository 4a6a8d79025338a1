"""`seqgan reproduce` (seqgan/reproduce.py): table1's PG-BLEU and SS rows' settings against
SeqGAN's at every scale, and a tiny table1 end to end: its rows, the MLE row equal to a method=mle
run of the same seed, and a second call that skips every finished row; a smoke-scale `bench` end
to end: its rows and tests (Welch, paired), resumable, refusing runs of another config. The bench
rows of LeakGAN and RelGAN are tested in test_leakgan.py and test_relgan.py."""

from __future__ import annotations

import json

import pytest

from seqgan.cli import main

TINY_SETS = ["oracle.num_samples=128", "oracle.emb_dim=8", "oracle.hidden_dim=8", "oracle.test_samples=128",
             "generator.vocab_size=30", "generator.emb_dim=8", "generator.hidden_dim=8", "generator.seq_len=6",
             "discriminator.emb_dim=8", "discriminator.filter_sizes=[2,3]", "discriminator.num_filters=[4,4]",
             "pretrain.generator_epochs=2", "pretrain.discriminator_rounds=1", "pretrain.discriminator_samples=0",
             "adversarial.iterations=2", "adversarial.discriminator_samples=0", "adversarial.rollout_num=2",
             "train.batch_size=32", "train.eval_every=1", "train.eval_samples=64", "train.tensorboard=false",
             "train.threads=1", "device=cpu"]


@pytest.mark.parametrize("scale", ["quick", "fast", "paper"])
def test_pg_bleu_rows_run_seqgan_s_loop_and_ss_seqgan_s_mle_length_or_the_paper_s(scale):
    from seqgan.reproduce import row_config
    seqgan, pg, ss = (row_config(scale, m, 0, None, []) for m in ("seqgan", "pg_bleu", "scheduled_sampling"))
    assert pg.method == "pg_bleu" and ss.method == "scheduled_sampling"
    assert pg.pretrain.generator_epochs == seqgan.pretrain.generator_epochs
    assert pg.adversarial.model_dump() == seqgan.adversarial.model_dump()
    assert ss.pretrain.generator_epochs == (300 if scale == "paper" else seqgan.pretrain.generator_epochs)



def test_reproduce_table1_end_to_end_and_resumable(tmp_path, capsys):
    out = tmp_path / "t1"
    args = ["reproduce", "table1", "--scale", "quick", "--seeds", "2", "--out", str(out), "-q"]
    for s in TINY_SETS:
        args += ["--set", s]
    assert main(args) == 0
    table = json.loads((out / "table1.json").read_text())
    names = [g["name"] for g in table["groups"]]
    assert names == ["random", "mle", "scheduled_sampling", "pg_bleu", "seqgan"]
    assert all(g["n"] == 2 for g in table["groups"])
    md = (out / "table1.md").read_text()
    assert "| Random | 2 |" in md and "| SeqGAN | 2 |" in md and "10.310" in md
    assert (out / "table1.png").stat().st_size > 0
    # Random is the untrained generator: above every trained row
    means = {g["name"]: g["mean"]["nll_oracle"] for g in table["groups"]}
    assert means["random"] > means["mle"]
    assert sorted(p.name for p in out.glob("*__*")) == [f"{m}__{s}" for m in ("pg_bleu", "scheduled_sampling", "seqgan")
                                                        for s in (0, 1)]
    # the MLE row is the SeqGAN runs' pre-training: the same numbers as a method=mle run of that seed
    mle = tmp_path / "mle__1"
    sets = [f"--set={s}" for s in TINY_SETS]
    assert main(["train", "--preset", "quick", "--method", "mle", "--seed", "1", "--out", str(mle), "-q", *sets]) == 0
    final = json.loads((mle / "summary.json").read_text())["evaluations"]["final"]
    mle_group = next(g for g in table["groups"] if g["name"] == "mle")
    assert final["nll_oracle"] in mle_group["values"]["nll_oracle"]
    assert final["nll_oracle"] != means["random"]
    # run again: every row is finished and skipped, the table is the same
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*__*/summary.json")}
    capsys.readouterr()
    assert main(args) == 0
    assert capsys.readouterr().err.count("is finished") == 6
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*__*/summary.json")} == before


def test_reproduce_bench_end_to_end_resumable_and_checked(tmp_path, capsys):
    out = tmp_path / "bench"
    args = ["reproduce", "bench", "--scale", "smoke", "--seeds", "2", "--methods", "mle", "control_random",
            "--out", str(out), "-q"]
    assert main(args) == 0
    md = (out / "bench.md").read_text()
    for name in ("| MLE | 2 |", "| SeqGAN | 2 |", "| SeqGAN, random reward (control) | 2 |",
                 "8.736 (Yu et al. 2017, Table 1)"):
        assert name in md, name
    js = json.loads((out / "bench.json").read_text())
    assert [g["name"] for g in js["groups"]] == ["mle", "seqgan", "control_random"]
    from scipy import stats
    g = {x["name"]: x for x in js["groups"]}
    p = stats.ttest_ind(g["control_random"]["values"]["nll_oracle"], g["mle"]["values"]["nll_oracle"],
                        equal_var=False).pvalue
    assert g["control_random"]["p_value"]["nll_oracle"] == pytest.approx(p)
    p = stats.ttest_rel(g["seqgan"]["values"]["nll_oracle"], g["mle"]["values"]["nll_oracle"]).pvalue
    assert g["seqgan"]["p_value"]["nll_oracle"] == pytest.approx(p)  # two stages of the same runs: paired
    final = json.loads((out / "control_random__1" / "summary.json").read_text())
    # the last, not the best
    assert g["control_random"]["values"]["nll_oracle"][1] == final["evaluations"]["final"]["nll_oracle"]
    assert (out / "bench_curves.png").stat().st_size > 0 and (out / "bench_sweep.png").stat().st_size > 0
    capsys.readouterr()
    assert main(args) == 0  # every run finished: nothing trained again
    assert "training" not in capsys.readouterr().err
    assert main(args + ["--set", "adversarial.rollout_num=3"]) == 2  # another config: refused
    assert "made with another config" in capsys.readouterr().err
    assert main(args + ["--set", "train.threads=1"]) == 0  # how, not what, a run computes: accepted
    capsys.readouterr()
    assert main(args + ["--sweep-samples", "40"]) == 0  # the finished runs' report again, its sweep smaller
    assert "(40 samples and the first 40 held-out sequences a point)" in (out / "bench.md").read_text()
    assert json.loads((out / "bench.json").read_text())["sweep"] != js["sweep"]

