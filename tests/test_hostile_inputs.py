"""Hostile inputs and faults a careful user may cause (issue 17): each gets one line naming the
file or key and the fix, exit code 2 and nothing half-written, or the correct behaviour."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import seqgan
from seqgan import checkpoint as ckpt
from seqgan.cli import main
from seqgan.files import RunLock

from runs import train_cli, write_corpus

ORACLE_KEYS = ["embedding", "W_out", "b_out"] + [f"{m}_{g}" for g in "ifoc" for m in ("W", "U", "b")]


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    errors = [ln for ln in err if ln.startswith("seqgan: error:")]
    assert len(errors) == 1 and "Traceback" not in "\n".join(err), err
    return errors[0]


@pytest.fixture
def tiny_run(shared_run, tmp_path) -> Path:
    """A copy of conftest's shared_run (the tiny config's run) of the test's own, which it may change."""
    return Path(shutil.copytree(shared_run, tmp_path / "run"))


# 1 ------------------------------------------------------------------ a lock on run directories

def test_a_run_directory_in_use_is_refused_naming_the_holder(tiny_run, capsys):
    before = (tiny_run / "metrics.jsonl").read_text()
    with RunLock(tiny_run):
        assert main(["train", "--resume", str(tiny_run), "--set", "adversarial.iterations=5", "-q"]) == 2
    line = one_line_error(capsys)
    assert f"is in use by process {os.getpid()}" in line and "wait for it to finish" in line
    assert (tiny_run / "metrics.jsonl").read_text() == before  # nothing was touched
    # the lock goes with its holder: now the resume runs
    assert main(["train", "--resume", str(tiny_run), "--set", "adversarial.iterations=5", "-q"]) == 0


# 2 ------------------------------------------------------------------ one very long line

def test_one_very_long_line_is_refused_before_anything_is_written(tmp_path, capsys):
    write_corpus(tmp_path, {"train.txt": 200}, max_words=8)
    with open(tmp_path / "train.txt", "a") as f:
        f.write(" ".join(["word"] * 300_000) + "\n")
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "train.txt"), "--out", str(out), "-q"]) == 2
    line = one_line_error(capsys)
    assert f"{tmp_path / 'train.txt'}:201" in line and "300000 tokens" in line
    assert "set data.max_len (99% of the lines have at most" in line and "data.overlong=drop or truncate" in line
    assert not out.exists()


def test_dropping_many_lines_is_a_warning_with_the_fix(tmp_path, capsys):
    write_corpus(tmp_path, {"train.txt": 200}, max_words=12)
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "train.txt"), "--out", str(out), "-q", "--set", "data.max_len=8",
                 "--set", "pretrain.generator_epochs=1", "--set", "pretrain.discriminator_rounds=0",
                 "--set", "adversarial.iterations=0", "--set", "train.batch_size=16",
                 "--set", "generator.vocab_size=50"]) == 0
    err = capsys.readouterr().err
    assert "seqgan: warning: data.train:" in err and "were dropped; keep them with data.overlong=truncate" in err


# 3 ------------------------------------------------------------------ a YAML alias bomb

def test_a_yaml_alias_bomb_is_answered_at_once(tmp_path, capsys):
    lines = ["a0: &a0 {x: 1}"] + [f"a{i}: &a{i} {{p: *a{i - 1}, q: *a{i - 1}}}" for i in range(1, 25)]
    bomb = tmp_path / "b.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    t0 = time.perf_counter()
    assert main(["config", "--config", str(bomb)]) == 2
    assert time.perf_counter() - t0 < 10
    assert "unknown config key 'a0'" in one_line_error(capsys)
    # the same bomb as the value of a known key: the error line shows a bounded part of it
    items = ["&a0 {x: 1}"] + [f"&a{i} {{p: *a{i - 1}, q: *a{i - 1}}}" for i in range(1, 25)]
    bomb.write_text("seed: [" + ", ".join(items) + "]\n")
    t0 = time.perf_counter()
    assert main(["config", "--config", str(bomb)]) == 2
    assert time.perf_counter() - t0 < 10
    line = one_line_error(capsys)
    assert "seed" in line and len(line) < 1000


# 4 ------------------------------------------------------------------ unwritable paths

UNWRITABLE = Path("/sys/seqgan-test")


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs /sys, which refuses new files even to root")
def test_unwritable_output_paths_exit_2(tiny_yaml, tiny_run, capsys):
    try:
        (UNWRITABLE).mkdir()
        pytest.skip("/sys accepts new directories here")
    except OSError:
        pass
    assert main(["train", "--config", str(tiny_yaml), "--out", str(UNWRITABLE / "run"), "-q"]) == 2
    assert "choose a writable --out directory" in one_line_error(capsys)
    assert main(["generate", str(tiny_run), "-n", "2", "--out", "/sys/seqgan-samples.txt"]) == 2
    assert "--out /sys/seqgan-samples.txt: cannot write there" in one_line_error(capsys)


def test_out_paths_through_a_file_or_onto_a_directory_exit_2(tiny_yaml, tiny_run, tmp_path, capsys):
    """Not only permissions: a path through a regular file (ENOTDIR) or onto a directory (EISDIR)."""
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert main(["train", "--config", str(tiny_yaml), "--out", str(a_file / "run"), "-q"]) == 2
    assert "choose a writable --out directory" in one_line_error(capsys)
    assert main(["generate", str(tiny_run), "-n", "2", "--out", str(a_file / "s.txt")]) == 2
    assert "cannot write there" in one_line_error(capsys)
    assert main(["generate", str(tiny_run), "-n", "2", "--out", str(tmp_path)]) == 2
    assert "cannot write there" in one_line_error(capsys)


# 5 ------------------------------------------------------------------ temperatures

@pytest.mark.parametrize("t", ["nan", "inf", "-inf", "0", "-1"])
def test_non_finite_or_non_positive_temperatures_exit_2(tiny_run, capsys, t):
    assert main(["generate", str(tiny_run), "-n", "2", f"--temperature={t}"]) == 2
    assert "a temperature must be a finite number > 0" in one_line_error(capsys)
    assert main(["sweep", str(tiny_run), "--temperatures", f"1.0,{t}", "-q"]) == 2
    assert "a temperature must be a finite number > 0" in one_line_error(capsys)


# 6 ------------------------------------------------------------------ an oracle with NaN weights

