"""Privacy criteria the generalisation search serves, each answering "which classes fail?".

In the manner of ARX's `PrivacyCriterion`: a criterion looks at the equivalence classes of one
node of the lattice and names the classes that fail it; their rows are the ones suppressed.
It also says whether it is monotone: whether a node that meets it (with at most a given number
of rows suppressed) is met by every coarser node. The search prunes only with monotone ones.

Both criteria here are monotone, with suppression too. Generalising merges classes, never
splits them (the search refuses levels that would split, `anonymize.lattice`). A class of the
coarser node that fails k holds fewer than k rows, so every class merged into it held fewer
than k and failed already; a class that fails distinct l holds fewer than l distinct values,
so every class merged into it did too. The rows suppressed at a coarser node are therefore a
subset of those suppressed below it, and a node within the suppression budget has every node
above it within the budget as well (ARX: k-anonymity and distinct l-diversity are monotone
with suppression; entropy and recursive l-diversity are not, and are not searched here).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from anonymize.policy import Policy

Mask = npt.NDArray[np.bool_]
Counts = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ClassStats:
    """The equivalence classes of one node: their sizes, and per sensitive column the number
    of distinct values (a NULL counted as one value) in each class."""

    sizes: Counts  # (classes,)
    distinct: Counts  # (classes, sensitive columns); no columns when l is not a target


class Criterion(ABC):
    """One privacy model: which classes fail it, and whether it is monotone."""

    monotone: ClassVar[bool]

    @abstractmethod
    def failing(self, stats: ClassStats) -> Mask:
        """True for each class that fails the criterion."""

    @property
    def needs_sensitive(self) -> bool:
        """Whether the classes must carry their sensitive values."""
        return False


@dataclass(frozen=True)
class KAnonymity(Criterion):
    """Every class holds at least k rows."""

    monotone: ClassVar[bool] = True
    k: int

    def failing(self, stats: ClassStats) -> Mask:
        return stats.sizes < self.k


@dataclass(frozen=True)
class DistinctLDiversity(Criterion):
    """Every class holds at least l distinct values of each sensitive column."""

    monotone: ClassVar[bool] = True
    l: int  # noqa: E741 - the name the literature uses

    def failing(self, stats: ClassStats) -> Mask:
        if stats.distinct.shape[1] == 0:
            return np.zeros(len(stats.sizes), dtype=np.bool_)
        least: Counts = stats.distinct.min(axis=1)
        return least < self.l

    @property
    def needs_sensitive(self) -> bool:
        return True


def criteria_of(policy: Policy) -> tuple[Criterion, ...]:
    """The criteria a policy's privacy targets name (t is checked on the written extract)."""
    found: list[Criterion] = [KAnonymity(policy.privacy.k)]
    if policy.privacy.l and policy.sensitive:
        found.append(DistinctLDiversity(policy.privacy.l))
    return tuple(found)
