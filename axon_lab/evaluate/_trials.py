"""How many trials a search ran, for the deflated Sharpe ratio's selection correction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from axon_lab.errors import EvaluationError

if TYPE_CHECKING:
    import optuna

__all__ = ["n_trials_from_study"]


def n_trials_from_study(study: optuna.Study) -> int:
    """Number of COMPLETE trials of an Optuna study: the N of the deflated Sharpe ratio.

    Pruned and failed trials are not counted: they produced no strategy to pick from. (A
    search that looked at them before pruning chose among more; pass a larger ``n_trials`` to
    :func:`sharpe_test` then.)

    Args:
        study: An ``optuna.Study`` (e.g. from :func:`axon_lab.hpo.create_study`).

    Returns:
        The count of trials in state COMPLETE (>= 1).

    Raises:
        EvaluationError: If the study has no complete trial, or is not an Optuna study.

    Examples:
        >>> import optuna
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5)
        >>> n_trials_from_study(study)
        5
    """
    import optuna

    if not isinstance(study, optuna.Study):
        raise EvaluationError(
            f"study must be an optuna.Study; got {type(study).__name__}. Pass the study the "
            "search ran, or the trial count itself as n_trials=."
        )
    n = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
    if n < 1:
        raise EvaluationError(
            f"study {study.study_name!r} has no COMPLETE trial; run the search first "
            "(study.optimize(...)) or pass n_trials= yourself."
        )
    return n