def test_an_oracle_with_nan_weights_is_refused(tiny_yaml, tmp_path, capsys):
    rng = np.random.default_rng(0)
    V, E, H = 40, 8, 8
    shapes = {"embedding": (V, E), "W_out": (H, V), "b_out": (V,)}
    shapes.update({f"{m}_{g}": s for g in "ifoc" for m, s in (("W", (E, H)), ("U", (H, H)), ("b", (H,)))})
    arrays = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    arrays["U_f"][1, 2] = np.nan
    np.savez(tmp_path / "nan.npz", **arrays)
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_yaml), "--oracle", str(tmp_path / "nan.npz"), "--out", str(out),
                 "-q"]) == 2
    line = one_line_error(capsys)
    assert "non-finite values (NaN or inf) in U_f" in line
    assert not out.exists()


def test_summary_json_is_strict_json(tiny_run, tiny_yaml, tmp_path, monkeypatch):
    text = (tiny_run / "summary.json").read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in summary.json"))
    # a run whose evaluations are not finite (a diverged generator): null in summary.json, not NaN
    from seqgan.models import Oracle
    monkeypatch.setattr(Oracle, "nll", lambda self, x, *a, **k: float("nan"))
    out = tmp_path / "nan_run"
    assert train_cli(tiny_yaml, out) == 0
    summary = json.loads((out / "summary.json").read_text(),
                         parse_constant=lambda c: pytest.fail(f"bare {c} in summary.json"))
    assert summary["evaluations"]["final"]["nll_oracle"] is None


# 7 ------------------------------------------------------------------ file modes follow the umask

def test_run_files_follow_the_umask(tiny_yaml, tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "run"
        assert train_cli(tiny_yaml, out) == 0
    finally:
        os.umask(old)
    for name in ("config.yaml", "generator.safetensors", "generator_mle.safetensors", "discriminator.safetensors",
                 "summary.json", "generator_samples.txt", "real_data.txt", "metrics.jsonl", "weights.sha256"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o644, name
    for c in ckpt.list_checkpoints(out):
        assert stat.S_IMODE(c.stat().st_mode) == 0o755
        assert stat.S_IMODE((c / ckpt.TENSORS).stat().st_mode) == 0o644


# 8 ------------------------------------------------------------------ checksums

def test_an_edited_state_json_is_detected_and_the_previous_checkpoint_used(tiny_run, capsys):
    newest = ckpt.list_checkpoints(tiny_run)[-1]
    state = json.loads((newest / ckpt.STATE).read_text())
    state["train_state"]["step"] -= 1
    (newest / ckpt.STATE).write_text(json.dumps(state))
    with pytest.raises(ckpt.CheckpointError, match="state.json: checksum mismatch"):
        ckpt.load(newest)
    assert ckpt.latest_valid(tiny_run).path != newest


def test_final_weights_have_checksums_and_identical_runs_write_identical_files(tiny_yaml, tmp_path, capsys):
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert train_cli(tiny_yaml, out) == 0
        runs.append(out)
    for f in ("generator.safetensors", "generator_mle.safetensors", "discriminator.safetensors"):
        assert hashlib.sha256((runs[0] / f).read_bytes()).hexdigest() == \
            hashlib.sha256((runs[1] / f).read_bytes()).hexdigest(), f
    sums = (runs[0] / "weights.sha256").read_text()
    assert hashlib.sha256((runs[0] / "generator.safetensors").read_bytes()).hexdigest() in sums
    # a modified final generator is refused by load / generate
    path = runs[0] / "generator.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    assert main(["generate", str(runs[0]), "-n", "1"]) == 2
    assert "generator.safetensors: checksum mismatch" in one_line_error(capsys)


# 9 ------------------------------------------------------------------ a relative oracle path

def test_a_relative_oracle_path_works_from_another_directory(tiny_yaml, tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(1)
    V, E, H = 40, 8, 8
    shapes = {"embedding": (V, E), "W_out": (H, V), "b_out": (V,)}
    shapes.update({f"{m}_{g}": s for g in "ifoc" for m, s in (("W", (E, H)), ("U", (H, H)), ("b", (H,)))})
    (tmp_path / "here").mkdir()
    np.savez(tmp_path / "here" / "o.npz", **{k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()})
    monkeypatch.chdir(tmp_path / "here")
    assert main(["train", "--config", str(tiny_yaml), "--oracle", "o.npz", "--out", "run", "-q",
                 "--set", "adversarial.iterations=1"]) == 0
    assert f"path: {tmp_path / 'here' / 'o.npz'}" in (tmp_path / "here" / "run" / "config.yaml").read_text()
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["evaluate", "here/run", "--json", "-n", "64"]) == 0
    assert "nll_oracle" in json.loads(capsys.readouterr().out)
    assert main(["train", "--resume", "here/run", "--set", "adversarial.iterations=2", "-q"]) == 0


def test_a_missing_oracle_file_at_evaluation_is_one_line(tiny_run, tmp_path, capsys):
    cfg = tiny_run / "config.yaml"
    cfg.write_text(cfg.read_text().replace("path: null", f"path: {tmp_path / 'gone.npz'}"))
    assert main(["evaluate", str(tiny_run)]) == 2
    assert "cannot rebuild the run's oracle" in one_line_error(capsys)


# 10 ----------------------------------------------------------------- hidden global state

def test_load_and_train_leave_the_process_as_they_found_it(tiny_yaml, tiny_run, tmp_path):
    torch.manual_seed(1234)
    threads = torch.get_num_threads()
    state = torch.random.get_rng_state()
    seqgan.load(tiny_run)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert main(["train", "--config", str(tiny_yaml), "--out", str(tmp_path / "r2"), "-q",
                 "--set", "train.threads=1"]) == 0
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.get_num_threads() == threads
    # and a resume too (it used to restore torch's global stream from the checkpoint)
    assert main(["train", "--resume", str(tmp_path / "r2"), "--set", "adversarial.iterations=4", "-q"]) == 0
    assert torch.equal(torch.random.get_rng_state(), state)


# 12 ----------------------------------------------------------------- the device on resume

def test_resume_with_device_cpu_of_an_auto_run(tiny_yaml, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "-q", "--set", "device=auto"]) == 0
    assert main(["train", "--resume", str(out), "--device", "cpu", "--set", "adversarial.iterations=4", "-q"]) == 0


# 13 ----------------------------------------------------------------- progress for long generations

def test_a_long_generation_shows_progress_and_blocks_change_no_sample(tiny_run, tmp_path, capsys):
    from seqgan.cli import GENERATE_BLOCK
    n = GENERATE_BLOCK + 100
    assert main(["generate", str(tiny_run), "-n", str(n), "--ids", "--out", str(tmp_path / "s.txt")]) == 0
    assert "generate" in capsys.readouterr().err  # the progress bar
    rows = (tmp_path / "s.txt").read_text().splitlines()
    assert len(rows) == n
    gen = seqgan.load(tiny_run)
    whole = gen.sample(n, seed=0)
    assert rows[-1] == " ".join(map(str, whole[-1].tolist())) and rows[0] == " ".join(map(str, whole[0].tolist()))


# 14 ----------------------------------------------------------------- --out onto special files

def test_out_follows_a_symlink_and_writes_through_a_fifo(shared_run, tmp_path, capsys):
    import threading
    target = tmp_path / "target.txt"
    target.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    assert main(["generate", str(shared_run), "-n", "3", "--ids", "--out", str(link)]) == 0
    assert link.is_symlink() and len(target.read_text().splitlines()) == 3  # the target written, the link kept
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)
    reader.start()
    assert main(["generate", str(shared_run), "-n", "3", "--ids", "--out", str(fifo)]) == 0
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode), "the FIFO was replaced by a plain file"
    assert got and len(got[0].decode().splitlines()) == 3
    # a socket cannot be written: one line, and it stays a socket
    import socket
    sock_path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(sock_path))
        assert main(["compare", str(shared_run), "--out", str(sock_path)]) == 2
        assert "cannot write there" in one_line_error(capsys)
        assert stat.S_ISSOCK(os.stat(sock_path).st_mode)


