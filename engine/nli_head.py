"""NliHead: where an NLI model's logits hold entailment and contradiction, as one value.

Every scorer reads the logits through it, so the two class ids travel together (from the
manifest) instead of as two loose integers through each function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NliHead:
    """The class ids of an NLI model's entailment and contradiction outputs."""

    entailment_id: int
    contradiction_id: int

    def entailment(self, logits: np.ndarray) -> np.ndarray:
        """The entailment logit per pair (any leading shape), in float64."""
        return logits[..., self.entailment_id].astype(np.float64)

    def log_odds(self, logits: np.ndarray) -> np.ndarray:
        """Entailment minus contradiction logit per pair (any leading shape), in float64."""
        return (logits[..., self.entailment_id] - logits[..., self.contradiction_id]).astype(np.float64)

    def contradiction_entailment(self, logits: np.ndarray) -> np.ndarray:
        """The [contradiction, entailment] logits per pair: the pipeline's multi-label pair."""
        return logits[..., [self.contradiction_id, self.entailment_id]].astype(np.float64)
