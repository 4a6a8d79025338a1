"""Your own objective as the reward (`reward.objective`): naming, loading and checking a
plug-in scoring function. No torch here (the config reads the name's syntax); the reward
that mixes it with the discriminator is `seqgan.rewards.objective`.

A name is one of

    my_module:score            a function of an importable module (on PYTHONPATH, or installed)
    my_module                  the same, the function named `score`
    path/to/file.py:score      a function of a Python file (relative to the working directory)
    path/to/file.py            the same, the function named `score`

The function receives one list of the completed sequences of a reward call, each distinct
sequence once: strings on your data (task=data; the text `seqgan generate` prints, "" for a
sequence that ends at once), lists of token ids in the oracle task. It returns one score per
sequence, in order: a list or tuple of numbers, a 1-D numpy array or a 1-D torch tensor.
Every score must be a finite number in `reward.objective_range`; anything else, or an
exception, stops the run with one line naming the function and the offending sequence
(`ObjectiveError`, exit 2 through the CLI; the run's newest checkpoint stays as it was).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import numbers
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from seqgan.section import ConfigError

#: the function's name when the config names only the module or file
DEFAULT_FUNCTION = "score"
#: when a call raises, at most this many sequences are retried one by one to find the one that raises
PROBE_LIMIT = 256


class ObjectiveError(ConfigError):
    """The objective failed or returned something unusable; the message names it and the sequence."""


def parse_objective(spec: str) -> tuple[Optional[Path], str, str]:
    """'module:function' or 'file.py[:function]' -> (file path or None, module or file as written,
    function). Raises ConfigError for a name that is neither."""
    target, function = spec, DEFAULT_FUNCTION
    if ":" in spec:
        head, tail = spec.rsplit(":", 1)
        if tail.isidentifier():
            target, function = head, tail
    if target.endswith(".py"):
        return Path(target), target, function
    if target and all(part.isidentifier() for part in target.split(".")):
        return None, target, function
    raise ConfigError(f"reward.objective={spec!r}: expected 'module:function' (an importable module) or "
                      f"'path/to/file.py:function' (':function' may be left out for a function named "
                      f"'{DEFAULT_FUNCTION}')")


def objective_name(spec: str) -> str:
    """'module:function' or 'file.py:function', the function's name always written out."""
    _, target, function = parse_objective(spec)
    return f"{target}:{function}"


def absolute_objective(spec: str) -> str:
    """`spec` with a file's path made absolute (modules are left as they are)."""
    path, _, function = parse_objective(spec)
    return spec if path is None else f"{path.resolve()}:{function}"


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {_clip(text[0], 120)}" if text else type(e).__name__


def _clip(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def show(sequence: Any) -> str:
    """A sequence as an error line shows it: repr, clipped."""
    return _clip(repr(sequence))


def load_objective(spec: str, low: float = 0.0, high: float = 1.0) -> "Objective":
    """Import the function `spec` names (see the module docstring). Raises ConfigError with one
    line for a missing module, file or function, one that is not callable, or an import that fails."""
    path, target, function = parse_objective(spec)
    where = f"reward.objective={spec}"
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"{where}: no such file {path}; give a path to a .py file or an importable "
                              "module ('module:function')")
        name = f"seqgan_objective_{path.stem}_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]}"
        file_spec = importlib.util.spec_from_file_location(name, path)
        if file_spec is None or file_spec.loader is None:
            raise ConfigError(f"{where}: {path} cannot be loaded as Python")
        module = importlib.util.module_from_spec(file_spec)
        sys.modules[name] = module  # as an import would: pickling and dataclasses look the module up there
        try:
            file_spec.loader.exec_module(module)
        except Exception as e:
            sys.modules.pop(name, None)
            raise ConfigError(f"{where}: loading {path} raised {_first_line(e)}") from None
    else:
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as e:
            if e.name is not None and (target == e.name or target.startswith(e.name + ".")):
                raise ConfigError(f"{where}: no module named {e.name!r}; put it on PYTHONPATH or give a path "
                                  "to a .py file") from None
            raise ConfigError(f"{where}: importing {target} raised {_first_line(e)}") from None
        except Exception as e:
            raise ConfigError(f"{where}: importing {target} raised {_first_line(e)}") from None
    fn = getattr(module, function, None)
    if fn is None:
        raise ConfigError(f"{where}: {target} has no {function!r}" + (
            f"; name the function ('{target}:my_function') or call it '{DEFAULT_FUNCTION}'"
            if function == DEFAULT_FUNCTION else ""))
    if not callable(fn):
        raise ConfigError(f"{where}: {function!r} in {target} is a {type(fn).__name__}, not a function")
    return Objective(fn, f"{target}:{function}", low, high)