def test_out_onto_the_runs_own_files_is_refused(shared_run, tmp_path, capsys):
    before = {p: p.read_bytes() for p in shared_run.rglob("*") if p.is_file()}
    link = tmp_path / "innocent.txt"
    link.symlink_to(shared_run / "config.yaml")
    cases = [["generate", str(shared_run), "-n", "2", "--out", str(shared_run / "generator.safetensors")],
             ["generate", str(shared_run), "-n", "2", "--out", str(link)],
             ["plot", str(shared_run), "--out", str(shared_run / "summary.json")],
             ["compare", str(shared_run), "--out", str(shared_run / "metrics.jsonl")],
             ["sweep", str(shared_run), "--temperatures", "1", "-q", "--out",
              str(ckpt.list_checkpoints(shared_run)[-1] / ckpt.STATE)]]
    for argv in cases:
        assert main(argv) == 2, argv
        line = one_line_error(capsys)
        assert "a file of the run; choose a path outside the run's files" in line, line
    assert {p: p.read_bytes() for p in shared_run.rglob("*") if p.is_file()} == before
    # other names inside the run directory are fine (plot's default is curves.png there)
    assert main(["compare", str(shared_run), "--out", str(shared_run / "table.md")]) == 0
    (shared_run / "table.md").unlink()


# 15 ----------------------------------------------------------------- special names in the text

@pytest.mark.parametrize("tok", ["<eos>", "<pad>", "<bos>"])
def test_a_special_name_in_the_text_is_refused_with_file_and_line(tmp_path, capsys, tok):
    from seqgan.data import DataError, Tokenizer, read_lines
    write_corpus(tmp_path, {"train.txt": 50}, max_words=6)
    lines = (tmp_path / "train.txt").read_text().splitlines()
    lines[6] = f"a man {tok} sits"
    (tmp_path / "train.txt").write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "train.txt"), "--tokenizer", "space", "--out", str(out),
                 "-q"]) == 2
    line = one_line_error(capsys)
    assert f"{tmp_path / 'train.txt'}:7: the token {tok} is the name of a special id" in line and "sed -i" in line
    assert not out.exists()
    with pytest.raises(DataError, match=f"train.txt:7: the token {tok}"):
        read_lines(tmp_path / "train.txt", Tokenizer("word", split_punctuation=False))
    # a literal <unk> stays what it says: an unknown token (Penn Treebank files are full of them)
    (tmp_path / "train.txt").write_text("a <unk> dog\n")
    assert read_lines(tmp_path / "train.txt", Tokenizer("space")).lines == [["a", "<unk>", "dog"]]


# 16 ----------------------------------------------------------------- compare: each run once, one setting

def test_compare_refuses_a_run_given_twice_and_runs_of_different_settings(shared_run, tmp_path, capsys):
    import shutil
    link = tmp_path / "same"
    link.symlink_to(shared_run)
    for argv in ([str(shared_run), str(shared_run)], [str(shared_run), str(link)],
                 [str(shared_run), str(shared_run) + "/."]):
        assert main(["compare", *argv]) == 2
        assert "given twice; give each run once" in one_line_error(capsys)
    other = tmp_path / "other"
    shutil.copytree(shared_run, other)
    assert main(["compare", str(shared_run), str(other)]) == 0  # a second run of the same setting
    capsys.readouterr()
    cfg = other / "config.yaml"
    text = cfg.read_text()
    assert "oracle: {path: null, seed: 1," in text
    cfg.write_text(text.replace("oracle: {path: null, seed: 1,", "oracle: {path: null, seed: 2,", 1))
    assert main(["compare", str(shared_run), str(other)]) == 2
    line = one_line_error(capsys)
    assert "differ in oracle seeded (seed 1" in line and "vs seeded (seed 2" in line
    cfg.write_text(text)
    sizes = json.loads((other / "sizes.json").read_text())
    (other / "sizes.json").write_text(json.dumps({**sizes, "seq_len": sizes["seq_len"] + 1}))
    assert main(["compare", str(shared_run), str(other)]) == 2
    assert f"differ in seq_len {sizes['seq_len']} vs {sizes['seq_len'] + 1}" in one_line_error(capsys)


# 17 ----------------------------------------------------------------- oracle files: float32 range, zip bombs

def _oracle_arrays(V: int = 40, E: int = 8, H: int = 8) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    shapes = {"embedding": (V, E), "W_out": (H, V), "b_out": (V,)}
    shapes.update({f"{m}_{g}": s for g in "ifoc" for m, s in (("W", (E, H)), ("U", (H, H)), ("b", (H,)))})
    return {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}


