"""The errors a training run can meet; each names what was wrong and what to do."""

from __future__ import annotations


class TrainingError(RuntimeError):
    """A training run that could not produce a release; the store is unchanged."""


class NoMembersError(TrainingError):
    """No member's data is eligible: nobody consents, has budget left, or has data."""


class BudgetRaceError(TrainingError):
    """Another release charged this snapshot's members while it was being trained."""


class NoTrainerError(TrainingError):
    """A purpose (declared in purposes.toml) that askfirst has no recommender for."""


class MechanismOverBudgetError(TrainingError):
    """A fit whose mechanism spends more ε than the purpose declares (a bug: never charged)."""


class StoreBusyTrainingError(TrainingError):
    """Other writers (an import, another training) kept the store busy past the wait."""


class CoolingDownError(TrainingError):
    """An on-demand training within the cooldown of the purpose's previous release."""