@dataclass(frozen=True)
class Objective:
    """A loaded objective: `fn` maps a list of sequences to one score each; `name` is
    'module:function' (or 'file.py:function'); every score must lie in [low, high]."""

    fn: Callable[[list[Any]], Any]
    name: str
    low: float = 0.0
    high: float = 1.0

    def __call__(self, sequences: list[Any]) -> Any:
        """The checked scores of `sequences`: a float64 numpy array (n,). Raises ObjectiveError."""
        try:
            out = self.fn(list(sequences))  # a list of its own: the function may change it
        except Exception as e:
            raise self._raised(e, sequences) from None
        return self.check(out, sequences)

    def _error(self, what: str) -> ObjectiveError:
        return ObjectiveError(f"reward.objective {self.name} {what}")

    def _raised(self, e: Exception, sequences: list[Any]) -> ObjectiveError:
        """The error of a call that raised: the first sequence that raises alone (of the first
        PROBE_LIMIT), else the batch's first."""
        for s in sequences[:PROBE_LIMIT]:
            try:
                self.fn([s])
            except Exception as alone:
                return self._error(f"raised {_first_line(alone)} on {show(s)}")
        return self._error(f"raised {_first_line(e)} on a batch of {len(sequences)} sequences (the first: "
                           f"{show(sequences[0]) if sequences else 'none'}; none raises alone)")

    def check(self, out: Any, sequences: list[Any]) -> Any:
        """`out` as a float64 numpy array (n,), or ObjectiveError naming what is wrong with it."""
        import numpy as np
        n = len(sequences)
        first = show(sequences[0]) if n else "none"
        if hasattr(out, "detach") and hasattr(out, "cpu"):  # a torch tensor
            out = out.detach().cpu().numpy()
        try:
            arr = np.asarray(out)
        except Exception:  # ragged nesting and the like
            arr = None
        if arr is None or arr.ndim != 1:
            shape = f" of shape {arr.shape}" if arr is not None and arr.ndim > 1 else ""
            raise self._error(f"returned a {type(out).__name__}{shape}, not one score per sequence ({n} sequences, "
                              f"the first: {first}); return a list, 1-D array or tensor of {n} numbers")
        if arr.shape[0] != n:
            raise self._error(f"returned {arr.shape[0]} scores for {n} sequences (the first: {first}); return one "
                              "score per sequence, in order")
        if arr.dtype.kind not in "biuf":
            for v, s in zip(list(out), sequences):
                if not isinstance(v, numbers.Real):
                    raise self._error(f"returned {show(v)} ({type(v).__name__}) for {show(s)}: not a number")
            raise self._error(f"returned values of type {arr.dtype} (the first sequence: {first}): not numbers")
        values = arr.astype(np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(bad.argmax())
            raise self._error(f"returned {values[i]} for {show(sequences[i])}: not a finite number")
        outside = (values < self.low) | (values > self.high)
        if outside.any():
            i = int(outside.argmax())
            raise self._error(f"returned {values[i]:g} for {show(sequences[i])}, outside reward.objective_range "
                              f"[{self.low:g}, {self.high:g}]; fix the function or declare its range")
        return values
