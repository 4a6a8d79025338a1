"""Your own objective as the reward (`reward.objective`, ORGAN's mix with the critic): the mixed
reward and the duplicate penalty against hand computation, each distinct completion scored
once, every bad return a one-line error naming the function and the sequence (exit 2 through
the CLI, the checkpoints intact), and the plug-in reaching the gradient in a tiny run."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from seqgan.config import ConfigError, load_config
from seqgan.objective import Objective, ObjectiveError, load_objective, parse_objective
from seqgan.rewards.objective import ObjectiveReward, duplicate_weights
from seqgan.rollout import rollout_rewards
from seqgan.train.steps import uses_discriminator

from conftest import REPO
from runs import GAN, metrics_without_timing, train_cli, write_tiny_config

EXAMPLE = REPO / "examples" / "rewards" / "char_share.py"


class FixedCritic:
    """A critic whose outputs are fixed numbers, whatever the rows."""

    def __init__(self, values: list[float]) -> None:
        self.values = torch.tensor(values)

    def __call__(self, sequences: torch.Tensor) -> torch.Tensor:
        return self.values.clone()


def lookup(table: dict[tuple[int, ...], float], calls: list[list]) -> Objective:
    """An objective scoring token-id lists from `table`, recording each call's argument."""
    def fn(seqs: list) -> list[float]:
        calls.append(seqs)
        return [table[tuple(s)] for s in seqs]
    return Objective(fn, "test:lookup")


# ============================================================================ the reward by hand

A, B, C = [1, 1, 2], [2, 2, 2], [1, 2, 1]
ROWS = torch.tensor([A, B, A, C])  # A twice
TABLE = {tuple(A): 0.5, tuple(B): 0.25, tuple(C): 1.0}


@pytest.mark.parametrize("penalty,expected", [
    # R = 0.25 D + 0.75 O w;  D = 0.2, 0.4, 0.6, 0.8;  O = 0.5, 0.25, 0.5, 1.0
    ("none", [0.05 + 0.375, 0.1 + 0.1875, 0.15 + 0.375, 0.2 + 0.75]),
    # w = 1 / count: A counts 2
    ("count", [0.05 + 0.1875, 0.1 + 0.1875, 0.15 + 0.1875, 0.2 + 0.75]),
    # w = (3 distinct / 4 rows) / count
    ("organ", [0.05 + 0.140625, 0.1 + 0.140625, 0.15 + 0.140625, 0.2 + 0.5625]),
])
def test_mixed_reward_equals_the_hand_computation(penalty, expected):
    reward = ObjectiveReward(lookup(TABLE, []), list, mix=0.25, critic=FixedCritic([0.2, 0.4, 0.6, 0.8]),
                             penalty=penalty)
    torch.testing.assert_close(reward(ROWS), torch.tensor(expected))


def test_mix_zero_is_the_objective_alone():
    reward = ObjectiveReward(lookup(TABLE, []), list, mix=0.0, critic=None, penalty="none")
    assert reward(ROWS).tolist() == [0.5, 0.25, 0.5, 1.0]
    assert reward.sampled_mean == pytest.approx((0.5 + 0.25 + 0.5 + 1.0) / 4)  # the g-step's objective_mean


def test_duplicate_weights_count_within_each_batch():
    X, Y, Z = [5, 5], [6, 6], [7, 7]
    rows = torch.unique(torch.tensor([X, X, Y, X, Z, Z, Z]), dim=0, return_inverse=True)[1]  # equal rows, equal ids
    groups = torch.tensor([4, 4, 4, 9, 9, 9, 9])  # batch 4: X X Y; batch 9: X Z Z Z
    count = [1 / 2, 1 / 2, 1, 1, 1 / 3, 1 / 3, 1 / 3]  # X in batch 9 is alone there
    torch.testing.assert_close(duplicate_weights(rows, groups, "count"), torch.tensor(count))
    share = [2 / 3] * 3 + [2 / 4] * 4  # distinct rows / rows of each batch
    torch.testing.assert_close(duplicate_weights(rows, groups, "organ"), torch.tensor(share) * torch.tensor(count))
    assert duplicate_weights(rows, None, "count").tolist() == pytest.approx([1 / 3, 1 / 3, 1, 1 / 3] + [1 / 3] * 3)
    assert duplicate_weights(rows, groups, "none").tolist() == [1.0] * 7


# ============================================================================ rollouts

