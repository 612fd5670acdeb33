"""Rank models trained with different numbers of topics and pick one (see training.compare).

Rules (docs/choosing-num-topics.md):
- combined: each measure min-max normalised over the trained candidates to [0, 1], 1 = best
  (lowest validation loss, highest coherence, highest uniqueness); the score is their mean. A
  measure no candidate has is left out; a candidate missing one gets that measure's worst value.
- loss: lowest validation loss. coherence: highest mean NPMI.
- fixed: the candidate with the given number of topics.
Ties go to fewer topics. Only trained candidates are ranked or chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

TRAINED = "Trained"
RULES = ("combined", "loss", "coherence", "fixed")
# Scores equal to this many decimals tie: a mean of floats should not win on rounding noise.
TIE_DECIMALS = 9


class SelectionError(ValueError):
    """No candidate can be chosen under the rule; the message says why."""


@dataclass(frozen=True)
class Measure:
    name: str  # the Candidate attribute
    label: str
    higher_is_better: bool


MEASURES = (
    Measure("validation_loss", "validation loss", higher_is_better=False),
    Measure("coherence", "coherence (mean NPMI)", higher_is_better=True),
    Measure("uniqueness", "uniqueness (mean TU)", higher_is_better=True),
)


@dataclass(frozen=True)
class Candidate:
    num_topics: int
    job_name: str | None
    status: str
    validation_loss: float | None = None
    coherence: float | None = None  # mean NPMI of the topics' top words
    uniqueness: float | None = None  # mean TU
    error: str | None = None
    cause: str | None = None

    @property
    def trained(self) -> bool:
        return self.status == TRAINED


@dataclass(frozen=True)
class Comparison:
    rule: str
    candidates: tuple[Candidate, ...]  # every candidate, by number of topics
    normalised: dict[int, dict[str, float]]  # num_topics -> {measure name: value in [0, 1], 1 = best}, trained only
    combined: dict[int, float]  # num_topics -> combined score, trained only
    ranking: tuple[Candidate, ...]  # trained candidates, best first
    why: str

    @property
    def chosen(self) -> Candidate:
        return self.ranking[0]

    @property
    def combined_measures(self) -> list[str]:
        """The measures that entered the combined score."""
        return [m.name for m in MEASURES if any(m.name in scores for scores in self.normalised.values())]

    def rank(self, candidate: Candidate) -> int | None:
        return self.ranking.index(candidate) + 1 if candidate in self.ranking else None


def _tie_rounded(value: float) -> float:
    return round(value, TIE_DECIMALS)


def normalise(trained: list[Candidate]) -> dict[int, dict[str, float]]:
    """Each measure as a [0, 1] score per candidate, 1 = best; measures no candidate has are left out."""
    scores: dict[int, dict[str, float]] = {candidate.num_topics: {} for candidate in trained}
    for measure in MEASURES:
        sign = 1.0 if measure.higher_is_better else -1.0
        oriented = [None if getattr(c, measure.name) is None else sign * getattr(c, measure.name) for c in trained]
        present = [value for value in oriented if value is not None]
        if not present:
            continue
        worst, best = min(present), max(present)
        for candidate, value in zip(trained, oriented):
            filled = worst if value is None else value
            # Equal everywhere: no candidate is worse than another on this measure.
            scores[candidate.num_topics][measure.name] = 1.0 if best == worst else (filled - worst) / (best - worst)
    return scores


def _combined(normalised: dict[int, dict[str, float]]) -> dict[int, float]:
    return {k: sum(values.values()) / len(values) if values else 0.0 for k, values in normalised.items()}


def _measure_present(trained: list[Candidate], name: str, rule: str) -> None:
    if all(getattr(candidate, name) is None for candidate in trained):
        raise SelectionError(f"rule {rule!r} needs a {name.replace('_', ' ')}, and no trained candidate has one; "
                             "use --rule combined")


def _sort_key(rule: str, combined: dict[int, float], fixed: int | None) -> Callable[[Candidate], tuple]:
    def key(candidate: Candidate) -> tuple:
        k = candidate.num_topics
        if rule == "loss":
            loss = candidate.validation_loss
            return (loss is None, 0.0 if loss is None else _tie_rounded(loss), k)
        if rule == "coherence":
            coherence = candidate.coherence
            return (coherence is None, 0.0 if coherence is None else -_tie_rounded(coherence), k)
        return (rule == "fixed" and k != fixed, -_tie_rounded(combined[k]), k)

    return key


def _number(value: float | None) -> str:
    return "not reported" if value is None else f"{value:.3f}"


def _left_out(candidates: list[Candidate]) -> str:
    return ", ".join(f"{candidate.num_topics} topics ({candidate.status})" for candidate in candidates)


def _explain(rule: str, ranking: list[Candidate], combined: dict[int, float], untrained: list[Candidate]) -> str:
    chosen = ranking[0]
    key = _sort_key(rule, combined, chosen.num_topics)
    if rule == "fixed":
        by_combined = sorted(ranking, key=_sort_key("combined", combined, None))
        reason = (f"{chosen.num_topics} topics was chosen because the run fixes the number of topics (rule fixed); "
                  f"by the combined score it ranks {by_combined.index(chosen) + 1} of {len(ranking)}")
    elif len(ranking) == 1:
        reason = f"{chosen.num_topics} topics won as the only candidate that trained"
    else:
        runner_up = ranking[1]
        wins_with, shown = {
            "combined": ("the best combined score", lambda c: f"{combined[c.num_topics]:.2f}"),
            "loss": ("the lowest validation loss", lambda c: _number(c.validation_loss)),
            "coherence": ("the highest mean NPMI coherence", lambda c: _number(c.coherence)),
        }[rule]
        tied = key(chosen)[:-1] == key(runner_up)[:-1]
        reason = (f"{chosen.num_topics} topics won with {wins_with} ({shown(chosen)}), "
                  f"{'tied with' if tied else 'ahead of'} {runner_up.num_topics} topics ({shown(runner_up)})")
        if tied:
            reason += ", and fewer topics win ties"
        if rule == "combined":
            reason += (f"; its validation loss {_number(chosen.validation_loss)}, coherence "
                       f"{_number(chosen.coherence)}, uniqueness {_number(chosen.uniqueness)}")
    if untrained:
        reason += f"; left out: {_left_out(untrained)}"
    return reason + "."


def compare(candidates: list[Candidate], rule: str = "combined", fixed_num_topics: int | None = None) -> Comparison:
    """Rank the trained candidates under `rule` and explain the winner; raises SelectionError if none fits."""
    if rule not in RULES:
        raise SelectionError(f"unknown rule {rule!r}; use one of {', '.join(RULES)}")
    if not candidates:
        raise SelectionError("the candidate list is empty")
    seen = [candidate.num_topics for candidate in candidates]
    duplicates = sorted({k for k in seen if seen.count(k) > 1})
    if duplicates:
        raise SelectionError(f"num_topics listed more than once: {duplicates}")
    ordered = sorted(candidates, key=lambda candidate: candidate.num_topics)
    trained = [candidate for candidate in ordered if candidate.trained]
    untrained = [candidate for candidate in ordered if not candidate.trained]
    if not trained:
        raise SelectionError(f"no candidate trained: {_left_out(untrained)}")
    if rule == "fixed" and fixed_num_topics not in [candidate.num_topics for candidate in trained]:
        state = "did not train" if fixed_num_topics in [c.num_topics for c in untrained] else "is not a candidate"
        raise SelectionError(f"the fixed number of topics {fixed_num_topics} {state}; trained: "
                             f"{', '.join(str(c.num_topics) for c in trained)}")
    if rule == "loss":
        _measure_present(trained, "validation_loss", rule)
    if rule == "coherence":
        _measure_present(trained, "coherence", rule)
    normalised = normalise(trained)
    combined = _combined(normalised)
    ranking = sorted(trained, key=_sort_key(rule, combined, fixed_num_topics))
    why = _explain(rule, ranking, combined, untrained)
    return Comparison(rule, tuple(ordered), normalised, combined, tuple(ranking), why)
