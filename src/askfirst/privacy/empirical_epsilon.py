"""What an attack on one training run proves: Secret Sharer exposure and a lower bound on ε.

The lower bound is the one-run audit of Steinke, Nasr and Jagielski (2023, arXiv 2305.08846):
m canaries are each included with probability ½; an attacker guesses "in" or "out" for r of
them. If the training run is (ε, δ)-DP, the number of correct guesses W satisfies
P[W ≥ v] ≤ P[Binomial(r, e^ε / (1 + e^ε)) ≥ v] + 2mδ·a(v), so a large W rejects small ε.
The largest ε rejected at the chosen confidence is the empirical lower bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
# Guess counts tried, as fractions of m; the confidence is split over them (Bonferroni), so
# picking the best one after looking is still an honest bound.
GUESS_FRACTIONS = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def p_value(m: int, guesses: int, correct: int, epsilon: float, delta: float = 0.0) -> float:
    """The chance of at least `correct` right guesses out of `guesses` under (ε, δ)-DP."""
    if not 0 <= correct <= guesses <= m:
        raise ValueError(f"need 0 ≤ correct ≤ guesses ≤ m, got {correct}, {guesses}, {m}")
    accuracy = 1.0 / (1.0 + math.exp(-epsilon))  # randomized response's accuracy at ε
    beta = float(stats.binom.sf(correct - 1, guesses, accuracy))
    if delta == 0.0 or correct == 0:
        return min(1.0, beta)
    below = stats.binom.pmf(np.arange(correct - 1, -1, -1), guesses, accuracy)
    alpha = float(np.max(np.cumsum(below) / np.arange(1, correct + 1)))
    return min(1.0, beta + 2.0 * m * delta * alpha)


def epsilon_lower_bound(
    m: int, guesses: int, correct: int, delta: float = 0.0, significance: float = 0.05
) -> float:
    """The largest ε that `correct` right guesses out of `guesses` reject at `significance`."""
    if p_value(m, guesses, correct, 0.0, delta) >= significance:
        return 0.0
    low, high = 0.0, 1.0
    while p_value(m, guesses, correct, high, delta) < significance:
        low, high = high, high * 2.0
    for _ in range(40):
        middle = (low + high) / 2.0
        if p_value(m, guesses, correct, middle, delta) < significance:
            low = middle
        else:
            high = middle
    return low


def largest_checkable_epsilon(m: int, delta: float = 0.0) -> float:
    """The bound a perfect attack on m canaries would reach: no audit this size proves more."""
    return epsilon_lower_bound(m, m, m, delta, (1.0 - CONFIDENCE) / len(GUESS_FRACTIONS))


@dataclass(frozen=True)
class MembershipGuess:
    """The attacker's best guessing rule and the bound it proves."""

    guesses: int
    correct: int
    epsilon_lower_bound: float


def guess_membership(
    scores: Sequence[float],
    included: Sequence[bool],
    tie_breaks: Sequence[float],
    delta: float = 0.0,
) -> MembershipGuess:
    """Guess "in" for the highest scores and "out" for the lowest; keep the strongest bound.

    For each guess count r in GUESS_FRACTIONS·m, the r/2 highest-scored canaries are guessed
    in and the r/2 lowest out (ties broken by `tie_breaks`, random numbers drawn by the caller).
    """
    m = len(scores)
    if not m == len(included) == len(tie_breaks):
        raise ValueError("scores, included and tie_breaks must have one entry per canary")
    order = np.lexsort((np.asarray(tie_breaks), np.asarray(scores)))  # ascending score
    truth = np.asarray(included, dtype=bool)[order]
    significance = (1.0 - CONFIDENCE) / len(GUESS_FRACTIONS)
    best = MembershipGuess(0, 0, 0.0)
    for fraction in GUESS_FRACTIONS:
        half = max(1, int(m * fraction) // 2)
        guesses = 2 * half if 2 * half <= m else m
        outs, ins = truth[: guesses // 2], truth[m - (guesses - guesses // 2) :]
        correct = int(np.count_nonzero(~outs) + np.count_nonzero(ins))
        bound = epsilon_lower_bound(m, guesses, correct, delta, significance)
        if bound >= best.epsilon_lower_bound:  # on a tie, report the rule with more guesses
            best = MembershipGuess(guesses, correct, bound)
    return best


def exposure(secret_score: float, candidate_scores: Sequence[float]) -> float:
    """Secret Sharer exposure in bits: log2 |R| - log2 rank of the secret among R.

    R is the secret and its candidates. Ties are broken at random, so the exposure is the
    mean over the ranks the secret could take: a secret the release knows nothing about
    averages about 1.44 bits (log2 e), and one it ranks first alone gets log2 |R|.
    """
    candidates = np.asarray(candidate_scores, dtype=float)
    first = 1 + int(np.count_nonzero(candidates > secret_score))
    last = first + int(np.count_nonzero(candidates == secret_score))
    # mean of log2(rank) over rank = first..last, via log-gamma to stay O(1)
    mean_log2_rank = (math.lgamma(last + 1) - math.lgamma(first)) / (last - first + 1) / math.log(2)
    return math.log2(len(candidates) + 1) - mean_log2_rank
