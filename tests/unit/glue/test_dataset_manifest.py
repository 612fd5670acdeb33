"""A dataset's manifest, checked against the run about to train on it."""

import pytest
from ntm_glue.dataset_manifest import DatasetError, training_inputs


def manifest(**changes):
    base = {"format_version": 1, "vocabulary_size": 500,
            "documents": {"train": 80, "validation": 10, "test": 10},
            "files": {"train": [f"train/part-{i:05d}.pbr" for i in range(8)]}}
    return base | changes


RUN = {"deploy": {"enabled": False}, "training": {"instance_count": 2, "candidates": [
    {"num_topics": 10, "job_name": "ntm-train-k10", "hyperparameters": {"num_topics": "10", "epochs": "100"}},
    {"num_topics": 30, "job_name": "ntm-train-k30", "hyperparameters": {"num_topics": "30", "epochs": "100"}},
]}}


def test_feature_dim_comes_from_the_vocabulary_for_every_candidate():
    inputs = training_inputs(manifest(), RUN)
    assert [c["hyperparameters"] for c in inputs["candidates"]] == [
        {"num_topics": "10", "epochs": "100", "feature_dim": "500"},
        {"num_topics": "30", "epochs": "100", "feature_dim": "500"},
    ]
    assert [c["job_name"] for c in inputs["candidates"]] == ["ntm-train-k10", "ntm-train-k30"]
    assert inputs["documents"] == 100


@pytest.mark.parametrize("changes, message", [
    ({"format_version": 2}, "format_version"),
    ({"vocabulary_size": "500"}, "vocabulary_size"),
    ({"vocabulary_size": 20}, "num_topics 30 is larger than the dataset's vocabulary of 20"),
    ({"documents": {"train": 5, "validation": 0, "test": 1}}, "validation split is empty"),
    ({"files": {"train": ["train/part-00000.pbr"]}}, "1 train file(s) for 2 training instances"),
])
def test_a_dataset_that_cannot_train_is_refused(changes, message):
    with pytest.raises(DatasetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        training_inputs(manifest(**changes), RUN)


@pytest.mark.parametrize("k, enabled, refused", [(99, True, False), (100, True, True), (100, False, False)])
def test_similar_k_must_stay_below_the_number_of_documents(k, enabled, refused):
    run = RUN | {"similar": {"enabled": enabled, "k": k}}
    if not refused:
        assert training_inputs(manifest(), run)["documents"] == 100
        return
    with pytest.raises(DatasetError, match=r"^similar\.k: 100 neighbours per document needs more than 100 documents, "
                                           r"the dataset has 100"):
        training_inputs(manifest(), run)


def test_a_deployed_run_needs_the_datasets_serving_artifact():
    deployed = {**RUN, "deploy": {"enabled": True}}
    with pytest.raises(DatasetError, match=r"no serving artifact \(serving/model.tar.gz\)"):
        training_inputs(manifest(), deployed)
    served = manifest(files={**manifest()["files"], "serving": "serving/model.tar.gz"})
    assert training_inputs(served, deployed)["vocabulary_size"] == 500