def test_an_oracle_beyond_float32_range_is_refused(tmp_path):
    from seqgan.models import Oracle, OracleFileError
    arrays = {k: v.astype(np.float64) for k, v in _oracle_arrays().items()}
    arrays["W_out"][3, 4] = 1e39  # finite as float64, inf as float32
    np.savez(tmp_path / "big.npz", **arrays)
    with pytest.raises(OracleFileError, match=r"non-finite values \(NaN or inf\) in W_out as float32"):
        Oracle.from_npz(tmp_path / "big.npz", seq_len=8)


def test_oracle_shapes_and_dtypes_are_judged_from_the_npy_headers(tmp_path, monkeypatch):
    """A zip bomb declares a huge array: it is refused from its header, before np.load
    decompresses anything (here the member holds only its header)."""
    import zipfile

    from numpy.lib import format as npf

    from seqgan.models import Oracle, OracleFileError

    def member(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
        import io
        buf = io.BytesIO()
        npf.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})  # magic too
        return buf.getvalue()  # the header alone: the data a bomb would decompress is not needed

    def write(path: Path, headers: dict[str, bytes]) -> Path:
        arrays = _oracle_arrays()
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for k, v in arrays.items():
                if k in headers:
                    zf.writestr(k + ".npy", headers[k])
                else:
                    import io
                    buf = io.BytesIO()
                    np.save(buf, v)
                    zf.writestr(k + ".npy", buf.getvalue())
        return path

    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("np.load called before the headers were checked"))
    V, E = 10_000_000, 8  # 170M float32 parameters declared: 680 MB
    bomb = write(tmp_path / "bomb.npz", {"embedding": member((V, E)), "W_out": member((8, V)), "b_out": member((V,))})
    with pytest.raises(OracleFileError, match="parameters .* more than the"):
        Oracle.from_npz(bomb, seq_len=8)
    wrong = write(tmp_path / "wrong.npz", {"U_f": member((8, 9))})
    with pytest.raises(OracleFileError, match=r"wrong shapes: U_f \(8, 9\)"):
        Oracle.from_npz(wrong, seq_len=8)
    objects = write(tmp_path / "obj.npz", {"b_i": member((8,), "|O")})
    with pytest.raises(OracleFileError, match="b_i are not arrays of numbers"):
        Oracle.from_npz(objects, seq_len=8)


# 18 ----------------------------------------------------------------- absurd thread counts

@pytest.mark.parametrize("threads", [4 * (os.cpu_count() or 1) + 1, 100_000])
def test_too_many_threads_are_refused_before_anything_is_written(tiny_yaml, tmp_path, capsys, threads):
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "-q", "--set",
                 f"train.threads={threads}"]) == 2
    assert f"train.threads={threads}: more than {4 * (os.cpu_count() or 1)}" in one_line_error(capsys)
    assert not out.exists()
    assert torch.get_num_threads() < threads


# 19 ----------------------------------------------------------------- strict JSON on stdout

def test_evaluate_and_sweep_json_are_strict_json(shared_run, monkeypatch, capsys):
    from seqgan.models import Oracle
    monkeypatch.setattr(Oracle, "nll", lambda self, x, *a, **k: float("nan"))
    strict = lambda text: json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in {text!r}"))  # noqa: E731
    capsys.readouterr()
    assert main(["evaluate", str(shared_run), "--json", "-n", "16"]) == 0
    assert strict(capsys.readouterr().out)["nll_oracle"] is None
    assert main(["sweep", str(shared_run), "--json", "--temperatures", "1", "--samples", "16", "-q"]) == 0
    assert strict(capsys.readouterr().out)[0]["points"][0]["nll_oracle"] is None


# 20 ----------------------------------------------------------------- seeds beyond 64 bits

@pytest.mark.parametrize("seed", [2**64, 2**63, 10**30])
def test_seeds_beyond_the_range_are_one_line(tiny_yaml, shared_run, tmp_path, capsys, seed):
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "-q", "--seed", str(seed)]) == 2
    assert f"seed={seed} is too large: seeds range over 0..2**63-1" in one_line_error(capsys)
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "-q", "--set", f"oracle.seed={seed}"]) == 2
    assert f"oracle.seed={seed} is too large" in one_line_error(capsys)
    assert not out.exists()
    for argv in (["generate", str(shared_run), "-n", "1"], ["evaluate", str(shared_run), "-n", "2"],
                 ["sweep", str(shared_run), "--temperatures", "1", "-q"]):
        assert main([*argv, "--seed", str(seed)]) == 2, argv
        assert f"--seed {seed}: out of range" in one_line_error(capsys)


# 21 ----------------------------------------------------------------- plot: hostile metrics.jsonl, unwritable output

def test_plot_names_a_bad_metrics_line_and_an_unwritable_output(shared_run, tmp_path, capsys):
    import shutil
    run = tmp_path / "run"
    shutil.copytree(shared_run, run)
    good = (run / "metrics.jsonl").read_bytes()
    for bad in (b"[1, 2]\n", b"3\n", b"\xff\xfe not utf-8\n", b'{"no_phase": 1}\n'):
        (run / "metrics.jsonl").write_bytes(good + bad)
        assert main(["plot", str(run), "--out", str(tmp_path / "c.png")]) == 2
        n = len(good.splitlines()) + 1
        assert f"metrics.jsonl:{n}: not a metrics record" in one_line_error(capsys)
    (run / "metrics.jsonl").write_bytes(good)
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert main(["plot", str(run), "--out", str(a_file / "c.png")]) == 2
    assert "cannot write there" in one_line_error(capsys)
    assert not (tmp_path / "c.png").exists()


# 22 ----------------------------------------------------------------- temperatures too small for float32

@pytest.mark.parametrize("t", ["1e-39", "1e-31"])
def test_temperatures_whose_reciprocal_overflows_are_refused(shared_run, capsys, t):
    assert main(["generate", str(shared_run), "-n", "2", f"--temperature={t}"]) == 2
    assert "logits / T overflow float32" in one_line_error(capsys)
    assert main(["sweep", str(shared_run), "--temperatures", f"1.0,{t}", "-q"]) == 2
    assert "logits / T overflow float32" in one_line_error(capsys)
    assert main(["generate", str(shared_run), "-n", "2", "--temperature=0.001"]) == 0  # small but fine


