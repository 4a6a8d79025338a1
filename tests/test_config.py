"""Config loading and validation: every error names the key, the place and the fix."""

from __future__ import annotations


import pytest

from seqgan.config import (PAPER_FILTER_SIZES, PAPER_NUM_FILTERS, Config, ConfigError, describe, diff,
                           Sizes, absolute_paths, dump_yaml, load_config, paper_filters, preset_names)


def test_presets_load_and_paper_is_the_original():
    assert {"paper", "quick", "fast", "coco", "poems", "music"} <= set(preset_names())
    for name in preset_names():
        load_config(name)
    p = load_config("paper")
    assert p == Config()  # the defaults are the original's values
    g = p.generator
    assert (g.vocab_size, g.emb_dim, g.hidden_dim, g.seq_len) == (5000, 32, 32, 20)
    assert p.generator.init_std == 0.1 and p.oracle.init_std == 1.0 and p.oracle.num_samples == 9984
    from seqgan.models import Discriminator
    d = Discriminator(p.discriminator, p.generator.vocab_size, p.generator.seq_len)  # null filters: the paper's rule
    assert d.filter_sizes == PAPER_FILTER_SIZES and d.num_filters == PAPER_NUM_FILTERS and sum(d.num_filters) == 1720
    dc = p.discriminator
    assert (dc.emb_dim, dc.dropout_keep, dc.l2, dc.lr) == (64, 0.75, 0.2, 1e-4)
    pre = p.pretrain
    assert (pre.generator_epochs, pre.generator_lr, pre.discriminator_rounds,
            pre.discriminator_epochs) == (120, 0.01, 50, 3)
    a = p.adversarial
    assert (a.iterations, a.generator_steps, a.generator_lr, a.discriminator_rounds, a.discriminator_epochs,
            a.rollout_num) == (200, 1, 0.01, 5, 3, 16)
    assert a.rollout_update_rate is None and a.reward_baseline == "none" and a.loss_reduction == "sum"
    assert (p.train.batch_size, p.train.grad_clip, p.train.eval_every, p.train.eval_samples) == (64, 5.0, 5, 9984)
    q = load_config("quick")  # same model sizes, shorter schedule
    for section in ("generator", "discriminator"):
        assert getattr(q, section) == getattr(p, section)
    assert q.adversarial.rollout_num == 16 and q.train.batch_size == 64
    # fast (time to quality): the paper's models, learning rates and rollouts; only the schedule differs
    schedule = {"pretrain.generator_epochs", "pretrain.discriminator_rounds", "pretrain.discriminator_epochs",
                "pretrain.discriminator_samples", "adversarial.iterations", "adversarial.generator_steps",
                "adversarial.discriminator_rounds", "adversarial.discriminator_epochs",
                "adversarial.discriminator_samples"}
    assert set(diff(load_config("fast"), p)) <= schedule


def test_laptop_departs_from_the_paper_only_where_its_header_says():
    """`laptop` = the paper's models, learning rates, rollouts and discriminator; the fast schedule,
    and two policy-gradient departures (batch 16, 4 g-steps), each named in the preset's comments."""
    from importlib import resources
    changed = diff(load_config("laptop"), load_config("paper"))
    assert set(changed) == {"pretrain.generator_epochs", "pretrain.discriminator_rounds",
                            "pretrain.discriminator_epochs",
                            "pretrain.discriminator_samples", "adversarial.iterations", "adversarial.generator_steps",
                            "adversarial.batch_size", "adversarial.discriminator_rounds",
                            "adversarial.discriminator_epochs", "adversarial.discriminator_samples",
                            "train.diagnostics"}
    laptop = load_config("laptop")
    la = laptop.adversarial
    assert (la.batch_size, la.generator_steps, la.iterations) == (16, 4, 10)
    header = resources.files("seqgan.presets").joinpath("laptop.yaml").read_text(encoding="utf-8")
    comments = "\n".join(line for line in header.splitlines() if line.startswith("#"))
    for key in ("adversarial.batch_size", "adversarial.generator_steps", "adversarial.iterations"):
        assert key in comments, key  # each departure is named where a user reads the preset


