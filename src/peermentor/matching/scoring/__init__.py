"""Vectorised pair scores and the allowed-pair rule, exactly as MATCHING.md defines them.

Attributes are encoded once when the scorer is built, so that no Python loop ever runs over
pairs:

* every criterion and constraint reads a column (or two) whose distinct values are usually few
  (departments, sites, years, language sets...). People are given a *code* per feature, and the
  feature's value for every pair of codes is computed once into a small table with the direct
  formula; scoring a block is then a table lookup;
* where a column has too many distinct values for a table, the feature is computed directly with
  numpy (integer codes, bit sets or sparse indicator matrices for sets, floats for numbers);
* for whole-population passes (`FastScores`), each table becomes a pair of per-person vectors
  (one-hot code on one side, the table's column on the other) and `complement` its offer/want
  indicator vectors, so that the weighted score of a block is ONE float32 matrix product. The
  product's rounding error has a rigorous bound (`FastScores.error`), which the certified upper
  bound accounts for.

The exact path (`Scorer.block`, `Scorer.pair_scores`) works in float64 and is what every reported
score comes from.

Modules: `features` (per-criterion and per-constraint computations and lookup tables),
`scorer` (`Scorer`, the exact float64 path) and `fast` (`FastScores`, float32 keys).
"""

from .fast import FastScores
from .features import TABLE_LIMIT
from .scorer import SCORE_TOLERANCE, Scorer

__all__ = ["SCORE_TOLERANCE", "TABLE_LIMIT", "FastScores", "Scorer"]