# 22 ----------------------------------------------------------------- damaged weights, sums and sizes (issue 22)

def test_nan_weights_are_refused_naming_the_tensor(tiny_run, tmp_path):
    from safetensors.torch import load_file, save_file
    from seqgan.api import RunLoadError
    path = tiny_run / "generator.safetensors"
    state = load_file(str(path))
    state["W_out"][0, 0] = float("nan")
    save_file(state, str(path))
    (tiny_run / "weights.sha256").unlink()  # a run without sums: nothing else catches it
    with pytest.raises(RunLoadError, match="tensor 'W_out' of generator.safetensors holds NaN or inf") as e:
        seqgan.load(tiny_run)
    assert "\n" not in str(e.value)
    state["W_out"][0, 0] = float("inf")
    save_file(state, str(path))
    with pytest.raises(RunLoadError, match="'W_out'"):
        seqgan.load(tiny_run)


def test_a_weights_sha256_that_is_a_directory_is_refused(tiny_run):
    from seqgan.api import RunLoadError
    (tiny_run / "weights.sha256").unlink()
    (tiny_run / "weights.sha256").mkdir()
    with pytest.raises(RunLoadError, match="weights.sha256: not a regular file"):
        seqgan.load(tiny_run)


@pytest.mark.parametrize("text", ["not a sum line\n", "abc  generator.safetensors\n", "\xff\xfe binary"],
                         ids=["words", "short-digest", "not-utf8"])
def test_a_malformed_weights_sha256_is_one_line(tiny_run, text, capsys):
    from seqgan.api import RunLoadError
    (tiny_run / "weights.sha256").write_bytes(text.encode("latin-1"))
    with pytest.raises(RunLoadError) as e:
        seqgan.load(tiny_run)
    assert "weights.sha256" in str(e.value) and "\n" not in str(e.value)
    assert main(["generate", str(tiny_run), "-n", "2"]) == 2
    assert "weights.sha256" in one_line_error(capsys)


def test_a_well_formed_weights_sha256_still_loads_and_still_catches_a_mismatch(tiny_run):
    from seqgan.api import RunLoadError
    seqgan.load(tiny_run)
    sums = tiny_run / "weights.sha256"
    sums.write_text(sums.read_text().replace("  ", " *"))  # sha256sum's binary-mode lines
    seqgan.load(tiny_run)
    sums.write_text("0" * 64 + "  generator.safetensors\n")
    with pytest.raises(RunLoadError, match="checksum mismatch"):
        seqgan.load(tiny_run)


@pytest.mark.parametrize("edit", [
    lambda d: {**d, "vocab_size": float("inf")},
    lambda d: {**d, "vocab_size": 10 ** 30},
    lambda d: {**d, "seq_len": -3},
    lambda d: {**d, "seq_len": 2.5},
    lambda d: {**d, "start_token": d["vocab_size"]},
    lambda d: {k: v for k, v in d.items() if k != "eos_token"},
    lambda d: [1, 2, 3],
    lambda d: "[" * 100_000,
    lambda d: {**d, "seq_len": True},
], ids=["inf", "huge", "negative", "float", "start-out-of-range", "missing-key", "a-list", "deep", "bool"])
def test_a_malformed_sizes_json_is_one_line(tiny_run, edit, capsys):
    from seqgan.api import RunLoadError
    path = tiny_run / "sizes.json"
    d = edit(json.loads(path.read_text()))
    path.write_text(d if isinstance(d, str) else json.dumps(d))
    with pytest.raises(RunLoadError, match="sizes.json") as e:
        seqgan.load(tiny_run)
    assert "\n" not in str(e.value)
    assert main(["generate", str(tiny_run), "-n", "2"]) == 2
    assert "sizes.json" in one_line_error(capsys)


def test_a_sizes_json_that_is_a_directory_is_refused(tiny_run):
    from seqgan.api import RunLoadError
    (tiny_run / "sizes.json").unlink()
    (tiny_run / "sizes.json").mkdir()
    with pytest.raises(RunLoadError, match="sizes.json: not a sizes file"):
        seqgan.load(tiny_run)


# 23 ------------------------------------------------------- reproduce: every row's config checked (issue 22, 2)

def test_reproduce_checks_every_rows_config_against_the_commands(tmp_path, capsys):
    from test_reproduce import TINY_SETS
    out = tmp_path / "t1"
    args = ["reproduce", "table1", "--seeds", "1", "--out", str(out), "-q", *[f"--set={s}" for s in TINY_SETS]]
    assert main(args) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    capsys.readouterr()
    # finished rows made under another oracle are not pooled with the command's
    assert main(args + ["--set", "oracle.seed=5"]) == 2
    line = one_line_error(capsys)
    assert "row Scheduled Sampling, seed 0:" in line and "is finished" in line and "oracle.seed: 0 -> 5" in line
    assert main(args + ["--set", "adversarial.iterations=3"]) == 2  # resume may extend a run; a table may not
    assert "adversarial.iterations: 2 -> 3" in one_line_error(capsys)
    # an interrupted row is not resumed under another config, and its config.yaml is not rewritten
    (out / "scheduled_sampling__0" / "summary.json").unlink()
    del before[out / "scheduled_sampling__0" / "summary.json"]
    assert main(args + ["--set", "adversarial.rollout_num=3"]) == 2
    line = one_line_error(capsys)
    assert "row Scheduled Sampling, seed 0:" in line and "interrupted" in line
    assert "adversarial.rollout_num: 2 -> 3" in line
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before  # nothing trained or written
    # keys that say how a run computes (threads) do not count; the interrupted row is resumed
    assert main(args + ["--set", "train.threads=2"]) == 0
    err = capsys.readouterr().err
    assert "resuming Scheduled Sampling, seed 0" in err and err.count("is finished") == 2


# 24 ----------------------------------------------------------------- resume trusts the checkpoint (issue 22, 5)

def _run_files(run: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}


