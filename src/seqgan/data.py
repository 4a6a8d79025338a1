"""Your own sequences: reading text files, tokenisers, the vocabulary, padded id tensors.

One sequence per line, UTF-8. A line becomes tokens (`tokenize`), the tokens ids
(`Vocabulary`), and the ids a row of a (M, T) tensor, T = max_len + 1:

    y_1 .. y_L  <eos>  <pad> ... <pad>          (L <= max_len)

The special ids are fixed: <pad> 0, <bos> 1 (the generator's start input, never emitted),
<eos> 2, <unk> 3; ordinary tokens follow by decreasing training frequency (ties in
code-point order), so a vocabulary is a plain JSON list.

Tokenisers (`data.tokenizer`):
    word   words and punctuation marks: \\w+ runs and every other non-space character are
           tokens (`data.split_punctuation`, default on; off: split on whitespace only);
           lower-cased (`data.lowercase`, default on). Decoded with spaces.
    char   every non-space character is a token (Chinese); decoded without spaces.
    space  pre-tokenised text (e.g. music pitch numbers): split on whitespace, nothing else.
    smiles molecules as SMILES strings (`SMILES_TOKEN`): a bracket atom [..] is one token, so are
           the halogens Br and Cl and a two-digit ring bond %nn; every other character is a token
           of its own (atoms, aromatic atoms, ring-bond digits, bonds, branches). A line's SMILES
           is its first whitespace-separated field (the .smi convention: a name may follow);
           case is kept. Decoded by concatenation, so `generate` prints SMILES.
In each case `tokenize(detokenize(tokens)) == tokens`.

Files may be gzip-compressed (`.gz`, or any file that starts with gzip's magic bytes): they are
decompressed while read, up to the memory budget. `data.subsample` trains on a seeded sample of
the training file's lines.

Special names in the text (space tokenizer, or word with split_punctuation off): a literal
`<unk>` is an unknown token and encodes as <unk> (as in the Penn Treebank files); a literal
`<pad>`, `<bos>` or `<eos>` would encode as that special id and end or blank the line, so
`read_lines` refuses it, naming the file and line.

Every problem raises `DataError`, whose message names the file and line and says what to do.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Optional, Sequence

import torch
from torch import Tensor

from seqgan.config import BOS_ID, EOS_ID, PAD_ID, UNK_ID, ConfigError, DataConfig

PAD, BOS, EOS, UNK = PAD_ID, BOS_ID, EOS_ID, UNK_ID
SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]
_WORD = re.compile(r"\w+|[^\w\s]")
_NONSPACE = re.compile(r"\S+")
#: control characters that are not whitespace (NUL, ESC, DEL, C1 controls): a binary or damaged file
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f\x80-\x84\x86-\x9f]")
#: bytes of memory one token takes while a line is tokenised (a str object and a list slot, rounded up)
TOKEN_BYTES = 100
#: one SMILES token: a bracket atom, Br, Cl, a two-digit ring bond, or any other single character (the
#: usual SMILES regex, e.g. Schwaller et al. 2019, with a catch-all so that no character is ever lost)
SMILES_TOKEN = re.compile(r"\[[^\[\]]+\]|Br|Cl|%[0-9]{2}|\S")
#: special names a text token may not be: they would encode as the special id (<unk> may: it is unknown)
RESERVED = frozenset(SPECIALS) - {"<unk>"}
#: what `seqgan generate` and the training log print for a sample of no tokens (<eos> first),
#: so that one sample stays one visible line
EMPTY_SAMPLE = "<empty>"


class DataError(ConfigError):
    """Bad input data; the message names the file, the line and the fix."""


# ============================================================================ tokenisers

@dataclass(frozen=True)
class Tokenizer:
    kind: str = "word"
    """'word', 'char', 'space' or 'smiles' (see the module docstring)."""
    lowercase: bool = True
    """word only: lower-case the text first."""
    split_punctuation: bool = True
    """word only: punctuation marks are tokens of their own ('wheel.' -> 'wheel', '.')."""

    @classmethod
    def from_config(cls, cfg: DataConfig) -> "Tokenizer":
        return cls(cfg.tokenizer, cfg.lowercase, cfg.split_punctuation)

    def __call__(self, line: str) -> list[str]:
        if self.kind == "char":
            return [ch for ch in line if not ch.isspace()]
        if self.kind == "space":
            return line.split()
        if self.kind == "smiles":
            fields = line.split(maxsplit=1)
            return SMILES_TOKEN.findall(fields[0]) if fields else []
        if self.lowercase:
            line = line.lower()
        return _WORD.findall(line) if self.split_punctuation else line.split()

    def count(self, line: str) -> int:
        """len(self(line)) without building the tokens (memory O(1) in the line's length)."""
        if self.kind == "char":
            return sum(1 for ch in line if not ch.isspace())
        if self.kind == "word" and self.lowercase:
            line = line.lower()
        pattern = _WORD if self.kind == "word" and self.split_punctuation else _NONSPACE
        return sum(1 for _ in pattern.finditer(line))

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Text from tokens: characters and SMILES tokens joined without spaces; word tokens (punctuation split off)
        joined with spaces except where the tokenizer split a word ('nation ' s' -> "nation's",
        'wheel .' -> 'wheel.') or a dash ('- -' -> '--'); space tokens with spaces. Tokenising the
        text gives the tokens back."""
        if self.kind in ("char", "smiles"):
            return "".join(tokens)
        if self.kind == "space" or not self.split_punctuation:
            return " ".join(tokens)
        return _join_words(tokens)


_CLOSING = set(".,!?;:%)]}")
_OPENING = set("([{$#")
_JOINING = set("'-/@&")  # inside a word: "nation's", "well-known", "and/or"


def _join_words(tokens: Sequence[str]) -> str:
    """Word tokens to text: no space before closing punctuation, after opening punctuation, or
    around a joining mark between two word tokens."""
    out: list[str] = []
    for i, tok in enumerate(tokens):
        if not out:
            out.append(tok)
            continue
        prev = tokens[i - 1]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        word = lambda t: bool(t) and (t[0].isalnum() or t[0] == "_")  # noqa: E731
        before = tokens[i - 2] if i >= 2 else ""
        glue = (tok in _CLOSING or prev in _OPENING
                or (tok == "-" and prev == "-")  # a dash written '--' stays '--', not '- -'
                or (tok in _JOINING and word(prev) and word(nxt))
                or (prev in _JOINING and word(tok) and word(before))
                or (prev in ".,:" and tok.isdigit() and before.isdigit()))  # 3.5, 10,000, 12:30
        out.append(tok if glue else " " + tok)
    return "".join(out)


# ============================================================================ reading files

@dataclass
class TextFile:
    """The tokenised non-blank lines of a file, with their 1-based line numbers."""

    path: Path
    lines: list[list[str]]
    line_numbers: list[int]
    blank: int
    """Blank (or whitespace-only) lines skipped."""
    too_long: list[tuple[int, int]] = field(default_factory=list)
    """(line number, tokens) of the lines longer than `read_lines`' max_tokens: counted, not tokenised,
    and not in `lines`."""
    total: int = 0
    """Non-blank lines in the file; more than len(lines) when `read_lines` kept a subsample."""

    def lengths(self) -> list[tuple[int, int]]:
        """(tokens, line number) of every non-blank line kept, the long ones included."""
        return [(len(t), n) for t, n in zip(self.lines, self.line_numbers)] + [(c, n) for n, c in self.too_long]


@functools.lru_cache(maxsize=1)
def _invisible() -> dict[int, Optional[str]]:
    """str.translate table of the Unicode format characters (category Cf: zero-width joiners and
    non-joiners, bidirectional marks, soft hyphens, word joiners, byte-order marks): removed, except the
    zero-width space, which separates words (Thai, Khmer) and becomes a space."""
    import sys
    import unicodedata
    table: dict[int, Optional[str]] = {cp: None for cp in range(sys.maxunicode + 1)
                                       if unicodedata.category(chr(cp)) == "Cf"}
    table[0x200B] = " "
    return table


def tokenise_limit() -> int:
    """The most tokens one line may hold to be tokenised in the memory budget (`memory_budget`)."""
    return memory_budget() // TOKEN_BYTES


GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: str | Path, what: str = "data.train") -> bytes:
    """The bytes of a file, decompressed when it is gzip data (it starts with gzip's magic bytes;
    a file named .gz must). Decompression stops with a DataError once the text exceeds
    `memory_budget()`; a corrupt, truncated or mislabelled .gz is a DataError naming the file."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{what}={path}: no such file")
    try:
        with open(p, "rb") as f:
            head = f.read(2)
            if head != GZIP_MAGIC:
                if p.suffix.lower() == ".gz":
                    raise DataError(f"{what}={path}: named .gz but not gzip data (it starts with {head!r}); "
                                    f"rename it if it is plain text, or check the download (gzip -t {path})")
                return head + f.read()
            f.seek(0)
            return _gunzip(f, p, what)
    except OSError as e:
        raise DataError(f"{what}={path}: cannot read ({e.strerror})") from None