def constant_policy(token: int, vocab: int = 6, T: int = 4):
    """A generator that emits `token` whatever the prefix (probability 1 - O(e^-60))."""
    from runs import one_token_generator
    return one_token_generator(token, vocab, T)


def test_rollouts_count_duplicates_within_each_rollout_column():
    """Y = r, r, s with a policy that completes every prefix the same way: in each rollout column
    (prefix length p, rollout n) r's completion appears twice, so 'count' halves it; counted over
    the whole call (both rollouts together) it would appear 4 times."""
    gen = constant_policy(token=2)
    Y = torch.tensor([[1, 3, 4, 5], [1, 3, 4, 5], [0, 1, 1, 1]])
    reward = ObjectiveReward(Objective(lambda seqs: [1.0] * len(seqs), "test:one"), list, penalty="count")
    q = rollout_rewards(gen, reward, Y, 2, torch.Generator().manual_seed(0)).rewards  # (3, 4)
    assert q.tolist() == [[0.5] * 4, [0.5] * 4, [1.0] * 4]


def test_each_distinct_completion_is_scored_once():
    gen = constant_policy(token=2, vocab=6, T=5)
    Y = torch.tensor([[1, 3, 4, 5, 0], [1, 3, 4, 5, 0], [1, 3, 1, 1, 1]])
    calls: list[list] = []

    def share(seqs: list) -> list[float]:
        calls.append(seqs)
        return [s.count(2) / len(s) for s in seqs]

    reward = ObjectiveReward(Objective(share, "test:share"), list, penalty="none")
    r = rollout_rewards(gen, reward, Y, 3, torch.Generator().manual_seed(0))
    assert len(calls) == 2  # the sampled batch, then every completion in one call
    assert calls[0] == sorted([[1, 3, 4, 5, 0], [1, 3, 1, 1, 1]])  # Y's two distinct rows
    completions = r.completions.reshape(-1, 5)  # (T-1) N B = 36 rows
    distinct = torch.unique(completions, dim=0)
    assert len(calls[1]) == distinct.shape[0] < completions.shape[0]  # 6 distinct of 36
    assert sorted(map(tuple, calls[1])) == sorted(map(tuple, distinct.tolist()))
    torch.testing.assert_close(r.scores.reshape(-1), (completions == 2).float().mean(1))  # scattered back to every copy


# ============================================================================ loading

def test_names_parse_into_module_or_file_and_function():
    assert parse_objective("pkg.mod:fn") == (None, "pkg.mod", "fn")
    assert parse_objective("pkg.mod") == (None, "pkg.mod", "score")
    assert parse_objective("a/b.py:fn") == (Path("a/b.py"), "a/b.py", "fn")
    assert parse_objective("a/b.py") == (Path("a/b.py"), "a/b.py", "score")
    assert parse_objective("C:/x/b.py") == (Path("C:/x/b.py"), "C:/x/b.py", "score")  # a drive is no function
    for bad in ("", "my mod:fn", "a/b.txt", "mod:", ":fn"):
        with pytest.raises(ConfigError, match="expected 'module:function'"):
            parse_objective(bad)


def test_the_example_file_loads_by_path_and_scores_by_hand():
    obj = load_objective(str(EXAMPLE))
    assert obj.name == f"{EXAMPLE}:score"
    assert obj(["banana", "", "xyz"]).tolist() == [0.5, 0.0, 0.0]
    tokens = load_objective(f"{EXAMPLE}:token_share")
    assert tokens([[0, 1, 0, 2], [3]]).tolist() == [0.5, 0.0]