def test_resume_refuses_an_edited_config_yaml_or_sizes_json(tiny_run, capsys):
    cfg = tiny_run / "config.yaml"
    text = cfg.read_text()
    assert "seed: 1," in text
    cfg.write_text(text.replace("seed: 1,", "seed: 2,", 1))  # the oracle's seed: another oracle
    before = _run_files(tiny_run)
    assert main(["train", "--resume", str(tiny_run), "--set", "adversarial.iterations=5", "-q"]) == 2
    line = one_line_error(capsys)
    assert "oracle.seed (1 -> 2)" in line and "config.yaml" in line and "ckpt-" in line
    assert _run_files(tiny_run) == before  # nothing trained, nothing rewritten
    cfg.write_text(text)
    sizes = tiny_run / "sizes.json"
    d = json.loads(sizes.read_text())
    sizes.write_text(json.dumps({**d, "seq_len": d["seq_len"] + 2}))
    before = _run_files(tiny_run)
    assert main(["train", "--resume", str(tiny_run), "--set", "adversarial.iterations=5", "-q"]) == 2
    line = one_line_error(capsys)
    assert "sizes.json: seq_len 10 (the checkpoint's: 8)" in line and "restore the run's own sizes.json" in line
    assert _run_files(tiny_run) == before
    sizes.write_text(json.dumps(d))
    assert main(["train", "--resume", str(tiny_run), "--set", "adversarial.iterations=5", "-q"]) == 0


def test_runs_of_seqgan_0_1_are_refused_naming_the_fix(tiny_run, capsys):
    """0.1 wrote no sizes.json and kept generator.eos_token in config.yaml: each is refused with one line
    saying to train the run again, nothing is guessed. A 0.2 checkpoint from before checkpoints held
    their sizes still resumes (its sizes are read from its tensors)."""
    import yaml
    sizes = tiny_run / "sizes.json"
    saved = sizes.read_text()
    sizes.unlink()
    assert main(["evaluate", str(tiny_run), "-n", "8"]) == 2
    line = one_line_error(capsys)
    assert "sizes.json: missing" in line and "seqgan 0.1" in line and "train it again" in line
    sizes.write_text(saved)
    cfg = tiny_run / "config.yaml"
    text = cfg.read_text()
    old = yaml.safe_load(text)
    old["generator"]["eos_token"] = None
    cfg.write_text(yaml.safe_dump(old))
    assert main(["evaluate", str(tiny_run), "-n", "8"]) == 2
    line = one_line_error(capsys)
    assert "generator.eos_token is a key of seqgan 0.1" in line and "train the run again" in line
    cfg.write_text(text)
    latest = sorted((tiny_run / "checkpoints").iterdir())[-1]
    state = json.loads((latest / ckpt.STATE).read_text())
    del state["sizes"]
    state["sha256"][ckpt.STATE] = ckpt._state_digest(state)
    (latest / ckpt.STATE).write_text(json.dumps(state))
    assert main(["train", "--resume", str(tiny_run), "--set", "adversarial.iterations=5", "-q"]) == 0


def test_resume_refuses_an_edited_vocab_json(tmp_path, capsys):
    write_corpus(tmp_path, {"train.txt": 80}, max_words=6)
    out = tmp_path / "run"
    sets = ["pretrain.generator_epochs=1", "pretrain.discriminator_rounds=0", "adversarial.iterations=0",
            "train.batch_size=16", "generator.emb_dim=8", "generator.hidden_dim=8", "eval.bleu_samples=10",
            "train.tensorboard=false", "discriminator.filter_sizes=[2]", "discriminator.num_filters=[4]"]
    assert main(["train", "--data", str(tmp_path / "train.txt"), "--out", str(out), "-q",
                 *[a for s in sets for a in ("--set", s)]]) == 0
    path = out / "vocab.json"
    vocab = json.loads(path.read_text())
    original = path.read_text()
    vocab["tokens"][4], vocab["tokens"][5] = vocab["tokens"][5], vocab["tokens"][4]  # two words swap ids
    path.write_text(json.dumps(vocab))
    assert main(["train", "--resume", str(out), "-q"]) == 2
    line = one_line_error(capsys)
    assert "vocab.json: not the vocabulary checkpoint ckpt-" in line and "other tokens" in line
    vocab["tokens"].append("zebra")
    path.write_text(json.dumps(vocab))
    assert main(["train", "--resume", str(out), "-q"]) == 2
    assert "the run has" in one_line_error(capsys)
    path.unlink()
    assert main(["train", "--resume", str(out), "-q"]) == 2
    assert "vocab.json: cannot read the run's vocabulary" in one_line_error(capsys)
    path.write_text(json.dumps(json.loads(original), indent=2))  # the same vocabulary laid out otherwise
    assert main(["train", "--resume", str(out), "-q"]) == 0


# 25 -------------------------------------------------------------- every phase's memory, before any work (issue 22, 7)

@pytest.mark.parametrize("setting, named", [
    ("adversarial.rollout_num=1000000", "adversarial.rollout_num=1000000: the adversarial phase would need about"),
    ("generator.hidden_dim=100000", "generator.hidden_dim=100000: the adversarial phase would need about"),
    ("generator.seq_len=200000", "generator.seq_len=200000, adversarial.rollout_num=2: the adversarial phase would"),
    ("oracle.num_samples=10000000000", "oracle.num_samples=10000000000: the adversarial phase would need about"),
    ("train.eval_samples=10000000000", "train.eval_samples=10000000000: the evaluation phase would need about"),
])
def test_a_run_that_cannot_fit_in_memory_is_refused_before_any_work(tiny_yaml, tmp_path, capsys, setting, named):
    out = tmp_path / "run"
    t0 = time.perf_counter()
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "-q", "--set", setting]) == 2
    assert time.perf_counter() - t0 < 10
    line = one_line_error(capsys)
    assert named in line and "GiB is the budget here" in line and f"lower {setting.split('=')[0]}" in line
    assert not out.exists()


def test_the_memory_check_covers_the_data_task_resume_and_evaluate(tiny_run, tmp_path, capsys, monkeypatch):
    write_corpus(tmp_path, {"train.txt": 100}, max_words=6)
    out = tmp_path / "data"
    assert main(["train", "--data", str(tmp_path / "train.txt"), "--out", str(out), "-q",
                 "--set", "generator.hidden_dim=100000"]) == 2
    assert "generator.hidden_dim=100000: the adversarial phase would need about" in one_line_error(capsys)
    assert not out.exists()
    # the samples evaluate and sweep score are held whole: too many are refused before sampling (the
    # budget made small here, so that the check, not the machine, is what is tested)
    import seqgan.data
    monkeypatch.setattr(seqgan.data, "memory_budget", lambda: 2 ** 20)
    for argv in (["evaluate", str(tiny_run), "-n", "100000"], ["sweep", str(tiny_run), "--samples", "100000", "-q"]):
        assert main(argv) == 2
        flag = argv[2]
        assert f"{flag} 100000: 100000 samples of 8 tokens would need about" in one_line_error(capsys)
    # a resume is checked too (here its budget shrank, as under a lower ulimit -v)
    before = _run_files(tiny_run)
    assert main(["train", "--resume", str(tiny_run), "--set", "adversarial.iterations=5", "-q"]) == 2
    assert "the budget here" in one_line_error(capsys)
    assert _run_files(tiny_run) == before