def _gunzip(f: BinaryIO, path: Path, what: str) -> bytes:
    budget = memory_budget()
    parts: list[bytes] = []
    total = 0
    try:
        with gzip.GzipFile(fileobj=f, mode="rb") as g:
            while True:
                chunk = g.read(1 << 24)
                if not chunk:
                    break
                total += len(chunk)
                if total > budget:
                    raise DataError(f"{what}={path}: decompresses to more than {budget / 2**30:.1f} GiB, the memory "
                                    f"budget here (half the memory); give a smaller file, e.g. "
                                    f"zcat {path} | shuf -n 100000 --random-source=<(yes) > sample.txt")
                parts.append(chunk)
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise DataError(f"{what}={path}: not a valid gzip file ({e}); check it with gzip -t {path}, or "
                        f"download it again") from None
    return b"".join(parts)


def read_lines(path: str | Path, tokenizer: Tokenizer, what: str = "data.train",
               max_tokens: Optional[int] = None, subsample: int = 0, seed: int = 0) -> TextFile:
    """Tokenise every non-blank line of `path` (gzip data is decompressed: `read_bytes`). Raises
    DataError for a missing, unreadable, empty or non-UTF-8 file (naming the first bad line), and
    for a line holding a control character that is not whitespace (NUL, ESC: a binary or damaged
    file).

    Lines end at LF, CRLF or a lone CR (a file saved with CR-only line endings is read line by
    line). Invisible format characters (zero-width joiners, bidirectional marks, soft hyphens)
    are removed and a zero-width space is a space, so none becomes a token or joins one.

    `subsample` > 0 keeps that many of the non-blank lines, drawn uniformly without replacement
    by `torch.randperm` seeded with `seed` and kept in file order (all of them when the file has
    no more); only the kept lines are tokenised. Every line is still checked.

    A kept line whose bytes exceed `max_tokens` (each token takes at least a byte) is first counted
    without being tokenised; one of more than `max_tokens` tokens is not tokenised and goes to
    `too_long` for the caller to judge. Without `max_tokens` the limit is what tokenising may
    take in the memory budget (`tokenise_limit`), and such a line is refused here."""
    p = Path(path)
    raw = read_bytes(p, what)
    limit = tokenise_limit() if max_tokens is None else max_tokens
    if b"\r" in raw:  # CRLF and CR-only line endings as LF (universal newlines)
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    chunks = raw.split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()  # the final newline ends the last line; it does not start a new one
    texts: list[str] = []
    for i, b in enumerate(chunks, 1):
        try:
            text = b.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DataError(f"{path}:{i}: invalid UTF-8 (byte 0x{b[e.start]:02x} at column {e.start + 1}); "
                            f"convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8") from None
        if i == 1:
            text = text.lstrip("\ufeff")  # a UTF-8 byte-order mark
        bad = _CONTROL.search(text)
        if bad:
            raise DataError(f"{path}:{i}: the control character U+{ord(bad.group()):04X} at column {bad.start() + 1} "
                            f"(a binary or damaged file?); remove it, e.g. tr -d '\\000' for NUL bytes")
        if not text.isascii():
            text = text.translate(_invisible())
        texts.append(text)
    empty = not raw
    del chunks, raw
    # a line has tokens exactly when it has a non-space character (every tokenizer splits on whitespace)
    filled = [i for i, text in enumerate(texts) if text and not text.isspace()]
    keep = filled
    if 0 < subsample < len(filled):
        g = torch.Generator().manual_seed(seed)
        picked = torch.randperm(len(filled), generator=g)[:subsample].sort().values
        keep = [filled[j] for j in picked.tolist()]
    lines: list[list[str]] = []
    numbers: list[int] = []
    too_long: list[tuple[int, int]] = []
    for i in keep:
        text = texts[i]
        if len(text) > limit:  # characters bound the tokens: only a line this long can hold too many
            n = tokenizer.count(text)
            if n > limit:
                too_long.append((i + 1, n))
                continue
        toks = tokenizer(text)
        if not toks:  # not expected (see `filled`), but a blank line all the same
            continue
        reserved = RESERVED.intersection(toks)
        if reserved:
            tok = min(reserved)
            raise DataError(f"{path}:{i + 1}: the token {tok} is the name of a special id (the line would end or "
                            f"break there); rename it in the file, e.g. sed -i 's/{tok}/{tok[1:-1]}/g' {path}")
        lines.append(toks)
        numbers.append(i + 1)
    if too_long and max_tokens is None:
        n, count = max(too_long, key=lambda x: x[1])
        raise DataError(f"{path}:{n}: {count} tokens on one line, more than can be tokenised in the memory budget "
                        f"here (about {limit} tokens a line, {memory_budget() / 2**30:.1f} GiB: half the memory); "
                        f"split the line or remove it")
    if not lines and not too_long:
        kind = "is empty" if empty else ("has only blank lines" if not filled else "has no tokens")
        raise DataError(f"{what}={path}: the file {kind}; give a file with one sequence per line")
    dropped = len(keep) - len(lines) - len(too_long)  # kept lines with no tokens after all
    blank = len(texts) - len(filled) + dropped
    return TextFile(p, lines, numbers, blank, too_long=too_long, total=len(filled) - dropped)