def test_a_module_on_the_path_loads(tmp_path, monkeypatch):
    (tmp_path / "my_scores_mod.py").write_text("def score(seqs):\n    return [1.0 for _ in seqs]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    obj = load_objective("my_scores_mod:score")
    assert obj.name == "my_scores_mod:score" and obj([[1], [2]]).tolist() == [1.0, 1.0]
    sys.modules.pop("my_scores_mod", None)


@pytest.mark.parametrize("spec,source,message", [
    ("nowhere.py", None, "no such file"),
    ("no_such_module_xyz:score", None, "no module named 'no_such_module_xyz'"),
    ("obj.py:missing", "def score(s):\n    return s\n", "has no 'missing'"),
    ("obj.py", "def scorer(s):\n    return s\n", "has no 'score'; name the function"),
    ("obj.py:THRESHOLD", "THRESHOLD = 3\n", "'THRESHOLD' in .* is a int, not a function"),
    ("obj.py", "import no_such_dependency_xyz\n", "loading .* raised ModuleNotFoundError"),
    ("obj.py", "def score(s)\n", "loading .* raised SyntaxError"),
])
def test_loading_problems_are_one_line_config_errors(tmp_path, monkeypatch, spec, source, message):
    monkeypatch.chdir(tmp_path)
    if source is not None:
        (tmp_path / "obj.py").write_text(source)
    with pytest.raises(ConfigError, match=message) as e:
        load_objective(spec)
    assert "\n" not in str(e.value) and str(e.value).startswith(f"reward.objective={spec}")


# ============================================================================ bad returns

BAD = {  # the function's body (on `seqs`, lists of token ids) -> what the error says
    "raises": ("return [1 / (0 if 7 in s else 1) for s in seqs]",
               r"raised ZeroDivisionError: division by zero on \[1, 7, 1\]"),
    "wrong_count": ("return [0.5] * (len(seqs) - 1)", r"returned 2 scores for 3 sequences"),
    "nan": ("return [float('nan') if 7 in s else 0.5 for s in seqs]", r"returned nan for \[1, 7, 1\]: not a finite"),
    "inf": ("return [float('inf') if 7 in s else 0.5 for s in seqs]", r"returned inf for \[1, 7, 1\]: not a finite"),
    "out_of_range": ("return [1.5 if 7 in s else 0.5 for s in seqs]",
                     r"returned 1.5 for \[1, 7, 1\], outside reward.objective_range \[0, 1\]"),
    "not_a_number": ("return ['high' if 7 in s else 0.5 for s in seqs]",
                     r"returned 'high' \(str\) for \[1, 7, 1\]: not a number"),
    "none": ("return [None if 7 in s else 0.5 for s in seqs]", r"returned None \(NoneType\) for \[1, 7, 1\]"),
    "scalar": ("return 0.5", r"returned a float, not one score per sequence"),
    "two_d": ("return [[0.5]] * len(seqs)", r"returned a list of shape \(3, 1\), not one score per sequence"),
}


def objective_file(folder: Path, body: str, name: str = "bad.py") -> Path:
    path = folder / name
    path.write_text(f"def score(seqs):\n    {body}\n")
    return path


@pytest.mark.parametrize("case", sorted(BAD))
def test_every_bad_return_is_one_line_naming_the_function_and_the_sequence(tmp_path, case):
    body, message = BAD[case]
    path = objective_file(tmp_path, body)
    reward = ObjectiveReward(load_objective(str(path)), list, penalty="none")
    with pytest.raises(ObjectiveError, match=message) as e:
        reward(torch.tensor([[1, 2, 1], [1, 7, 1], [1, 1, 1]]))
    text = str(e.value)
    assert "\n" not in text and text.startswith(f"reward.objective {path}:score ")


@pytest.mark.parametrize("value", [[0.0, 1.0], (0.0, 1.0), np.array([0.0, 1.0], dtype=np.float32),
                                   torch.tensor([0.0, 1.0]), [False, True], [0, 1]])
def test_every_sequence_of_numbers_is_accepted(value):
    assert Objective(lambda seqs: value, "t:v")([[1], [2]]).tolist() == [0.0, 1.0]


def test_a_declared_range_is_the_check():
    obj = Objective(lambda seqs: [-3.0, 12.0], "t:v", -5.0, 20.0)
    assert obj([[1], [2]]).tolist() == [-3.0, 12.0]
    with pytest.raises(ObjectiveError, match=r"returned 12 for \[2\], outside reward.objective_range \[-5, 10\]"):
        Objective(lambda seqs: [-3.0, 12.0], "t:v", -5.0, 10.0)([[1], [2]])


# ============================================================================ config

def test_config_checks_the_reward_section():
    def problem(*sets: str) -> str:
        with pytest.raises(ConfigError) as e:
            load_config("quick", list(sets))
        return str(e.value)

    assert "reward.mix=1.5 must be in [0, 1]" in problem("reward.mix=1.5", "reward.objective=m:f")
    assert "reward.objective is null" in problem("reward.mix=0.5")
    assert "objective_range=[1.0, 0.0] must be [low, high]" in problem("reward.objective_range=[1, 0]")
    assert "must be [low, high]" in problem("reward.objective_range=[0, 1, 2]")
    assert "expected 'module:function'" in problem("reward.objective='not a name'")
    assert "method=maligan mixes the objective into D's probability" in problem(
        "method=maligan", "reward.objective=m:f", "reward.mix=0.5", "reward.objective_range=[0, 2]")
    cfg = load_config("quick", ["reward.objective=m:f", "reward.mix=0"])
    assert not uses_discriminator(cfg)  # the objective alone: no D
    assert uses_discriminator(load_config("quick", ["reward.objective=m:f", "reward.mix=0.5"]))
    assert load_config("quick", ["method=maligan", "reward.objective=m:f", "reward.mix=0.5"]).reward.mix == 0.5


# ============================================================================ runs

TINY = {**GAN, "pretrain": {"generator_epochs": 1, "discriminator_rounds": 1}}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_tiny_config(tmp_path / "tiny.yaml", **TINY)


@pytest.mark.parametrize("method", ["seqgan", "maligan", "pg_bleu", "rankgan"])
@pytest.mark.parametrize("mix", [0.0, 0.5])
def test_every_policy_gradient_method_takes_the_objective(tiny, tmp_path, method, mix):
    out = tmp_path / "run"
    assert train_cli(tiny, out, f"method={method}", f"reward.objective={EXAMPLE}:token_share", f"reward.mix={mix}",
                     "adversarial.iterations=2") == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert all(0 <= r["objective_mean"] <= 1 for r in rows if r["phase"] == "adversarial")
    critic = {"seqgan": "discriminator", "maligan": "discriminator", "rankgan": "ranker", "pg_bleu": None}[method]
    if critic is not None:  # at mix = 0 nothing reads the critic: none is built, trained or saved
        assert (out / f"{critic}.safetensors").exists() == (mix > 0)


def test_an_objective_left_at_mix_one_warns_and_is_not_called(tiny, tmp_path, capsys):
    path = objective_file(tmp_path, "raise RuntimeError('called')")
    assert train_cli(tiny, tmp_path / "run", f"reward.objective={path}", "adversarial.iterations=1") == 0
    assert "is loaded but not called: reward.mix=1" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["raises", "nan", "out_of_range", "not_a_number", "wrong_count"])
