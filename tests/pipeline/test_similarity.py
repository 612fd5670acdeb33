"""The similar-documents stage run offline: k-NN's requests as the stand-in checks them, and the
neighbours file against the documents and an independent nearest-neighbour search."""

from __future__ import annotations

import json

import numpy as np
from sklearn.neighbors import NearestNeighbors

from tests.harness import JobFailed
from tests.pipeline.conftest import SAMPLE_CORPUS
from tests.pipeline.knn_standin import is_knn_image

KNN_STATES = {"Index topic vectors", "Train similarity index", "Create similarity model", "Find neighbours",
              "Collect neighbours"}


def knn_requests(result) -> list:
    return [r for r in result.requests_to("sagemaker", "CreateTrainingJob")
            if is_knn_image(r.params["AlgorithmSpecification"]["TrainingImage"])]


def lines(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def check_similar_documents(stack, result, k: int, num_topics: int) -> None:
    """A successful run's neighbours.jsonl: one line per document in documents.jsonl order, each with
    its k nearest others as an independent exact search (scikit-learn) finds them on the topic vectors."""
    assert KNN_STATES <= {state.name for state in result.states}
    (training,) = knn_requests(result)
    documents = lines(stack.object(result.output["outputs"]["dataset"] + "documents.jsonl"))
    assert training.params["HyperParameters"] == {
        "feature_dim": str(num_topics), "sample_size": str(len(documents)), "k": str(k + 1),
        "predictor_type": "classifier", "index_metric": "COSINE", "index_type": "faiss.Flat"}
    outputs = result.output["outputs"]
    assert outputs["similar_documents"].endswith("/similar/neighbours.jsonl")
    neighbours = lines(stack.object(outputs["similar_documents"]))
    assert outputs["similar_documents"] in stack.object(outputs["report"]).decode()  # the report says where
    assert [line["id"] for line in neighbours] == [document["id"] for document in documents]
    vectors = np.array([line["topic_weights"] for key in stack.keys(outputs["transform"].split("/", 3)[3])
                        for line in lines(stack.object(f"s3://{stack.data_bucket}/{key}"))])
    # The k + 1 nearest by cosine distance, minus the document itself.
    search = NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute").fit(vectors)
    distances, indices = search.kneighbors(vectors)
    for row, line in enumerate(neighbours):
        expected = [(documents[i]["id"], d) for i, d in zip(indices[row], distances[row]) if i != row][:k]
        assert [n["id"] for n in line["neighbours"]] == [e[0] for e in expected]
        assert np.allclose([n["distance"] for n in line["neighbours"]], [e[1] for e in expected], atol=1e-5)


def test_a_failing_similarity_index_fails_the_run_with_its_reason_and_keeps_the_topics(stack):
    fit = stack.harness.hooks.training

    def fail_knn(run):
        if is_knn_image(run.request["AlgorithmSpecification"]["TrainingImage"]):
            raise JobFailed("ClientError: k-NN ran out of memory building the index")
        fit(run)

    stack.harness.hooks.training = fail_knn
    dataset = stack.put_prepared_dataset(SAMPLE_CORPUS)
    result = stack.run({"dataset": dataset, "num_topics": 4, "deploy_endpoint": False}, "similar-fails")
    assert result.status == "FAILED"
    assert result.error == "StageFailed" and "k-NN ran out of memory building the index" in result.cause
    assert result.states[-3].name == "Train similarity index"
    run_prefix = f"runs/{result.state('Keep run').output['run']['run_id']}/"
    assert any(key.endswith(".pbr.out") for key in stack.keys(run_prefix + "transform/"))
    assert stack.keys(run_prefix + "model/")
    (message,) = stack.notifications()
    assert 'in state "Train similarity index"' in message["Message"]


def test_k_not_smaller_than_the_documents_fails_before_any_job(stack):
    dataset = stack.put_prepared_dataset(SAMPLE_CORPUS)
    result = stack.run({"dataset": dataset, "similar": {"k": 240}}, "similar-k-too-large")
    assert result.status == "FAILED"
    assert result.error == "DatasetError"
    assert json.loads(result.cause)["errorMessage"].startswith("similar.k: 240 neighbours per document needs more than 240")
    assert not result.requests_to("sagemaker")
