"""`seqgan reproduce bench`: every registered method, the MLE baseline and the reward controls,
over seeds, on the synthetic oracle task, with NLL-test and temperature sweeps beside
NLL-oracle, so that no GAN is judged by one number.

Rows (each trained per seed in `DIR/<row>__<seed>`; finished runs are skipped, interrupted ones
resumed, and a row whose saved config differs from the command's is refused):

- `mle`: read from the `seqgan` runs (the end of their MLE pre-training; a method=mle run of
  the same seed is the same computation to the bit); the SeqGAN row is tested against it with
  the paired t-test by seed, every other row with Welch's;
- every registered adversarial method at the scale's schedule; RelGAN twice, at beta_max 100
  (`relgan`) and 1000 (`relgan_1000`), the authors' two settings on real data;
- `relgan_mle`: read from the `relgan` runs (the end of their MLE pre-training: RelGAN's own
  relational-memory generator, which the `relgan_1000` runs share to the bit), beside the
  LSTM's `mle` row;
- `leakgan_mle`: read from the `leakgan` runs (the end of their interleaved pre-training:
  LeakGAN's own Manager and Worker, with the discriminator they read then);
- `control_constant`, `control_random`: SeqGAN's loop with D's score replaced by 0.5 or by
  U(0, 1) noise, no D trained (`reward.kind`).

Tasks:

- `oracle`: length 20 (the paper's task; give the original's oracle with --oracle, else the
  seeded one, named in bench.md);
- `oracle40`: length 40 on a seeded 64/64 LSTM oracle with N(0, 1) weights, of the kind LeakGAN's
  paper used there (its exact weights came from TF's graph seed and cannot be recreated: numbers
  on it compare within this bench only).

Scales: `cpu` (the `laptop` schedule: MLE 50 epochs, D 20 x 1 epoch on 5,000 + 5,000,
10 iterations of 4 g-steps at batch 16 and 1 d-step; each run within 30 minutes on 2 cores at
length 20; RelGAN's rows the `relgan-cpu` preset: a smaller relational memory and
discriminator, MLE 50 epochs, 600 iterations; LeakGAN's the `leakgan` preset, whose MLE epoch
costs about 15 times SeqGAN's: 10 epochs, 10 D rounds, 20 iterations, and at length 40 a
shorter one still, `LENGTH40_METHOD`) and `smoke` (seconds; checks the pipeline, no result).

Writes `bench.md` (per row: NLL-oracle and NLL-test at the last evaluation, mean ± sd, the t-test's
p against MLE, the published number with its source; RelGAN's and LeakGAN's rows against their own
MLE stage, paired by seed; the sweep's means), `bench.json`, `bench_curves.png` (NLL-oracle
by generator training unit, mean ± sd) and `bench_sweep.png` (every row's final generators swept
over temperatures: NLL-oracle against NLL-test).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional, Sequence

from seqgan import methods as registry
from seqgan.compare import read_run, summarise, to_json, to_markdown
from seqgan.config import Config, ConfigError, load_config

CONTROLS = {"control_constant": ["reward.kind=constant"], "control_random": ["reward.kind=random"]}
#: rows that are a registered method with other settings: row -> (method, overrides), listed after the method's row
VARIANTS = {"relgan_1000": ("relgan", ["relgan.beta_max=1000"])}
#: rows read from another row's runs at the end of their MLE pre-training (as `mle` from `seqgan`): row -> source
MLE_STAGES = {"relgan_mle": "relgan", "leakgan_mle": "leakgan"}
LABELS = {"control_constant": "SeqGAN, constant reward (control)",
          "control_random": "SeqGAN, random reward (control)",
          "relgan": "RelGAN (beta_max 100)", "relgan_1000": "RelGAN (beta_max 1000)",
          "relgan_mle": "MLE, RelGAN's relational memory (its pre-training)",
          "leakgan_mle": "MLE, LeakGAN's Manager and Worker (its interleaved pre-training)"}
#: the preset of a method's rows at scale cpu (default `laptop`)
PRESETS = {"relgan": "relgan-cpu", "leakgan": "leakgan"}
#: a method's own schedule at scale cpu on the length-40 task, over its preset: LeakGAN's evaluations, MLE epochs
#: and D rounds each cost about 4 times their length-20 cost there (twice the tokens, the authors' 64/64 Worker
#: and Manager), a g-step about 6 times: 3 rounds of 1 D round and 1 epoch, 5 iterations. Measured (2026-12-04):
#: 33 min on 2 idle threads, 55 min of CPU time on 1; the shortest schedule that runs every stage, and not a
#: trained LeakGAN (docs/results/bench.md)
LENGTH40_METHOD = {"leakgan": ["pretrain.generator_epochs=3", "pretrain.discriminator_rounds=3",
                               "leakgan.pretrain_rounds=3", "adversarial.iterations=5",
                               "generator.emb_dim=64", "generator.hidden_dim=64"]}
#: methods that are not adversarial rows of their own (MLE is read from the SeqGAN runs)
NOT_ROWS = ("mle",)
TASKS = ("oracle", "oracle40")
SCALES = ("cpu", "smoke")
#: the length-40 oracle: a seeded 64/64 LSTM with N(0, 1) weights (LeakGAN's kind); the seed is ours
ORACLE40 = ["generator.seq_len=40", "oracle.emb_dim=64", "oracle.hidden_dim=64", "oracle.seed=40"]
SMOKE = ["oracle.num_samples=256", "oracle.test_samples=256", "train.eval_samples=256", "generator.vocab_size=50",
         "pretrain.generator_epochs=2", "pretrain.discriminator_rounds=1", "pretrain.discriminator_samples=0",
         "adversarial.iterations=2", "adversarial.generator_steps=1", "adversarial.discriminator_samples=0",
         "adversarial.rollout_num=2", "adversarial.batch_size=16", "train.eval_every=1",
         "discriminator.filter_sizes=[2, 3]", "discriminator.num_filters=[8, 8]"]
#: a method's own smoke-scale sizes
SMOKE_METHOD = {"relgan": ["generator.head_size=8", "relgan.emb_dim=8", "relgan.num_rep=4",
                           "relgan.filter_sizes=[2, 3]", "relgan.num_filters=[8, 8]", "relgan.hidden_dim=8"]}
TEMPERATURES = (0.7, 0.85, 1.0, 1.2, 1.5)


def row_names(methods: Optional[Sequence[str]] = None) -> list[str]:
    """The trained rows: the registered adversarial methods each followed by its variants (or
    `methods`), then the controls."""
    known = [r for m in registry.METHODS if m not in NOT_ROWS
             for r in [m, *(v for v, (base, _) in VARIANTS.items() if base == m)]] + list(CONTROLS)
    if not methods:
        return known
    stages = {"mle": "seqgan", **MLE_STAGES}  # rows read from another row's runs
    bad = [m for m in methods if m not in known and m not in stages]
    if bad:
        raise ConfigError(f"--methods {', '.join(bad)}: expected some of {', '.join(['mle'] + known)}")
    wanted = set(methods) | {stages[m] for m in methods if m in stages}
    return [m for m in known if m in wanted]


def label(row: str) -> str:
    return LABELS.get(row, registry.label(row))


def row_method(row: str) -> str:
    """The registered method a row runs."""
    return "seqgan" if row in CONTROLS else VARIANTS[row][0] if row in VARIANTS else row


def row_config(row: str, seed: int, task: str, scale: str, oracle: Optional[str], extra: Sequence[str]) -> Config:
    method = row_method(row)
    sets = [f"method={method}", *CONTROLS.get(row, []), *(VARIANTS[row][1] if row in VARIANTS else []),
            f"seed={seed}"]
    if task == "oracle40":
        sets += ORACLE40
    elif oracle:
        sets.append(f"oracle.path={oracle}")
    if scale == "smoke":
        sets += SMOKE + SMOKE_METHOD.get(method, [])
    elif task == "oracle40":
        sets += LENGTH40_METHOD.get(method, [])
    return load_config(PRESETS.get(method, "laptop"), sets + list(extra))


def published(row: str, task: str) -> Optional[tuple[float, str]]:
    """(value, source) a method's module publishes for the task (its PUBLISHED), if any (none for a
    variant or a control)."""
    if row in CONTROLS or row not in registry.METHODS and row != "mle":
        return None
    name = "seqgan" if row == "mle" else row
    table: dict[str, Any] = getattr(registry.METHODS[name].module(), "PUBLISHED", {})
    return table.get(f"{task}:mle" if row == "mle" else task)


def run_rows(out: Path, rows: Sequence[str], seeds: int, task: str, scale: str, oracle: Optional[str],
             extra: Sequence[str], quiet: bool) -> dict[str, list[Path]]:
    """Train, resume or skip every row for seeds 0..seeds-1 (`seqgan.rows.train_rows`: a row's run
    made with another config is refused); returns row -> run directories."""
    from seqgan.rows import RowRun, train_rows

    runs = [RowRun(label(row), seed, row_config(row, seed, task, scale, oracle, extra), out / f"{row}__{seed}")
            for seed in range(seeds) for row in rows]
    train_rows(runs, "seqgan bench", quiet, again="the same --task, --scale and --set as before")
    dirs: dict[str, list[Path]] = {}
    for seed in range(seeds):
        for row in rows:
            dirs.setdefault(row, []).append(out / f"{row}__{seed}")
    return dirs


def report(out: Path, dirs: dict[str, list[Path]], task: str, oracle: Optional[str],
           temperatures: Sequence[float] = TEMPERATURES, quiet: bool = True,
           sweep_samples: Optional[int] = None) -> str:
    """bench.md, bench.json, bench_curves.png and bench_sweep.png from the finished runs."""
    groups: dict[str, list[Any]] = {}
    if "seqgan" in dirs:
        groups["mle"] = [read_run(d, "pretrained") for d in dirs["seqgan"]]
    for stage, source in MLE_STAGES.items():
        if source in dirs:
            groups[stage] = [read_run(d, "pretrained") for d in dirs[source]]
    for row, ds in dirs.items():
        groups[row] = [read_run(d) for d in ds]
    metrics = ["nll_oracle", "nll_test"]
    # the SeqGAN row and the MLE row are two stages of the same runs: paired by seed; the rest Welch's
    rows = summarise(groups, metrics, "mle" if "mle" in groups else None, paired={"seqgan"})
    pub = {row: published(row, task) for row in groups}
    table = to_markdown(rows, metrics, "mle" if "mle" in groups else None)
    lines = table.splitlines()
    lines[0] += " published NLL-oracle (source) |"
    lines[1] += "---|"
    for i, r in enumerate(rows):
        p = pub.get(r.name)
        lines[2 + i] = lines[2 + i].replace(f"| {registry.label(r.name)} |", f"| {label(r.name)} |", 1)
        lines[2 + i] += f" {p[0]:.3f} ({p[1]}) |" if p else " |"
    which = {"oracle": f"length 20, oracle {oracle or 'seeded (oracle.seed 0), not the original'}",
             "oracle40": "length 40, a seeded 64/64 N(0, 1) LSTM oracle (oracle.seed 40): LeakGAN's paper used an "
                         "oracle of this kind whose weights cannot be recreated, so these numbers compare within "
                         "this bench only, not with its published length-40 column"}[task]
    md = (f"Bench ({which}). NLL-oracle and NLL-test (nats per token) at each run's last evaluation, mean ± sd "
          f"over seeds (n runs), and the two-sided t-test p against MLE (the MLE row is the end of the SeqGAN "
          f"runs' pre-training, so the SeqGAN row is paired with it by seed; every other row is Welch's)"
          + (". RelGAN pre-trains its own generator (a relational memory, not the LSTM): its MLE row is the end of "
             "the RelGAN runs' pre-training, the point its rows start from" if "relgan_mle" in groups else "")
          + (". LeakGAN pre-trains its own generator (a Manager and a Worker reading D's features): its MLE row is "
             "the end of the LeakGAN runs' interleaved pre-training" if "leakgan_mle" in groups else "")
          + ". Published numbers are quoted as the papers report them (their own oracles, sample counts and "
          "selection; not comparable to the bit).\n\n"
          + "\n".join(lines) + "\n")
    from seqgan.compare import LABELS as METRIC_LABELS, _fmt_p
    from seqgan.files import json_safe
    own = own_stage_tests(groups, metrics)
    if own:
        md += ("\nAgainst their own pre-training (the MLE row read from the same runs, the point they start from; "
               "the paired t-test by seed): the mean change and its p.\n\n| row | against | "
               + " | ".join(f"{METRIC_LABELS.get(m, m)} change | p" for m in metrics) + " |\n|"
               + "---|" * (2 + 2 * len(metrics)) + "\n")
        for name, t in own.items():
            md += (f"| {label(name)} | {label(t['stage'])} | "
                   + " | ".join(f"{t['change'][m]:+.3f} | {_fmt_p(t['p_value'].get(m))}" for m in metrics) + " |\n")
    sweep = sweep_means(dirs, temperatures, quiet, sweep_samples)
    md += ("\nTemperature sweep of the final generators (mean over seeds): NLL-oracle / NLL-test at each T"
           + (f" ({sweep_samples} samples and the first {sweep_samples} held-out sequences a point)"
              if sweep_samples else "")
           + ". A row whose point lies on the MLE row's curve has moved along it, not beyond it.\n\n| row | "
           + " | ".join(f"T = {t:g}" for t in temperatures) + " |\n|" + "---|" * (len(temperatures) + 1) + "\n")
    for name, pts in sweep.items():
        md += f"| {label(name)} | " + " | ".join(f"{p['nll_oracle']:.3f} / {p['nll_test']:.3f}" for p in pts) + " |\n"
    (out / "bench.md").write_text(md, encoding="utf-8")
    js = {"task": task, "oracle": oracle, "published": {k: v for k, v in pub.items() if v},
          **to_json(rows, metrics, "mle" if "mle" in groups else None), "own_mle": json_safe(own), "sweep": sweep}
    (out / "bench.json").write_text(json.dumps(js, indent=1), encoding="utf-8")
    from seqgan.reproduce import plot_methods
    plot_methods([d for ds in dirs.values() for d in ds], out / "bench_curves.png",
                 group=lambda d: d.name.rsplit("__", 1)[0], labels=label)
    sweep_figure(sweep, out / "bench_sweep.png")
    return md


def own_stage_tests(groups: dict[str, list[Any]], metrics: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each row of a method that pre-trains its own generator (MLE_STAGES: RelGAN, LeakGAN, and their
    variants, which share that pre-training to the bit) against its own MLE stage, paired by seed:
    row -> {stage, change: metric -> mean of (row - stage) over the seeds both hold, p_value: metric ->
    the paired t-test's p (`summarise`'s, seeds >= 2)}."""
    from seqgan.compare import _by_seed
    out: dict[str, dict[str, Any]] = {}
    for stage, source in MLE_STAGES.items():
        if stage not in groups:
            continue
        for row in [r for r in groups if row_method(r) == source]:
            tested = summarise({stage: groups[stage], row: groups[row]}, metrics, stage, paired={row})[1]
            change = {}
            for m in metrics:
                mine, theirs = _by_seed(row, groups[row], m), _by_seed(stage, groups[stage], m)
                seeds = sorted(set(mine) & set(theirs))
                if seeds:
                    change[m] = sum(mine[k] - theirs[k] for k in seeds) / len(seeds)
            out[row] = {"stage": stage, "change": change, "p_value": tested.p_values}
    return out


