"""An objective for `reward.objective`: the share of one character (or token) in each sequence.

On your data (strings):

    seqgan train --data lines.txt --tokenizer char \
        --set reward.objective=examples/rewards/char_share.py --set reward.mix=0.5

(the function is called `score`, so the file's path is enough). In the oracle task the
sequences are lists of token ids: name the other function,
`--set reward.objective=examples/rewards/char_share.py:token_share`.

Every score lies in [0, 1], the default `reward.objective_range`. docs/guides/rewards.md says
how to write your own; tests/test_objective.py trains with this very file.
"""

CHARACTER = "a"
"""The character whose share `score` rewards."""
TOKEN = 0
"""The token id whose share `token_share` rewards (oracle task)."""


def score(sequences: list[str]) -> list[float]:
    """For each text, the share of its characters that are CHARACTER (0 for an empty text)."""
    return [s.count(CHARACTER) / len(s) if s else 0.0 for s in sequences]


def token_share(sequences: list[list[int]]) -> list[float]:
    """For each list of token ids, the share that are TOKEN."""
    return [seq.count(TOKEN) / len(seq) if seq else 0.0 for seq in sequences]
