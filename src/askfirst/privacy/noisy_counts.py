"""Noisy counts over a fixed key domain that a member can be taken out of, exactly.

A release's counts are Σ of its members' bounded contributions plus one draw of Gaussian noise
per key. Keeping each member's contribution (the key indices and weights bounding kept for
them) lets a withdrawal subtract it exactly and add a fresh draw of noise:

    after = before − Σ_{m withdrawn} c_m + Z′  =  Σ_{others} c + Z + Z′

which is a function of the other members' data and noise only: the same numbers a release
would hold that the withdrawn members never joined, given the same noise (tested). Z′ is what
keeps the difference `before − after` from exposing c_m: it is calibrated to one member's
sensitivity and charged to the members who withdraw alone. For everyone else `after` is
computed from `before` and other members' data, so it costs them nothing (post-processing).
Values stay integers: the arithmetic is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from askfirst.privacy.mechanisms import gaussian_noise

Ints = np.ndarray[Any, np.dtype[np.int64]]
# (how many draws, scale) -> integer noise; OpenDP's exact discrete Gaussian by default.
Noise = Callable[[int, float], Ints]


@dataclass(frozen=True)
class NoisyCounts:
    """Noisy counts of every key of a domain, with each counted member's contribution."""

    values: Ints  # one per key of the domain: bounded count + noise
    members: Ints  # counted members, ascending
    offsets: Ints  # member i's contribution is indices/weights[offsets[i]:offsets[i + 1]]
    indices: Ints
    weights: Ints

    @classmethod
    def release(
        cls,
        size: int,
        member_ids: Ints,
        key_indices: Ints,
        weights: Ints,
        *,
        scale: float,
        noise: Noise = gaussian_noise,
    ) -> NoisyCounts:
        """Counts of `size` keys from (member, key index, weight) rows, plus noise on every key."""
        order = np.lexsort((key_indices, member_ids))
        member_ids, key_indices, weights = member_ids[order], key_indices[order], weights[order]
        members, starts = np.unique(member_ids, return_index=True)
        offsets = np.append(starts, len(member_ids)).astype(np.int64)
        counts = np.bincount(key_indices, weights=weights, minlength=size).astype(np.int64)
        if len(counts) != size:
            raise ValueError(f"a key index is outside the domain of {size} keys")
        values = counts + _drawn(noise, size, scale)
        return cls(values, members.astype(np.int64), offsets, key_indices, weights)

    def contains(self, member_id: int) -> bool:
        position = int(np.searchsorted(self.members, member_id))
        return position < len(self.members) and int(self.members[position]) == member_id

    def without(
        self, member_ids: Collection[int], *, scale: float, noise: Noise = gaussian_noise
    ) -> NoisyCounts:
        """These counts with the members' contributions taken out and fresh noise added."""
        leaving = np.isin(self.members, np.fromiter(member_ids, dtype=np.int64))
        lengths = np.diff(self.offsets)
        rows = np.repeat(leaving, lengths)
        values = self.values.copy()
        np.subtract.at(values, self.indices[rows], self.weights[rows])
        values += _drawn(noise, len(values), scale)
        kept_lengths = lengths[~leaving]
        return NoisyCounts(
            values=values,
            members=self.members[~leaving],
            offsets=np.concatenate(([0], np.cumsum(kept_lengths))).astype(np.int64),
            indices=self.indices[~rows],
            weights=self.weights[~rows],
        )

    def arrays(self) -> dict[str, Ints]:
        """The arrays, by name, to store (see `from_arrays`)."""
        return {
            "values": self.values,
            "members": self.members,
            "offsets": self.offsets,
            "indices": self.indices,
            "weights": self.weights,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, Ints]) -> NoisyCounts:
        return cls(**{name: np.asarray(arrays[name], dtype=np.int64) for name in _NAMES})


_NAMES = ("values", "members", "offsets", "indices", "weights")


def _drawn(noise: Noise, size: int, scale: float) -> Ints:
    drawn = np.asarray(noise(size, scale), dtype=np.int64)
    if drawn.shape != (size,):
        raise ValueError(f"noise gave {drawn.shape} draws, not {size}")
    return drawn