@pytest.mark.parametrize("kind", ["lstm", "gru", "transformer"])
def test_the_memory_estimate_counts_the_models_parameters_exactly(kind):
    from seqgan.config import Sizes, load_config
    from seqgan.memory import discriminator_size, generator_params
    from seqgan.models import Discriminator, build_generator
    cfg = load_config("quick", [f"generator.kind={kind}", "generator.vocab_size=37", "generator.emb_dim=12",
                                "generator.hidden_dim=10", "generator.num_layers=3", "generator.seq_len=9",
                                "discriminator.filter_scale=0.1"])
    sizes = Sizes.of(cfg)
    gen = build_generator(cfg.generator, torch.Generator().manual_seed(0), sizes)
    assert generator_params(cfg, 37, 9)[0] == sum(p.numel() for p in gen.parameters())
    disc = Discriminator(cfg.discriminator, 37, 9)
    assert discriminator_size(cfg, 37, 9)[0] == sum(p.numel() for p in disc.parameters())


# 26 ----------------------------------------------------------------- a full disk, a 300 MB line (issue 22, 10)

def _no_space(kind: str) -> Exception:
    import errno

    from safetensors import SafetensorError
    if kind == "oserror":
        return OSError(errno.ENOSPC, "No space left on device")  # no file name: write(), not open(), failed
    return SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")


@pytest.mark.parametrize("kind", ["oserror", "safetensors"])
def test_a_full_disk_while_checkpointing_is_one_line_and_the_previous_checkpoint_survives(
        tiny_yaml, tmp_path, capsys, monkeypatch, kind):
    import seqgan.checkpoint
    real_save = seqgan.checkpoint.save_file
    calls = []

    def save_file(tensors, path, metadata=None):
        calls.append(path)
        if len(calls) == 4:  # the fourth checkpoint: the disk is full
            with open(path, "wb") as f:
                f.write(b"partial")
            raise _no_space(kind)
        real_save(tensors, path, metadata=metadata)

    monkeypatch.setattr(seqgan.checkpoint, "save_file", save_file)
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "-q", "--set", "train.checkpoint_every=1",
                 "--set", "train.keep_checkpoints=5"]) == 2
    line = one_line_error(capsys)
    assert "No space left on device" in line and "checkpoints" in line and f"seqgan train --resume {out}" in line
    ckpts = ckpt.list_checkpoints(out)
    assert len(ckpts) == 3 and not list((out / "checkpoints").glob(".tmp-*"))  # nothing half-written left
    assert ckpt.latest_valid(out).path == ckpts[-1]  # the previous checkpoint loads
    assert not (out / ".lock").exists()
    monkeypatch.setattr(seqgan.checkpoint, "save_file", real_save)  # space freed: the run continues
    assert main(["train", "--resume", str(out), "-q"]) == 0
    assert (out / "summary.json").is_file()


def test_a_full_disk_while_writing_the_final_weights_is_one_line(tiny_yaml, tmp_path, capsys, monkeypatch):
    import seqgan.files
    monkeypatch.setattr(seqgan.files, "save_file", lambda *a, **k: (_ for _ in ()).throw(_no_space("safetensors")))
    out = tmp_path / "run"
    assert train_cli(tiny_yaml, out) == 2
    line = one_line_error(capsys)
    assert "generator_mle.safetensors (No space left on device)" in line and "--resume" in line
    assert not list(out.glob(".generator*")), "a temporary file was left behind"


def _spy_tokenizer(monkeypatch) -> list[int]:
    """The lengths (characters) of every line the tokenizer is given."""
    from seqgan.data import Tokenizer
    seen: list[int] = []
    real = Tokenizer.__call__

    def call(self, line):
        seen.append(len(line))
        return real(self, line)

    monkeypatch.setattr(Tokenizer, "__call__", call)
    return seen


def test_a_line_too_long_for_memory_is_refused_before_it_is_tokenised(tmp_path, capsys, monkeypatch):
    """A 300 MB line, scaled down: with a 64 MiB budget a run affords lines of a few hundred tokens,
    and a line of 50,000 words is counted, never tokenised, then refused with the run's message."""
    import seqgan.data
    monkeypatch.setattr(seqgan.data, "memory_budget", lambda: 2 ** 26)
    seen = _spy_tokenizer(monkeypatch)
    write_corpus(tmp_path, {"train.txt": 200}, max_words=8)
    with open(tmp_path / "train.txt", "a") as f:
        f.write(" ".join(["word"] * 50_000) + "\n")
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "train.txt"), "--out", str(out), "-q"]) == 2
    line = one_line_error(capsys)
    assert f"{tmp_path / 'train.txt'}:201" in line and "50000 tokens" in line and "99% of the lines" in line
    assert seen and max(seen) < 100, "the long line was tokenised"
    assert not out.exists()
    # a held-out file (or any file read alone) is held to what tokenising a line may take
    monkeypatch.setattr(seqgan.data, "memory_budget", lambda: 2 ** 20)  # 10,485 tokens a line
    seen.clear()
    from seqgan.data import DataError, Tokenizer, read_lines
    with pytest.raises(DataError, match=r"train.txt:201: 50000 tokens on one line, more than can be tokenised"):
        read_lines(tmp_path / "train.txt", Tokenizer("word"), "data.test")
    assert max(seen) < 100


@pytest.mark.parametrize("kind, split", [("word", True), ("word", False), ("char", True), ("space", True)])
def test_counting_tokens_agrees_with_tokenising(kind, split):
    from seqgan.data import Tokenizer
    tok = Tokenizer(kind, split_punctuation=split)
    for line in ["", "  ", "The dog's bench, 3.5 km -- ok?", "İstanbul  ǅemal\tx\x1cy", "白日依山尽 , 黄河入海流 。",
                 "a\u00a0b  c\u2003d", "60 62 64 65 67"]:
        assert tok.count(line) == len(tok(line)), (kind, line)