def test_paper_filter_rule():
    """Length 20 gives the paper's 12 widths and 1,720 filters; length 32 swaps 15, 20 for 16, 24, 32."""
    assert paper_filters(20) == (PAPER_FILTER_SIZES, PAPER_NUM_FILTERS)
    sizes, nums = paper_filters(32)
    assert sizes == list(range(1, 11)) + [16, 24, 32] and nums == PAPER_NUM_FILTERS[:10] + [160, 160, 160]
    assert paper_filters(6) == ([1, 2, 3, 4, 5, 6], PAPER_NUM_FILTERS[:6])
    for L in range(2, 80):  # every width fits, and none repeats
        sizes, nums = paper_filters(L)
        assert max(sizes) == L
        assert len(set(sizes)) == len(sizes) == len(nums) and sizes == sorted(sizes)


def test_sizes_come_from_the_data_and_paths_become_absolute(tmp_path, monkeypatch):
    cfg = load_config("coco", ["data.train=x.txt"])
    assert Sizes.of(cfg, vocab_size=4602, max_len=24) == Sizes(4602, 25, 1, 2)  # <bos>, <eos>
    with pytest.raises(ValueError):
        Sizes.of(cfg)
    p = load_config("paper")
    assert Sizes.of(p) == Sizes(5000, 20, 0, None)  # the oracle task: fixed length, no end token
    monkeypatch.chdir(tmp_path)
    a = absolute_paths(load_config("coco", ["data.train=x.txt", "data.test=t.txt"]))
    assert a.data.train == str(tmp_path / "x.txt") and a.data.test == str(tmp_path / "t.txt")
    assert a.generator == cfg.generator and a.discriminator == cfg.discriminator  # nothing else changes
    assert absolute_paths(a) == a


def test_overrides_and_roundtrip(tmp_path):
    cfg = load_config("quick", ["adversarial.rollout_num=4", "discriminator.filter_sizes=[1,2]",
                                "discriminator.num_filters=[3,3]", "adversarial.rollout_update_rate=0.8",
                                "train.grad_clip=1"])
    assert cfg.adversarial.rollout_num == 4 and cfg.discriminator.filter_sizes == [1, 2]
    assert cfg.adversarial.rollout_update_rate == 0.8 and cfg.train.grad_clip == 1.0
    assert isinstance(cfg.train.grad_clip, float)
    f = tmp_path / "c.yaml"
    f.write_text(dump_yaml(cfg))
    assert load_config(str(f)) == cfg
    assert diff(cfg, load_config("quick")) == {
        "adversarial.rollout_num": (4, 16), "discriminator.filter_sizes": ([1, 2], None),
        "discriminator.num_filters": ([3, 3], None), "adversarial.rollout_update_rate": (0.8, None),
        "train.grad_clip": (1.0, 5.0)}


@pytest.mark.parametrize("overrides, message", [
    (["adversarial.rolout_num=4"],
     r"unknown config key 'adversarial.rolout_num'; did you mean 'adversarial.rollout_num'"),
    (["generator.vocab=10"], r"unknown config key 'generator.vocab'; did you mean 'generator.vocab_size'"),
    (["adversarial.rollout_num=four"], r"adversarial.rollout_num: got 'four', expected an integer"),
    (["adversarial.rollout_num=2.5"], r"expected an integer"),
    (["device=gpu"], r"device: got 'gpu', expected one of 'auto', 'cpu', 'cuda'"),
    (["adversarial.reward_baseline=ema"], r"expected one of 'none', 'mean'"),
    (["adversarial.rollout_num=0"], r"adversarial.rollout_num=0 must be > 0"),
    (["pretrain.generator_epochs=-1"], r"pretrain.generator_epochs=-1 must be >= 0"),
    (["discriminator.dropout_keep=1.5"], r"dropout_keep=1.5 must be in \(0, 1\]"),
    (["generator.seq_len=10", "discriminator.filter_sizes=[1,15]", "discriminator.num_filters=[1,1]"],
     r"filter_sizes \[15\] are longer than the sequences \(generator.seq_len=10\)"),
    (["discriminator.num_filters=[1,2]"], r"must both be lists or both null"),
    (["discriminator.num_filters=[1,2]", "discriminator.filter_sizes=[1]"],
     r"must be non-empty lists of the same length"),
    (["data.train=a.txt"], r"data.train=a.txt is set but task=oracle"),
    (["task=data", "data.train=a.txt", "data.max_vocab=4"], r"data.max_vocab=4 leaves no room beside the 4 special"),
    (["task=data", "data.train=a.txt", "data.tokenizer=bpe"], r"expected one of 'word', 'char', 'space'"),
    (["task=data", "data.train=a.txt", "data.max_len=9", "discriminator.filter_sizes=[1,11]",
      "discriminator.num_filters=[1,1]"],
     r"filter_sizes \[11\] are longer than the sequences \(data.max_len \+ 1 = 10\)"),
    (["adversarial.rollout_update_rate=1.5"], r"rollout_update_rate=1.5 must be null or in \(0, 1\]"),
    (["train.batch_size=true"], r"expected an integer"),
    (["adversarial.discriminator_samples=20000"], r"must be <= oracle.num_samples=9984"),
    (["rollout_num"], r"expected section.key=value"),
    (["generator=3"], r"'generator' is a section; set one of its keys, e.g. generator.kind=..."),
])
def test_override_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config("quick", overrides)