def sweep_means(dirs: dict[str, list[Path]], temperatures: Sequence[float], quiet: bool,
                samples: Optional[int] = None) -> dict[str, list[dict[str, float]]]:
    """Every row's final generators (and the MLE generators of the SeqGAN and RelGAN runs) swept over
    `temperatures` (`seqgan.sweep`): row -> per temperature the means over seeds of NLL-oracle and
    NLL-test (`samples`: NLL-oracle of that many samples, NLL-test of the first that many held-out
    sequences; default the runs' evaluation's)."""
    from seqgan.sweep import sweep_runs
    stage_of = {"seqgan": "mle", **{source: stage for stage, source in MLE_STAGES.items()}}
    series: dict[str, list[list[dict[str, float]]]] = {}
    for row, ds in dirs.items():
        for c in sweep_runs(ds, temperatures, mle=row in stage_of, samples=samples, heldout=samples, quiet=quiet):
            series.setdefault(stage_of[row] if c.stage == "mle" else row, []).append(c.points)
    return {name: [{"temperature": t, "n": len(runs),
                    **{k: sum(r[i][k] for r in runs) / len(runs) for k in ("nll_oracle", "nll_test")}}
                   for i, t in enumerate(temperatures)] for name, runs in series.items()}


def sweep_figure(sweep: dict[str, list[dict[str, float]]], out: Path) -> Optional[Path]:
    """NLL-oracle against NLL-test, one curve per row, points labelled by T. Skipped without matplotlib."""
    from seqgan.plot import PlotError, new_figure
    try:
        fig = new_figure((8, 6))
    except PlotError:
        return None
    ax = fig.subplots()
    for name, pts in sweep.items():
        xs, ys = [p["nll_test"] for p in pts], [p["nll_oracle"] for p in pts]
        (line,) = ax.plot(xs, ys, marker="o", label=f"{label(name)} (n={int(pts[0]['n'])})")
        for x, y, p in zip(xs, ys, pts):
            ax.annotate(f"{p['temperature']:g}", (x, y), fontsize=7, color=line.get_color(), xytext=(3, 3),
                        textcoords="offset points")
    ax.set(xlabel="NLL-test (coverage; lower is better)", ylabel="NLL-oracle (quality; lower is better)",
           title="Temperature sweep of every row's final generator (mean over seeds; points labelled by T)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    from seqgan.files import atomic_write
    atomic_write(out, lambda p: fig.savefig(p, dpi=110, format="png"))
    return out