# 27 ----------------------------------------------------------------- minor sharp edges (issue 22, 16)

def test_a_duplicated_yaml_key_or_section_names_the_key_and_both_lines(tmp_path, capsys):
    cfg = tmp_path / "dup.yaml"
    cfg.write_text("seed: 1\nadversarial: {rollout_num: 4}\ntrain: {batch_size: 32}\nadversarial:\n  iterations: 3\n")
    assert main(["config", "--config", str(cfg)]) == 2
    line = one_line_error(capsys)
    assert f"{cfg}:4: the key 'adversarial' is given twice (also at line 2)" in line
    cfg.write_text("adversarial:\n  rollout_num: 4\n  iterations: 2\n  rollout_num: 8\n")
    assert main(["train", "--config", str(cfg), "--out", str(tmp_path / "run")]) == 2
    assert f"{cfg}:4: the key 'rollout_num' is given twice (also at line 2)" in one_line_error(capsys)
    assert not (tmp_path / "run").exists()
    # a YAML merge may override what it brings in: that is not a duplicate
    import yaml

    from seqgan.config import _UniqueKeyLoader
    assert yaml.load("a: &b {x: 1, y: 2}\nc: {<<: *b, x: 3}\n", Loader=_UniqueKeyLoader)["c"] == {"x": 3, "y": 2}


def test_a_held_out_file_that_is_the_training_file_is_refused(tmp_path, capsys):
    write_corpus(tmp_path, {"train.txt": 100}, max_words=6)
    (tmp_path / "link.txt").symlink_to(tmp_path / "train.txt")
    for flag, path in (("--test", "train.txt"), ("--valid", "link.txt")):
        out = tmp_path / "run"
        assert main(["train", "--data", str(tmp_path / "train.txt"), flag, str(tmp_path / path), "--out", str(out),
                     "-q"]) == 2
        line = one_line_error(capsys)
        assert f"data.{flag[2:]}=" in line and "is the training file" in line
        assert not out.exists()


def test_control_invisible_characters_and_cr_line_ends(tmp_path):
    from seqgan.data import DataError, Tokenizer, read_lines
    p = tmp_path / "t.txt"
    p.write_bytes(b"a man\nthe d\x00og sits\n")
    with pytest.raises(DataError, match=r"t.txt:2: the control character U\+0000 at column 6"):
        read_lines(p, Tokenizer("word"))
    # zero-width and bidirectional marks never become tokens; a zero-width space separates words
    p.write_text("do\u200dg sits\u200b.\na\u200bman\n\u200e\u00adred\u2060dog\n", encoding="utf-8")
    assert read_lines(p, Tokenizer("word")).lines == [["dog", "sits", "."], ["a", "man"], ["reddog"]]
    assert read_lines(p, Tokenizer("char")).lines == [list("dogsits."), list("aman"), list("reddog")]
    # CR-only line endings (old Mac files) are lines, as are CRLF ones
    p.write_bytes(b"a b\rc d\r\re f\r")
    f = read_lines(p, Tokenizer("space"))
    assert f.lines == [["a", "b"], ["c", "d"], ["e", "f"]] and f.line_numbers == [1, 2, 4] and f.blank == 1
    p.write_bytes(b"a b\r\nc d\r\n")
    assert read_lines(p, Tokenizer("space")).line_numbers == [1, 2]


def test_a_vocabulary_of_nothing_but_unk_is_refused(tmp_path, capsys):
    write_corpus(tmp_path, {"train.txt": 100}, max_words=6)
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "train.txt"), "--out", str(out), "-q", "--set",
                 "data.min_freq=100000"]) == 2
    line = one_line_error(capsys)
    assert "every training token maps to <unk>" in line and "lower data.min_freq" in line
    assert not out.exists()


def test_evaluate_test_on_an_oracle_run_is_one_line(shared_run, tmp_path, capsys):
    (tmp_path / "t.txt").write_text("1 2 3\n")
    assert main(["evaluate", str(shared_run), "--test", str(tmp_path / "t.txt")]) == 2
    line = one_line_error(capsys)
    assert "is an oracle run" in line and "--test is for runs on your data" in line


def test_a_run_whose_final_nll_oracle_is_nan_stays_an_oracle_run_in_compare(shared_run, tmp_path, capsys):
    import shutil
    diverged = tmp_path / "diverged"
    shutil.copytree(shared_run, diverged)
    s = json.loads((diverged / "summary.json").read_text())
    s["evaluations"]["final"]["nll_oracle"] = None  # how summary.json holds a NaN
    (diverged / "summary.json").write_text(json.dumps(s))
    capsys.readouterr()
    assert main(["compare", str(shared_run), str(diverged), "--by", "name", "--reference", "run"]) == 0
    out = capsys.readouterr().out
    assert "NLL-oracle" in out and "| diverged | 1 | nan |" in out
    assert main(["compare", str(shared_run), str(diverged), "--by", "name", "--json"]) == 0
    js = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"bare {c} in the JSON"))
    assert js["metrics"] == ["nll_oracle", "nll_test"]
    assert next(g for g in js["groups"] if g["name"] == "diverged")["mean"]["nll_oracle"] is None


@pytest.mark.parametrize("compact", [True, False])
def test_no_sample_or_completion_runs_past_max_len_without_eos(compact):
    """A generator that never draws <eos>: every sample still ends with <eos> at the last of its
    max_len + 1 positions, as every training sequence does, and so does every rollout completion."""
    from seqgan.config import BOS_ID, EOS_ID, GeneratorConfig, Sizes
    from seqgan.models import build_generator
    from seqgan.policies.sampler import complete
    gen = build_generator(GeneratorConfig(emb_dim=8, hidden_dim=8), torch.Generator().manual_seed(0),
                          Sizes(12, 6, BOS_ID, EOS_ID))
    with torch.no_grad():
        gen.b_out[EOS_ID] = -1e4  # <eos> has probability ~e^-10000 at every step
    Y = gen.sample(64, seed=1, compact=compact)  # (64, 6): max_len 5
    assert (Y[:, -1] == EOS_ID).all() and not (Y[:, :-1] == EOS_ID).any()
    comp, *_ = complete(gen, Y, 3, torch.Generator().manual_seed(2), compact=compact)
    assert (comp[:, -1] == EOS_ID).all()