# ============================================================================ vocabulary

@dataclass
class Vocabulary:
    tokens: list[str]
    """id -> token; the first four are SPECIALS."""
    tokenizer: Tokenizer = field(default_factory=Tokenizer)
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.tokens[:4] != SPECIALS:
            raise DataError(f"a vocabulary must start with {SPECIALS}, got {self.tokens[:4]}")
        self.index = {t: i for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def build(cls, lines: list[list[str]], tokenizer: Tokenizer, min_freq: int = 1,
              max_vocab: int = 0) -> tuple["Vocabulary", dict[str, int]]:
        """From training lines: tokens seen >= min_freq times, the most frequent first, at most
        max_vocab ids in all (0: no limit). Returns the vocabulary and what it left out:
        {'types': distinct tokens mapped to <unk>, 'occurrences': their count}."""
        counts = Counter(t for line in lines for t in line)
        for s in SPECIALS:
            counts.pop(s, None)  # a literal '<unk>' in the text is an unknown token, not a new id
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        kept = [t for t, c in ranked if c >= min_freq]
        if max_vocab > 0:
            kept = kept[: max_vocab - len(SPECIALS)]
        keep = set(kept)
        dropped = {"types": len(counts) - len(kept),
                   "occurrences": sum(c for t, c in counts.items() if t not in keep)}
        return cls(SPECIALS + kept, tokenizer), dropped

    def encode(self, tokens: Sequence[str]) -> list[int]:
        return [self.index.get(t, UNK) for t in tokens]

    def decode(self, ids: Sequence[int]) -> list[str]:
        """Token strings up to (not including) the first <eos>; <pad>/<bos> are skipped."""
        out = []
        for i in ids:
            if i == EOS:
                break
            if i in (PAD, BOS):
                continue
            out.append(self.tokens[i])
        return out

    def decode_text(self, ids: Sequence[int]) -> str:
        return self.tokenizer.detokenize(self.decode(ids))

    def digest(self) -> str:
        """sha256 of what the vocabulary means (its tokens in id order and its tokenizer), whatever the
        layout of its JSON file: checkpoints hold it, so that a resume notices an edited vocab.json."""
        import hashlib
        t = self.tokenizer
        body = {"tokens": self.tokens, "tokenizer": [t.kind, t.lowercase, t.split_punctuation]}
        return hashlib.sha256(json.dumps(body, ensure_ascii=False).encode("utf-8")).hexdigest()

    # ------------------------------------------------------------------ JSON
    def to_json(self) -> str:
        t = self.tokenizer
        return json.dumps({"format": "seqgan-vocab", "version": 1,
                           "tokenizer": {"kind": t.kind, "lowercase": t.lowercase,
                                         "split_punctuation": t.split_punctuation},
                           "specials": {"pad": PAD, "bos": BOS, "eos": EOS, "unk": UNK},
                           "tokens": self.tokens}, ensure_ascii=False, indent=0)

    @classmethod
    def from_json(cls, text: str, where: str = "vocab.json") -> "Vocabulary":
        try:
            d = json.loads(text)
            tok = Tokenizer(**d["tokenizer"])
            return cls(list(d["tokens"]), tok)
        except (ValueError, KeyError, TypeError) as e:
            raise DataError(f"{where}: not a seqgan vocabulary ({e})") from None

    @classmethod
    def load(cls, path: str | Path) -> "Vocabulary":
        return cls.from_json(Path(path).read_text(encoding="utf-8"), str(path))


# ============================================================================ id tensors

@dataclass
class Encoded:
    """A file as a padded id tensor, and what was done to fit it."""

    ids: Tensor
    """(M, max_len + 1) int64: tokens, <eos>, <pad>..."""
    tokens: list[list[str]]
    """The encoded lines' token strings (after truncation)."""
    references: list[list[str]]
    """The BLEU references: every line of the file, truncated to max_len when data.overlong is
    'truncate' (the sequences the model is asked to produce), not dropped when it is 'drop'."""
    truncated: int = 0
    dropped: int = 0
    unknown: int = 0
    """Tokens mapped to <unk>."""
    total_tokens: int = 0


def fit_lines(f: TextFile, max_len: int, overlong: str, what: str) -> tuple[list[list[str]], int, int]:
    """The lines of `f` that fit `max_len` tokens under the `overlong` policy: 'truncate' keeps
    the first max_len tokens, 'drop' leaves the line out, 'error' raises DataError naming it.
    Returns (lines, truncated, dropped)."""
    kept: list[list[str]] = []
    truncated = dropped = 0
    for toks, n in zip(f.lines, f.line_numbers):
        if len(toks) > max_len:
            if overlong == "error":
                raise DataError(f"{f.path}:{n}: {len(toks)} tokens, longer than data.max_len={max_len}; raise "
                                f"data.max_len or set data.overlong=truncate or drop")
            if overlong == "drop":
                dropped += 1
                continue
            toks = toks[:max_len]
            truncated += 1
        kept.append(toks)
    if not kept:
        raise DataError(f"{what}={f.path}: every line is longer than data.max_len={max_len} and was dropped; "
                        f"raise data.max_len or set data.overlong=truncate")
    return kept, truncated, dropped


def encode_lines(f: TextFile, vocab: Vocabulary, max_len: int, overlong: str, what: str) -> Encoded:
    """`fit_lines`, then ids: each line's tokens, <eos>, <pad> up to max_len + 1 positions."""
    kept, truncated, dropped = fit_lines(f, max_len, overlong, what)
    rows = [vocab.encode(toks) for toks in kept]
    unknown = sum(i == UNK for r in rows for i in r)
    total = sum(len(r) for r in rows)
    ids = torch.tensor([r + [EOS] + [PAD] * (max_len - len(r)) for r in rows], dtype=torch.long)
    references = [t[:max_len] for t in f.lines] if overlong == "truncate" else f.lines
    return Encoded(ids, kept, references, truncated, dropped, unknown, total)


def encode_file(path: str, vocab: Vocabulary, cfg: DataConfig, what: str) -> Encoded:
    """Read and encode a held-out file with an existing vocabulary (max_len and the overlong
    policy of `cfg`)."""
    return encode_lines(read_lines(path, vocab.tokenizer, what), vocab, cfg.max_len, cfg.overlong, what)


# ============================================================================ a dataset for a run

@dataclass
class Dataset:
    vocab: Vocabulary
    train: Optional[Encoded]
    """None when a resumed run's checkpoint holds the training data."""
    valid: Optional[Encoded]
    test: Optional[Encoded]
    max_len: int
    report: list[str]
    """Human-readable lines: sizes, truncations, <unk> rates."""


def memory_budget() -> int:
    """Bytes a run may plan to use: half of the physical memory, or of the address-space limit
    (`ulimit -v`) when that is lower."""
    try:
        phys = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        phys = 1 << 34
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            phys = min(phys, soft)
    except (ImportError, ValueError, OSError):
        pass
    return phys // 2


def line_length_p99(f: TextFile) -> int:
    """The 99th percentile of the file's line lengths in tokens (the length of the line at rank
    floor(0.99 M) of M sorted by length, 0-based, the lines too long to tokenise included): the
    data.max_len the refusals suggest."""
    lengths = sorted(n for n, _ in f.lengths())
    return lengths[min(len(lengths) - 1, int(0.99 * len(lengths)))]


def affordable_length(lines: int, cost: Callable[[int, int], int]) -> int:
    """The longest max_len (0 if none) whose run of `lines` sequences fits the memory budget:
    `cost(max_len, lines)` grows with max_len, so a bisection finds it."""
    budget, lo, hi = memory_budget(), 0, 1
    while hi < 2 ** 40 and cost(hi, lines) <= budget:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if cost(mid, lines) <= budget else (lo, mid)
    return lo


def check_length_cost(f: TextFile, max_len: int, cfg: DataConfig, cost: Callable[[int, int], int]) -> None:
    """Refuse (DataError) a max_len whose run would not fit in memory, before anything is built:
    `cost(max_len, lines)` estimates the bytes of the padded data and the models."""
    lengths_at = f.lengths()
    need, budget = cost(max_len, len(lengths_at)), memory_budget()
    if need <= budget:
        return
    p99 = line_length_p99(f)
    longest = max(lengths_at)[1]
    why = (f"the longest training line, {f.path}:{longest}, has {max_len} tokens"
           if not cfg.max_len else f"data.max_len={max_len}")
    raise DataError(f"{why}: sequences that long need about {need / 2**30:.1f} GiB for the data and the "
                    f"discriminator, and {budget / 2**30:.1f} GiB is the budget here (half the memory); set "
                    f"data.max_len (99% of the lines have at most {p99} tokens) with data.overlong=drop or truncate")


def check_drop_share(f: TextFile, max_len: int, max_drop: float) -> None:
    """Refuse (DataError) to train on what is left when data.overlong=drop would leave out more
    than `max_drop` (data.max_drop) of the training lines: a preset's max_len chosen for other
    data (coco's 24 tokens) on paragraphs keeps a small, biased remainder, and a warning is easily
    missed. The message names the file, the share and the fixes."""
    lengths = f.lengths()
    over = sum(n > max_len for n, _ in lengths)
    share = over / len(lengths)
    if share <= max_drop:
        return
    raise DataError(f"data.train={f.path}: {100 * share:.0f}% of the lines ({over:,} of {len(lengths):,}) are longer "
                    f"than data.max_len={max_len} and would be dropped (more than data.max_drop={max_drop:g}); set "
                    f"data.max_len (99% of the lines have at most {line_length_p99(f)} tokens; 0: the longest "
                    f"line) or data.overlong=truncate")


def load_dataset(cfg: DataConfig, vocab: Optional[Vocabulary] = None, read_train: bool = True,
                 cost: Optional[Callable[[int, int], int]] = None) -> Dataset:
    """Read `cfg.train` (and valid/test), build the vocabulary from the training lines as they
    are kept (after `data.overlong`), encode everything. max_len: cfg.max_len, or the longest
    training line. With `vocab` (a resumed run's) and `read_train=False`, the training file is
    not read (a checkpoint holds the training data) and `train` is None. `cost(max_len, lines)`:
    the run's memory estimate, checked against `memory_budget()` before anything is encoded;
    with data.overlong=drop, a drop of more than data.max_drop of the training lines is refused
    (`check_drop_share`)."""
    if not cfg.train:
        raise DataError("task=data needs a training file: give --data FILE (or data.train)")
    tok = Tokenizer.from_config(cfg)
    # the longest training line decides max_len when it is 0: lines too long for the run's memory are counted,
    # not tokenised, and refused by check_length_cost (a 300 MB line never becomes 60 million strings)
    train_limit = None
    if read_train and not cfg.max_len and cost is not None:
        try:
            n_lines = read_bytes(cfg.train, "data.train").count(b"\n") + 1
        except DataError:
            n_lines = 1  # read_lines names the problem
        if cfg.subsample:
            n_lines = min(n_lines, cfg.subsample)
        train_limit = min(affordable_length(n_lines, cost), tokenise_limit())
    sub = {"subsample": cfg.subsample, "seed": cfg.subsample_seed}
    files = {what: read_lines(p, tok, what, train_limit, **sub) if what == "data.train" else read_lines(p, tok, what)
             for what, p in (("data.train", cfg.train if read_train else None), ("data.valid", cfg.valid),
                             ("data.test", cfg.test))
             if p}
    report = []
    if read_train:
        max_len = cfg.max_len or max(n for n, _ in files["data.train"].lengths())
        if cost is not None:
            check_length_cost(files["data.train"], max_len, cfg, cost)
        if files["data.train"].too_long:  # they fit after all (the estimate counted blank lines): read them
            files["data.train"] = read_lines(cfg.train, tok, "data.train", max(max_len, train_limit or 0), **sub)
        if cfg.overlong == "drop":
            check_drop_share(files["data.train"], max_len, cfg.max_drop)
    else:
        max_len = cfg.max_len
        if vocab is None or not max_len:
            raise ValueError("load_dataset(read_train=False) needs the run's vocabulary and max_len")
    if vocab is None:
        lines, _, _ = fit_lines(files["data.train"], max_len, cfg.overlong, "data.train")
        vocab, left_out = Vocabulary.build(lines, tok, cfg.min_freq, cfg.max_vocab)
        if len(vocab) == len(SPECIALS):  # every token would be <unk>: nothing to learn but its count
            raise DataError(f"data.train={cfg.train}: every training token maps to <unk> (data.min_freq={cfg.min_freq}"
                            f" is above every token's count); lower data.min_freq")
        if left_out["types"]:
            occ = sum(len(ln) for ln in lines)
            why = ([f"data.min_freq={cfg.min_freq}"] if cfg.min_freq > 1 else []) + \
                  ([f"data.max_vocab={cfg.max_vocab}"] if cfg.max_vocab else [])
            report.append(f"vocabulary: {len(vocab)} ids; {left_out['types']} rarer token types "
                          f"({left_out['occurrences']} occurrences, {100 * left_out['occurrences'] / occ:.2f}% of "
                          f"training tokens) map to <unk> ({', '.join(why)})")
        else:
            report.append(f"vocabulary: {len(vocab)} ids (every training token, and 4 specials)")
    encoded = {what: encode_lines(f, vocab, max_len, cfg.overlong, what) for what, f in files.items()}
    train = encoded.get("data.train")
    for what, e in encoded.items():
        f = files[what]
        parts = [f"{what}: {e.ids.shape[0]} sequences from {f.path}"]
        if f.total > len(f.lines):
            parts.append(f"a seeded sample of {len(f.lines)} of its {f.total} lines (data.subsample={cfg.subsample}, "
                         f"data.subsample_seed={cfg.subsample_seed})")
        if f.blank:
            parts.append(f"{f.blank} blank lines skipped")
        if e.truncated:
            parts.append(f"{e.truncated} longer than {max_len} tokens truncated")
        if e.dropped:
            parts.append(f"{e.dropped} longer than {max_len} tokens dropped")
            share = e.dropped / (e.dropped + e.ids.shape[0])
            if share >= 0.1:
                report.append(f"seqgan: warning: {what}: {100 * share:.0f}% of the lines are longer than data.max_len="
                              f"{max_len} and were dropped; keep them with data.overlong=truncate, or raise "
                              f"data.max_len")
        if e.unknown:
            parts.append(f"{100 * e.unknown / max(e.total_tokens, 1):.2f}% <unk>")
        report.append(", ".join(parts))
        if what != "data.train" and e.unknown and train is not None and not train.unknown:
            report.append(f"seqgan: warning: {what}: {100 * e.unknown / max(e.total_tokens, 1):.2f}% of its tokens are "
                          f"not in the training vocabulary and count in its NLL as <unk>, which no training line "
                          f"holds, so the generator learns a probability near 0 for it and those tokens dominate the "
                          f"NLL; set data.min_freq=2 (or data.max_vocab) so that rare training tokens teach it <unk>")
    return Dataset(vocab, train, encoded.get("data.valid"), encoded.get("data.test"), max_len,
                   report)
