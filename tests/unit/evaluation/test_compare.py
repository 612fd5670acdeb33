"""Choosing the number of topics (training.evaluation: compare, candidate_selection) on models whose right answer is known.

The corpus is built from 4 well separated word groups. Candidates: 2 topics that each mix two
groups (unique but incoherent), 4 clean topics (the truth), 8 topics that are the 4 clean ones
twice (coherent but duplicated).
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from training.evaluation.candidate_selection import (
    Candidate,
    SelectionError,
    compare,
    normalise,
)
from training.evaluation.compare import UNUSABLE, load_candidates, main, measure
from training.formats import recordio
from training.formats.ntm_artifact import write_model_tarball

GROUPS, WORDS_PER_GROUP = 4, 10
FILLERS = ["the", "and", "of", "to", "a"]
VOCABULARY = [f"g{group}w{word}" for group in range(GROUPS) for word in range(WORDS_PER_GROUP)] + FILLERS
DOCUMENTS_PER_GROUP = 15
LOSSES = {2: 7.5, 4: 7.2, 8: 7.1}  # more topics fit a little better, as they usually do
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def group_words(group: int) -> list[int]:
    return list(range(group * WORDS_PER_GROUP, (group + 1) * WORDS_PER_GROUP))


def make_corpus() -> sparse.csr_matrix:
    """Every document uses 6 words of one group and one filler word."""
    rng = np.random.default_rng(7)
    rows = np.zeros((GROUPS * DOCUMENTS_PER_GROUP, len(VOCABULARY)), dtype=np.float32)
    for row in range(len(rows)):
        group = row // DOCUMENTS_PER_GROUP
        rows[row, rng.choice(group_words(group), size=6, replace=False)] = rng.integers(1, 4, size=6)
        rows[row, GROUPS * WORDS_PER_GROUP + row % len(FILLERS)] = 1
    return sparse.csr_matrix(rows)


def make_decoder(topic_words: list[list[int]], seed: int = 0) -> np.ndarray:
    """Vocabulary x topics; topic t puts its words far above the rest, best first."""
    decoder = np.random.default_rng(seed).normal(0, 0.05, size=(len(VOCABULARY), len(topic_words)))
    for topic, words in enumerate(topic_words):
        decoder[words, topic] = 5.0 - 0.1 * np.arange(len(words))
    return decoder.astype(np.float32)


def known_decoders() -> dict[int, np.ndarray]:
    halves = [group_words(group)[:5] for group in range(GROUPS)]
    return {
        2: make_decoder([halves[0] + halves[1], halves[2] + halves[3]]),
        4: make_decoder([group_words(group) for group in range(GROUPS)]),
        8: make_decoder([group_words(topic // 2) for topic in range(2 * GROUPS)]),
    }


def job_name(num_topics: int) -> str:
    return f"ntm-train-k{num_topics}-run1"


def trained(num_topics: int, loss: float | None = None, coherence: float | None = None,
            uniqueness: float | None = None) -> Candidate:
    return Candidate(num_topics, job_name(num_topics), "Trained", loss, coherence, uniqueness)


def failed(num_topics: int, **measures: float) -> Candidate:
    return Candidate(num_topics, job_name(num_topics), "Failed", error="States.TaskFailed", cause="capacity",
                     **measures)


@pytest.fixture(scope="module")
def known_candidates(tmp_path_factory) -> list[Candidate]:
    models = write_models(tmp_path_factory.mktemp("known"), known_decoders())
    corpus = make_corpus().tocsc()
    return [measure(trained(k, loss), models, len(VOCABULARY), corpus, top_words=10) for k, loss in LOSSES.items()]


# ------------------------------------------------------------------ the known answer


def test_measures_see_mixed_topics_as_incoherent_and_duplicates_as_not_unique(known_candidates):
    by_k = {candidate.num_topics: candidate for candidate in known_candidates}
    assert by_k[4].coherence > 0.2 and by_k[4].uniqueness == pytest.approx(1.0)
    assert by_k[2].coherence < by_k[4].coherence - 0.5 and by_k[2].uniqueness == pytest.approx(1.0)
    assert by_k[8].coherence == pytest.approx(by_k[4].coherence) and by_k[8].uniqueness == pytest.approx(0.5)


@pytest.mark.parametrize("rule, fixed, expected", [
    ("combined", None, 4),
    ("coherence", None, 4),  # ties with 8 (same topics, twice): fewer topics win
    ("loss", None, 8),
    ("fixed", 2, 2),
])
def test_each_rule_picks_the_known_answer(known_candidates, rule, fixed, expected):
    comparison = compare(known_candidates, rule, fixed)
    assert comparison.chosen.num_topics == expected
    assert comparison.why.startswith(f"{expected} topics ")


def test_combined_scores_of_the_known_candidates(known_candidates):
    comparison = compare(known_candidates)
    # loss 7.5/7.2/7.1 -> 0/0.75/1; coherence low/high/high -> 0/1/1; uniqueness 1/1/0.5 -> 1/1/0
    assert comparison.combined == pytest.approx({2: 1 / 3, 4: 2.75 / 3, 8: 2 / 3})
    assert [candidate.num_topics for candidate in comparison.ranking] == [4, 8, 2]
    assert "ahead of 8 topics" in comparison.why


def test_coherence_tie_is_explained(known_candidates):
    why = compare(known_candidates, "coherence").why
    assert "tied with 8 topics" in why and why.endswith("fewer topics win ties.")


# ------------------------------------------------------------------ the rules on given numbers


def test_normalise_scales_each_measure_to_best_one_worst_zero():
    scores = normalise([trained(10, 7.0, 0.1, 0.9), trained(20, 8.0, 0.3, 0.9), trained(30, 9.0, 0.2, 0.9)])
    assert scores[10] == pytest.approx({"validation_loss": 1.0, "coherence": 0.0, "uniqueness": 1.0})
    assert scores[20] == pytest.approx({"validation_loss": 0.5, "coherence": 1.0, "uniqueness": 1.0})
    assert scores[30] == pytest.approx({"validation_loss": 0.0, "coherence": 0.5, "uniqueness": 1.0})


def test_a_missing_loss_counts_as_the_worst_loss():
    comparison = compare([trained(10, None, 0.3, 0.9), trained(20, 7.0, 0.2, 0.9), trained(30, 8.0, 0.1, 0.9)])
    assert comparison.normalised[10]["validation_loss"] == 0.0
    assert comparison.combined[10] == pytest.approx((0 + 1 + 1) / 3)


def test_a_measure_no_candidate_has_is_left_out_of_the_combined_score():
    comparison = compare([trained(10, None, 0.1, 0.6), trained(20, None, 0.3, 0.8)])
    assert comparison.combined_measures == ["coherence", "uniqueness"]
    assert comparison.combined == pytest.approx({10: 0.0, 20: 1.0})
    assert "validation loss not reported" in comparison.why


def test_loss_rule_ranks_candidates_without_a_loss_last():
    comparison = compare([trained(10, None, 0.9, 1.0), trained(20, 7.4, 0.1, 0.5), trained(30, 7.3, 0.1, 0.5)], "loss")
    assert [candidate.num_topics for candidate in comparison.ranking] == [30, 20, 10]


def test_loss_rule_without_any_loss_is_an_error():
    with pytest.raises(SelectionError, match="validation loss"):
        compare([trained(10, None, 0.1, 0.9), trained(20, None, 0.2, 0.9)], "loss")


def test_ties_go_to_fewer_topics():
    comparison = compare([trained(30, 7.0, 0.2, 0.9), trained(20, 7.0, 0.2, 0.9)])
    assert comparison.chosen.num_topics == 20
    assert "tied with 30 topics" in comparison.why


def test_scores_equal_but_for_float_rounding_tie():
    comparison = compare([trained(10, 7.0, 0.3, 0.9), trained(20, 7.0, 0.1 + 0.2, 0.9)], "coherence")
    assert comparison.chosen.num_topics == 10 and "tied with 20 topics" in comparison.why


def test_a_failed_candidate_is_listed_but_never_chosen():
    candidates = [failed(10, validation_loss=1.0), trained(20, 7.0, 0.2, 0.9), trained(30, 7.5, 0.1, 0.8)]
    comparison = compare(candidates, "loss")
    assert comparison.chosen.num_topics == 20
    assert [c.num_topics for c in comparison.candidates] == [10, 20, 30]
    assert comparison.rank(candidates[0]) is None and 10 not in comparison.combined
    assert comparison.why.endswith("left out: 10 topics (Failed).")


def test_the_only_trained_candidate_wins():
    comparison = compare([failed(10), trained(20, 7.0, 0.2, 0.9)])
    assert comparison.chosen.num_topics == 20 and "only candidate that trained" in comparison.why


def test_no_trained_candidate_is_an_error():
    with pytest.raises(SelectionError, match=r"no candidate trained: 10 topics \(Failed\), 20 topics \(Failed\)$"):
        compare([failed(20), failed(10)])


@pytest.mark.parametrize("fixed, message", [(40, "40 is not a candidate"), (10, "10 did not train")])
def test_fixed_rule_needs_a_trained_candidate_with_that_number(fixed, message):
    with pytest.raises(SelectionError, match=message):
        compare([failed(10), trained(20, 7.0, 0.2, 0.9)], "fixed", fixed)


def test_fixed_rule_says_where_the_fixed_number_ranks():
    comparison = compare([trained(10, 7.0, 0.3, 1.0), trained(20, 8.0, 0.1, 0.5)], "fixed", 20)
    assert comparison.chosen.num_topics == 20
    assert "fixes the number of topics" in comparison.why and "ranks 2 of 2" in comparison.why


def test_duplicate_numbers_of_topics_are_an_error():
    with pytest.raises(SelectionError, match="more than once"):
        compare([trained(10, 7.0), trained(10, 7.1)])


# ------------------------------------------------------------------ the command


def write_dataset(root: Path) -> Path:
    dataset = root / "dataset"
    (dataset / "auxiliary").mkdir(parents=True)
    (dataset / "auxiliary" / "vocab.txt").write_text("".join(word + "\n" for word in VOCABULARY), encoding="utf-8")
    (dataset / "transform").mkdir()
    corpus = make_corpus()
    for part, rows in enumerate((slice(0, 30), slice(30, None))):
        with (dataset / "transform" / f"part-0000{part}.pbr").open("wb") as handle:
            recordio.write_sparse(handle, corpus[rows])
    return dataset


def write_models(root: Path, decoders: dict[int, np.ndarray]) -> Path:
    models = root / "models"
    for num_topics, decoder in decoders.items():
        path = models / job_name(num_topics) / "output" / "model.tar.gz"
        path.parent.mkdir(parents=True)
        write_model_tarball(path, decoder)
    return models


def candidate_list() -> list[dict]:
    listed = [{"num_topics": k, "job_name": job_name(k), "status": "Trained", "validation_loss": loss}
              for k, loss in LOSSES.items()]
    listed += [{"num_topics": k, "job_name": job_name(k), "status": "Failed",
                "error": "SageMaker.ResourceLimitExceeded", "cause": "no capacity"} for k in (16,)]
    return listed


@pytest.fixture()
def run_folder(tmp_path: Path) -> Path:
    write_dataset(tmp_path)
    write_models(tmp_path, known_decoders())
    return tmp_path


def cli(root: Path, candidates: str, *extra: str) -> list[str]:
    return ["--models", str(root / "models"), "--candidates", candidates, "--dataset", str(root / "dataset"),
            "--output", str(root / "out"), "--top-words", "10", *extra]


def test_cli_compares_the_candidates_and_writes_the_choice(run_folder, capsys):
    candidates_file = run_folder / "candidates.json"
    candidates_file.write_text(json.dumps(candidate_list()), encoding="utf-8")

    assert main(cli(run_folder, str(candidates_file))) == 0

    comparison = json.loads((run_folder / "out" / "comparison.json").read_text())
    assert comparison["rule"] == "combined" and comparison["chosen"]["num_topics"] == 4
    assert (run_folder / "models" / comparison["chosen"]["model_artifacts"]).is_file()
    by_k = {entry["num_topics"]: entry for entry in comparison["candidates"]}
    assert [by_k[k]["rank"] for k in (2, 4, 8, 16)] == [3, 1, 2, None]
    assert by_k[16]["status"] == "Failed" and by_k[16]["cause"] == "no capacity" and by_k[16]["combined_score"] is None
    assert by_k[8]["uniqueness"] == pytest.approx(0.5) and by_k[4]["validation_loss"] == 7.2
    assert comparison["why"].startswith("4 topics won with the best combined score")
    chosen = json.loads((run_folder / "out" / "chosen.json").read_text())
    assert chosen["job_name"] == job_name(4) and chosen["why"] == comparison["why"]
    assert (run_folder / "out" / "comparison.png").read_bytes().startswith(PNG_MAGIC)
    assert comparison["plot"] == "comparison.png" and comparison["plot_skipped"] is None
    assert "chose 4 topics" in capsys.readouterr().out


def test_cli_takes_inline_candidates_and_a_rule(run_folder):
    assert main(cli(run_folder, json.dumps(candidate_list()), "--rule", "loss")) == 0
    chosen = json.loads((run_folder / "out" / "chosen.json").read_text())
    assert chosen["num_topics"] == 8 and chosen["model_artifacts"] == f"{job_name(8)}/output/model.tar.gz"


def test_cli_fixed_rule_with_a_failed_number_exits_2(run_folder, capsys):
    code = main(cli(run_folder, json.dumps(candidate_list()), "--rule", "fixed", "--fixed-num-topics", "16"))
    assert code == 2
    error = capsys.readouterr().err
    assert error.startswith("compare: error:") and "16 did not train" in error and "Traceback" not in error
    assert not (run_folder / "out").exists()


def test_cli_with_every_candidate_failed_exits_2(run_folder, capsys):
    listed = [{**entry, "status": "Failed"} for entry in candidate_list()]
    assert main(cli(run_folder, json.dumps(listed))) == 2
    assert capsys.readouterr().err.strip() == (
        "compare: error: no candidate trained: 2 topics (Failed), 4 topics (Failed), 8 topics (Failed), 16 topics (Failed)")
    assert not (run_folder / "out").exists()


def test_a_trained_candidate_whose_model_cannot_be_used_is_left_out(run_folder, capsys):
    (run_folder / "models" / job_name(4) / "output" / "model.tar.gz").unlink()
    write_model_tarball(run_folder / "models" / job_name(8) / "output" / "model.tar.gz", np.zeros((3, 8)))

    assert main(cli(run_folder, json.dumps(candidate_list()))) == 0

    comparison = json.loads((run_folder / "out" / "comparison.json").read_text())
    by_k = {entry["num_topics"]: entry for entry in comparison["candidates"]}
    assert by_k[4]["status"] == by_k[8]["status"] == UNUSABLE
    assert "cannot read" in by_k[4]["error"] and "decoder shape (3, 8)" in by_k[8]["error"]
    assert comparison["chosen"]["num_topics"] == 2
    assert comparison["why"].endswith("left out: 4 topics (Unusable), 8 topics (Unusable), 16 topics (Failed).")
    assert capsys.readouterr().err.count("compare: warning:") == 2


def test_models_in_the_wrong_place_leave_nothing_to_choose(run_folder, capsys):
    (run_folder / "models").rename(run_folder / "elsewhere")
    assert main(cli(run_folder, json.dumps(candidate_list()))) == 2
    last_line = capsys.readouterr().err.splitlines()[-1]
    assert last_line.startswith("compare: error: no candidate trained: 2 topics (Unusable)")


def test_without_matplotlib_the_plot_is_skipped_with_a_note(run_folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    assert main(cli(run_folder, json.dumps(candidate_list()))) == 0
    comparison = json.loads((run_folder / "out" / "comparison.json").read_text())
    assert comparison["plot"] is None and "matplotlib" in comparison["plot_skipped"]
    assert not (run_folder / "out" / "comparison.png").exists()


@pytest.mark.parametrize("candidates, message", [
    ('{"num_topics": 4}', "must be a JSON list"),
    ("[4]", "candidate 1 is not a JSON object"),
    ('[{"num_topics": 4, "job_name": "a/../b", "status": "Trained"}]', "not a SageMaker training job name"),
    ('[{"num_topics": 4, "job_name": "j", "status": "Trained", "validation_loss": "low"}]', "validation_loss must be"),
    ('[{"num_topics": true, "status": "Failed"}]', "num_topics must be a whole number"),
    ("[{", "not valid JSON"),
    ("missing.json", "candidates file not found"),
])
def test_cli_rejects_bad_candidate_lists_with_one_line(run_folder, capsys, candidates, message):
    assert main(cli(run_folder, candidates)) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_candidate_numbers_may_be_strings_and_a_nan_loss_is_missing():
    listed = '[{"num_topics": "20", "job_name": "j-1", "status": "Trained", "validation_loss": NaN}]'
    (candidate,) = load_candidates(listed)
    assert candidate.num_topics == 20 and candidate.validation_loss is None


@pytest.mark.parametrize("extra, message", [
    (["--rule", "fixed"], "--rule fixed needs --fixed-num-topics"),
    (["--fixed-num-topics", "4"], "--fixed-num-topics goes only with --rule fixed"),
    (["--top-words", "1"], "argument --top-words: '1' is not a whole number >= 2"),
])
def test_cli_rejects_inconsistent_options(run_folder, capsys, extra, message):
    with pytest.raises(SystemExit) as exit_info:
        main(cli(run_folder, "[]", *extra))
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_runs_as_a_module(run_folder):
    arguments = cli(run_folder, json.dumps(candidate_list()))
    completed = subprocess.run([sys.executable, "-m", "training.compare", *arguments],
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert json.loads((run_folder / "out" / "chosen.json").read_text())["num_topics"] == 4