def test_section_given_a_scalar_in_yaml(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("generator: 3\n")
    with pytest.raises(ConfigError, match=rf"{f}:1: generator: expected a mapping"):
        load_config(str(f))


def test_several_errors_are_reported_together():
    with pytest.raises(ConfigError) as e:
        load_config("quick", ["adversarial.rollout_num=0", "train.batch_size=0"])
    assert "adversarial.rollout_num=0" in str(e.value) and "train.batch_size=0" in str(e.value)


def test_yaml_errors_name_file_and_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("seed: 1\nadversarial:\n  rollout_num: 4\n  g_steps: 2\n")
    with pytest.raises(ConfigError, match=rf"{f}:4: unknown config key 'adversarial.g_steps'"):
        load_config(str(f))
    f.write_text("seed: 1\ntrain:\n  batch_size: many\n")
    with pytest.raises(ConfigError, match=rf"{f}:3: train.batch_size: got 'many', expected an integer"):
        load_config(str(f))
    f.write_text("seed: [1\n")
    with pytest.raises(ConfigError, match=rf"{f}:\d+: invalid YAML"):
        load_config(str(f))
    f.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(str(f))
    with pytest.raises(ConfigError, match="no such config file or preset; presets are"):
        load_config(str(tmp_path / "missing.yaml"))
    f.write_bytes(b"seed: \xff\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(str(f))


def test_every_key_is_documented():
    rows = describe()
    keys = [r[0] for r in rows]
    for required in ["seed", "device", "oracle.path", "oracle.seed", "oracle.num_samples",
                     "generator.vocab_size", "generator.emb_dim", "generator.hidden_dim", "generator.seq_len",
                     "generator.init_std", "pretrain.generator_epochs", "pretrain.generator_lr",
                     "pretrain.discriminator_rounds", "pretrain.discriminator_epochs", "adversarial.iterations",
                     "adversarial.generator_steps", "adversarial.generator_lr", "adversarial.discriminator_rounds",
                     "adversarial.discriminator_epochs", "adversarial.rollout_num", "adversarial.rollout_update_rate",
                     "adversarial.reward_baseline", "adversarial.loss_reduction", "train.batch_size",
                     "train.grad_clip", "train.eval_every", "train.eval_samples", "discriminator.emb_dim",
                     "discriminator.filter_sizes", "discriminator.num_filters", "discriminator.dropout_keep",
                     "discriminator.l2", "discriminator.lr"]:
        assert required in keys
    undocumented = [r[0] for r in rows if not r[3]]
    assert undocumented == []
    leaves = sum(len(v) if isinstance(v, dict) else 1 for v in Config().model_dump().values())
    assert len(keys) == len(set(keys)) == leaves


def test_non_finite_and_degenerate_values_are_refused():
    with pytest.raises(ConfigError, match=r"discriminator.lr=nan must be a finite number"):
        load_config("quick", ["discriminator.lr=.nan"])
    with pytest.raises(ConfigError, match=r"train.grad_clip=inf must be a finite number"):
        load_config("quick", ["train.grad_clip=.inf"])
    with pytest.raises(ConfigError, match=r"generator.seq_len=1 must be >= 2"):
        load_config("quick", ["generator.seq_len=1", "discriminator.filter_sizes=[1]", "discriminator.num_filters=[4]"])
