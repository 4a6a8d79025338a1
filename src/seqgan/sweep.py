"""Temperature sweeps: quality against diversity for every model, so that a GAN is compared with
its MLE baseline over the whole curve, not at one point (Caccia et al., "Language GANs Falling
Short", ICLR 2020). `seqgan sweep`.

Temperature T divides the logits everywhere (`generate`, `evaluate`, `sweep`): samples come from
softmax(logits / T), and the tempered model's NLL of held-out sequences is computed under the
same softmax(logits / T).

For each model and each T:

- oracle task: NLL-oracle of `samples` sequences drawn at T (quality: lower is better) and
  NLL-test, the tempered model's NLL of the held-out oracle sequences of training (coverage,
  diversity: lower is better);
- data task: BLEU-4 and BLEU-5 of `samples` sentences drawn at T against the test file
  (quality: higher is better), their Self-BLEU-4 and -5 (lower: more diverse) and the tempered
  model's NLL-test.
- molecules (runs with the smiles tokenizer, or `chem=True`; needs `pip install 'seqgan[chem]'`):
  also `valid`, the share of the samples that are valid SMILES, and `fcd_test`, the Fréchet ChemNet
  Distance of the valid ones to the test file (`seqgan.chem.metrics`; lower is better).

Samples at each T come from a fresh random stream seeded with `seed`, as `seqgan evaluate`
draws them, so the T = 1 numbers equal `evaluate`'s with the same seed and sample count.
A sweep is cheap (a few seconds per model and temperature on 2 CPU cores) and is not resumable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import torch

DEFAULT_TEMPERATURES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5)


#: the smallest temperature: 1 / T must stay far inside float32's range (3.4e38) for logits / T
MIN_TEMPERATURE = 1e-30


class SweepError(ValueError):
    """Bad input to a sweep (temperatures, runs)."""


def check_temperature(t: float, what: str = "--temperature") -> float:
    """T itself if it is a finite number > 0, else SweepError naming it."""
    if not (isinstance(t, (int, float)) and math.isfinite(t) and t > 0):
        raise SweepError(f"{what} {t}: a temperature must be a finite number > 0 (logits are divided by it)")
    if t < MIN_TEMPERATURE:
        raise SweepError(f"{what} {t}: below {MIN_TEMPERATURE:g}, logits / T overflow float32 and every token "
                         f"becomes the last id; use a temperature >= {MIN_TEMPERATURE:g} (0.01 is already greedy)")
    return float(t)


def parse_temperatures(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise SweepError(f"--temperatures {text!r}: expected numbers separated by commas, e.g. 0.8,1.0,1.2") from None
    if not values:
        raise SweepError("--temperatures: no values")
    return [check_temperature(v, "--temperatures") for v in values]


@dataclass
class Curve:
    label: str
    run_dir: str
    stage: str
    """'final' or 'mle' (the run's MLE baseline)."""
    task: str
    points: list[dict[str, float]] = field(default_factory=list)
    """One dict per temperature: {'temperature': T, metric: value, ...}."""


def sweep_model(gen: Any, temperatures: Sequence[float], samples: int, seed: int, oracle: Any = None,
                heldout: Optional[torch.Tensor] = None, references: Any = None, test_ids: Optional[torch.Tensor] = None,
                decode: Any = None, progress: Any = None, molecules: Any = None) -> list[dict[str, float]]:
    """The numbers of one model at every temperature (see the module docstring). `molecules`:
    (text of a row of ids, the test file's `seqgan.chem.metrics.Reference`) for validity and FCD."""
    from seqgan.metrics import bleu, self_bleu

    out = []
    for t in temperatures:
        rng = torch.Generator().manual_seed(seed)
        x = gen.sample(samples, rng, temperature=t)
        point: dict[str, float] = {"temperature": t}
        if oracle is not None:
            point["nll_oracle"] = oracle.nll(x)
            if heldout is not None:
                point["nll_test"] = gen.nll(heldout, temperature=t)
        else:
            sents = [decode(row) for row in x.tolist()]
            if references is not None:
                point.update({f"bleu{n}": v for n, v in bleu(sents, references, (4, 5)).items()})
            if len(sents) >= 2:
                point.update({f"self_bleu{n}": v for n, v in self_bleu(sents, (4, 5)).items()})
            if test_ids is not None:
                point["nll_test"] = gen.nll(test_ids, temperature=t)
            if molecules is not None:
                from seqgan.chem.metrics import validity_and_fcd
                text, ref = molecules
                point.update(validity_and_fcd([text(row) for row in x.tolist()], ref))
        out.append(point)
        if progress is not None:
            progress.update()
    return out


def sweep_runs(run_dirs: Sequence[str | Path], temperatures: Sequence[float], mle: bool = False,
               samples: Optional[int] = None, seed: int = 0, quiet: bool = False,
               chem: Optional[bool] = None, heldout: Optional[int] = None) -> list[Curve]:
    """Sweep the final generator of each run (and with `mle` its MLE baseline). `chem`: validity
    and FCD too (None: for runs with the smiles tokenizer). `heldout`: NLL-test of the oracle task on
    the first that many held-out sequences (default all)."""
    from tqdm import tqdm

    from seqgan.api import RunLoadError, is_smiles_run, load, run_inputs

    temperatures = [check_temperature(t, "--temperatures") for t in temperatures]
    jobs = [(d, stage) for d in run_dirs for stage in (("mle", "final") if mle else ("final",))]
    curves = []
    refs: dict[str, Any] = {}  # test file -> its molecule statistics, computed once
    with tqdm(total=len(jobs) * len(temperatures), desc="sweep", disable=quiet, dynamic_ncols=True) as bar:
        for d, stage in jobs:
            # the MLE baseline is the MLE generator the run kept: the best-valid epoch's with pretrain.select=best_valid
            best = stage == "mle" and (Path(d) / "generator_mle_best.safetensors").is_file()
            gen = load(d, mle=stage == "mle" and not best, mle_best=best)
            cfg = getattr(gen, "config")
            inputs = run_inputs(d, cfg, getattr(gen, "vocab"))
            n = samples or (cfg.train.eval_samples if cfg.task == "oracle" else cfg.eval.bleu_samples)
            from seqgan.memory import check_samples
            problem = check_samples(n, getattr(gen, "sizes"), cfg.task, "--samples")
            if problem:
                raise RunLoadError(problem)
            if cfg.task == "oracle":
                held = inputs.heldout if inputs.heldout is None or heldout is None else inputs.heldout[:heldout]
                pts = sweep_model(gen, temperatures, n, seed, oracle=inputs.oracle, heldout=held,
                                  progress=bar)
            else:
                if inputs.references is None and inputs.test_ids is None:
                    raise RunLoadError(f"{d}: the run has no test file; a sweep on your data needs one")
                molecules = None
                if chem or (chem is None and is_smiles_run(cfg)):
                    from seqgan.chem import metrics as cm
                    if inputs.test is None:
                        raise RunLoadError(f"{d}: the run has no test file; FCD needs one")
                    ref = refs.get(inputs.test)
                    if ref is None:
                        ref = refs[inputs.test] = cm.reference(inputs.test, "data.test", cache=cm.cache_dir(),
                                                               quiet=quiet)
                    molecules = (getattr(gen, "vocab").decode_text, ref)
                pts = sweep_model(gen, temperatures, n, seed, references=inputs.references,
                                  test_ids=inputs.test_ids, decode=getattr(gen, "vocab").decode, progress=bar,
                                  molecules=molecules)
            label = f"{Path(d).name}" + ((" (MLE, best valid)" if best else " (MLE)") if stage == "mle" else "")
            curves.append(Curve(label, str(d), stage, cfg.task, pts))
    return curves


def to_markdown(curves: Sequence[Curve]) -> str:
    keys = [k for k in ("nll_oracle", "nll_test", "bleu4", "bleu5", "self_bleu4", "self_bleu5", "valid", "fcd_test")
            if any(k in p for c in curves for p in c.points)]
    head = "| model | T | " + " | ".join(keys) + " |\n|" + "---|" * (len(keys) + 2) + "\n"
    rows = "".join(f"| {c.label} | {p['temperature']:g} | " + " | ".join(
        f"{p[k]:.4f}" if k in p else "" for k in keys) + " |\n" for c in curves for p in c.points)
    return head + rows


def plot_curves(curves: Sequence[Curve], out: Path) -> Path:
    """Quality against diversity, one curve per model, points labelled by T; 'better' marked.
    Raises `seqgan.plot.PlotError` without matplotlib."""
    from seqgan.plot import new_figure

    oracle = curves[0].task == "oracle"
    panels = ([("nll_test", "NLL-test of held-out oracle sequences (diversity)", "lower",
                "nll_oracle", "NLL-oracle of samples (quality)", "lower")] if oracle else
              [("self_bleu5", "Self-BLEU-5 (diversity)", "lower", "bleu5", "BLEU-5 (quality)", "higher"),
               ("nll_test", "NLL-test (diversity)", "lower", "bleu5", "BLEU-5 (quality)", "higher")])
    if any("fcd_test" in p for c in curves for p in c.points):
        panels.append(("fcd_test", "FCD to the test set", "lower", "valid", "validity", "higher"))
    fig = new_figure((7 * len(panels), 5.5), needs="--out")
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, (xk, xl, xb, yk, yl, yb) in zip(axes[0], panels):
        for c in curves:
            pts = [p for p in c.points if xk in p and yk in p]
            if not pts:
                continue
            (line,) = ax.plot([p[xk] for p in pts], [p[yk] for p in pts], marker="o", ms=4, label=c.label,
                              linestyle="--" if c.stage == "mle" else "-")
            for p in pts:
                ax.annotate(f"{p['temperature']:g}", (p[xk], p[yk]), fontsize=7, color=line.get_color(),
                            xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel(f"{xl}: {xb} is better {'←' if xb == 'lower' else '→'}")
        ax.set_ylabel(f"{yl}: {yb} is better {'↓' if yb == 'lower' else '↑'}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Temperature sweep (points: softmax temperature T)")
    fig.tight_layout()
    from seqgan.files import write_out
    write_out(out, lambda p: fig.savefig(p, dpi=110, format="png"))
    return out
