"""The method interface: the registry as the one list of method names, and the reward controls."""

from __future__ import annotations

import textwrap
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from runs import GAN, kill_and_resume_equals, metrics_without_timing, train_cli, write_tiny_config

from seqgan import methods as registry
from seqgan.config import load_config
from seqgan.rewards.controls import ConstantReward, RandomReward

# ----------------------------------------------------------------------------- controls

def test_control_rewards():
    Y = torch.zeros(5, 3, dtype=torch.long)
    assert ConstantReward(0.5)(Y).tolist() == [0.5] * 5
    a = RandomReward(torch.Generator().manual_seed(3))(Y)
    assert torch.equal(a, torch.rand(5, generator=torch.Generator().manual_seed(3)))


def assert_control_trains_no_critic(method: str, cfg: Path, out: Path) -> list[dict]:
    """reward.kind=constant: no discriminator (or ranker) is built, trained or saved; returns the
    adversarial records."""
    assert train_cli(cfg, out, f"method={method}", "reward.kind=constant") == 0
    recs = metrics_without_timing(out)
    assert "discriminator" not in {r["phase"] for r in recs}
    assert not (out / "discriminator.safetensors").exists() and not (out / "ranker.safetensors").exists()
    return [r for r in recs if r["phase"] == "adversarial"]


def test_seqgan_s_controls_replace_d_and_train_none(gan_yaml, tmp_path):
    """Constant: every reward is 0.5; random: the rewards' means lie strictly inside (0, 1) and differ.
    Fails when reward.kind is ignored (D then scores: its rewards differ from 0.5)."""
    adv = assert_control_trains_no_critic("seqgan", gan_yaml, tmp_path / "c")
    assert all(r["reward_mean"] == pytest.approx(0.5) for r in adv)
    assert train_cli(gan_yaml, tmp_path / "r", "reward.kind=random") == 0
    means = [r["reward_mean"] for r in metrics_without_timing(tmp_path / "r") if r["phase"] == "adversarial"]
    assert all(0.3 < m < 0.7 for m in means) and len(set(means)) == len(means)


@pytest.mark.slow  # the default suite keeps exact resume: test_checkpoint (SeqGAN)
def test_a_random_control_resumes_exactly(gan_yaml, tmp_path):
    ref = tmp_path / "ref"
    sets = ["reward.kind=random", "adversarial.iterations=30"]
    assert train_cli(gan_yaml, ref, *sets) == 0
    kill_and_resume_equals(gan_yaml, ref, tmp_path / "run", sets, ["generator.safetensors"])


# ----------------------------------------------------------------------------- the registry

def test_the_registry_is_the_one_list_of_method_names(tmp_path, monkeypatch, capsys):
    """A method added to the registry alone (its module and options module are new files) is
    accepted by the config, offered by --method, listed by `config --list` with its section,
    labelled by compare and a row of the bench; and it trains."""
    (tmp_path / "toypkg").mkdir()
    (tmp_path / "toypkg" / "__init__.py").write_text("")
    (tmp_path / "toypkg" / "options.py").write_text(textwrap.dedent('''
        from seqgan.section import Section

        class ToyConfig(Section):
            strength: float = 0.5
            """method=toy: how strong the toy is."""
        '''))
    (tmp_path / "toy_method.py").write_text(textwrap.dedent('''
        from seqgan.plan import Build, Models, Phase
        from seqgan.train.steps import mle_phase

        def build(b: Build) -> Models:
            return Models()

        def plan(run) -> list[Phase]:
            assert run.cfg.section("toy").strength == 0.25
            return [mle_phase(run)]
        '''))
    script = textwrap.dedent(f'''
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from seqgan import methods as registry  # the one line a new method adds, before anything reads it
        registry.METHODS["toy"] = registry.MethodInfo("toy", "Toy", "a test method", "toypkg.options:ToyConfig")
        import toy_method
        sys.modules["seqgan.methods.toy"] = toy_method
        from seqgan.cli import main, build_parser
        from seqgan.config import load_config
        from seqgan import bench, compare
        cfg = load_config(None, ["method=toy", "toy.strength=0.25"])
        assert cfg.section("toy").strength == 0.25
        sub = next(a for a in build_parser()._actions if a.dest == "command")
        train = sub.choices["train"]
        assert "toy" in next(a for a in train._actions if a.dest == "method").choices
        assert "toy" in bench.row_names() and compare.label("toy") == "Toy"
        main(["config", "--list"])
        sys.exit(main(["train", "--config", {str(tmp_path / "toy.yaml")!r}, "--out", {str(tmp_path / "run")!r},
                       "-q", "--set", "method=toy", "--set", "toy.strength=0.25"]))
        ''')
    write_tiny_config(tmp_path / "toy.yaml", **GAN)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "toy.strength" in r.stdout
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["method"] == "toy"
    # and nothing else keeps a list: an unknown method is refused naming the registered ones
    with pytest.raises(Exception, match="expected one of seqgan, mle"):
        load_config(None, ["method=toy"])
    assert set(registry.METHODS) >= {"seqgan", "mle", "scheduled_sampling", "pg_bleu"}



# ----------------------------------------------------------------------------- the bench