def test_a_bad_objective_stops_the_cli_with_exit_2_and_one_line(tiny, tmp_path, capsys, case):
    body = BAD[case][0].replace("7 in s", "len(seqs) > 0 and s is seqs[0]")  # the first sequence of each call
    path = objective_file(tmp_path, body)
    out = tmp_path / "run"
    assert train_cli(tiny, out, f"reward.objective={path}", "reward.mix=0", "adversarial.iterations=1") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith(f"seqgan: error: reward.objective {path}:score ")
    assert f"seqgan train --resume {out}" in err


def test_the_configured_range_is_the_run_s_check(tiny, tmp_path):
    path = objective_file(tmp_path, "return [3.0] * len(seqs)")
    sets = [f"reward.objective={path}", "reward.mix=0", "adversarial.iterations=1"]
    assert train_cli(tiny, tmp_path / "wide", *sets, "reward.objective_range=[-1, 5]") == 0
    assert train_cli(tiny, tmp_path / "default", *sets) == 2


def test_a_missing_objective_stops_before_anything_is_written(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    assert train_cli(tiny, out, "reward.objective=no_such_module_xyz:score", "reward.mix=0") == 2
    assert "no module named 'no_such_module_xyz'" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


COUNTING = """\
from pathlib import Path
COUNTER = Path({counter!r})

def score(seqs):
    n = int(COUNTER.read_text()) + 1 if COUNTER.exists() else 1
    COUNTER.write_text(str(n))
    if n == {fail_at}:
        raise RuntimeError("call " + str(n))
    return [s.count(0) / len(s) for s in seqs]
"""


def test_after_a_failing_objective_the_run_resumes_from_its_checkpoint(tiny, tmp_path, capsys):
    """The objective raises on its 7th call (the 4th g-step's sampled batch, two calls per g-step):
    exit 2, then --resume continues from the newest checkpoint and ends as an uninterrupted run."""
    def objective(name: str, fail_at: int) -> Path:
        path = tmp_path / f"{name}.py"
        path.write_text(COUNTING.format(counter=str(tmp_path / f"{name}.count"), fail_at=fail_at))
        return path

    sets = ["reward.mix=0.5", "adversarial.iterations=5"]
    ref, out = tmp_path / "ref", tmp_path / "out"
    assert train_cli(tiny, ref, f"reward.objective={objective('never', -1)}", *sets) == 0
    failing = objective("once", 7)
    assert train_cli(tiny, out, f"reward.objective={failing}", *sets) == 2
    assert "raised RuntimeError: call 7 on a batch of" in capsys.readouterr().err
    assert not (out / "summary.json").exists()
    from seqgan import checkpoint as ckpt
    latest = ckpt.latest_valid(out)
    assert latest is not None  # the newest checkpoint: after iteration 3 of 5, written before the failure
    assert (latest.state["train_state"]["phase"], latest.state["train_state"]["step"]) == ("adversarial", 3)
    from seqgan.cli import main
    assert main(["train", "--resume", str(out), "-q"]) == 0
    assert metrics_without_timing(out) == metrics_without_timing(ref)


def test_a_toy_objective_rises_with_the_objective_alone(tmp_path):
    """λ = 0 on a tiny character corpus, the example objective (share of 'a'): its mean over
    each g-step's samples rises several-fold. The mean baseline makes the update follow the
    objective's differences only, so a rise is the plug-in's doing, not self-sharpening."""
    import random
    rng = random.Random(0)
    words = "a man dog cat rides sits on the bench street red small".split()
    data = tmp_path / "lines.txt"
    data.write_text("".join("".join(rng.choice(words) for _ in range(rng.randint(2, 4))) + "\n" for _ in range(128)))
    cfg = tmp_path / "chars.yaml"
    cfg.write_text(f"""\
seed: 0
device: cpu
task: data
data: {{train: {data}, tokenizer: char}}
generator: {{emb_dim: 16, hidden_dim: 16}}
pretrain: {{generator_epochs: 2}}
adversarial: {{iterations: 8, rollout_num: 2, batch_size: 32, reward_baseline: mean, generator_lr: 0.02}}
eval: {{bleu_samples: 8}}
train: {{batch_size: 32, eval_every: 100, threads: 1, tensorboard: false, checkpoint_every: 0}}
reward: {{objective: {EXAMPLE}, mix: 0.0}}
""")
    out = tmp_path / "run"
    assert train_cli(cfg, out) == 0
    means = [json.loads(line)["objective_mean"] for line in (out / "metrics.jsonl").read_text().splitlines()
             if json.loads(line)["phase"] == "adversarial"]
    assert len(means) == 8 and means[0] < 0.1
    assert np.mean(means[-2:]) > 3 * means[0] and np.mean(means[-2:]) - means[0] > 0.2, means
    texts = (out / "generator_samples.txt").read_text().split()
    shares = [t.count("a") / len(t) for t in texts]
    assert np.mean(shares) > 0.3  # the final generator's samples too


def test_the_example_file_is_the_one_the_docs_show():
    guide = (REPO / "docs" / "guides" / "rewards.md").read_text(encoding="utf-8")
    assert "examples/rewards/char_share.py" in guide
    spec = importlib.util.spec_from_file_location("char_share_doc", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.score(["aab"]) == [2 / 3]


def test_a_relative_objective_path_is_saved_absolute(tiny, tmp_path, monkeypatch):
    """The documented command line, from the checkout: the file's path relative to the working
    directory, saved absolute in config.yaml so that --resume works from anywhere."""
    monkeypatch.chdir(REPO)
    out = tmp_path / "run"
    assert train_cli(tiny, out, "reward.objective=examples/rewards/char_share.py:token_share", "reward.mix=0",
                     "adversarial.iterations=1") == 0
    assert f"{EXAMPLE}:token_share" in (out / "config.yaml").read_text()


def test_the_qed_example_scores_valid_smiles_by_qed_and_the_rest_zero():
    """examples/rewards/qed.py (ORGAN's objective): RDKit's QED for a molecule, 0 for an invalid or
    empty SMILES. Aspirin's and ibuprofen's QED as published for RDKit's implementation of
    Bickerton et al. (0.550, 0.822)."""
    pytest.importorskip("rdkit")
    from seqgan.objective import load_objective
    fn = load_objective(str(Path(__file__).parent.parent / "examples" / "rewards" / "qed.py")).fn
    got = fn(["CC(=O)Oc1ccccc1C(=O)O", "C1CC", "", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "c1cccc1"])
    assert got[1] == got[2] == got[4] == 0.0  # an unclosed ring, nothing, a 5-ring that cannot be aromatic
    assert abs(got[0] - 0.550) < 5e-4 and abs(got[3] - 0.822) < 5e-4
