"""The harness's k-NN stand-in: exact neighbours (checked against scikit-learn) and k-NN's rules."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from tests.harness import JobFailed
from tests.pipeline import knn_standin

VALID = {"feature_dim": "5", "k": "4", "predictor_type": "classifier", "sample_size": "60"}


@pytest.mark.parametrize("metric, sklearn_metric", [("COSINE", "cosine"), ("L2", "euclidean")])
def test_neighbours_and_distances_equal_scikit_learns_exact_search(metric, sklearn_metric):
    rng = np.random.default_rng(7)
    vectors = rng.dirichlet(np.ones(5), size=60)
    queries = np.vstack([vectors[:10], rng.dirichlet(np.ones(5), size=10)])
    order, distances = knn_standin.nearest(vectors, queries, 4, metric)
    expected_distances, expected_order = NearestNeighbors(n_neighbors=4, metric=sklearn_metric, algorithm="brute") \
        .fit(vectors).kneighbors(queries)
    assert np.array_equal(order, expected_order)
    assert np.allclose(distances, expected_distances, atol=1e-9)


def test_verbose_json_answers_carry_labels_and_distances_nearest_first():
    vectors = np.eye(3, dtype=np.float32)
    model = {"vectors": vectors, "labels": np.array([7.0, 8.0, 9.0], dtype=np.float32), "k": np.array(2),
             "metric": np.array("COSINE"), "predictor_type": np.array("classifier")}
    text = knn_standin.answer(model, np.array([[1.0, 0.2, 0.0]], dtype=np.float32), "application/json; verbose=true")
    (prediction,) = json.loads(text)["predictions"]
    assert prediction["labels"] == [7.0, 8.0] and prediction["distances"] == sorted(prediction["distances"])
    plain = json.loads(knn_standin.answer(model, vectors[:1], "application/json"))["predictions"][0]
    assert set(plain) == {"predicted_label"}


@pytest.mark.parametrize("change, message", [
    ({"k": None}, "missing required hyperparameter"),
    ({"k": "0"}, "k must be a positive integer"),
    ({"sample_size": "ten"}, "sample_size must be a positive integer"),
    ({"predictor_type": "ranker"}, "predictor_type must be one of"),
    ({"index_metric": "cosine"}, "index_metric must be one of"),
    ({"index_type": "faiss.IVFPQ", "index_metric": "COSINE"}, "not supported with faiss.IVFPQ"),
    ({"num_topics": "4"}, "unknown hyperparameter"),
])
def test_hyperparameters_outside_k_nns_rules_are_refused(change, message):
    hyperparameters = {key: value for key, value in {**VALID, **change}.items() if value is not None}
    with pytest.raises(JobFailed, match=message):
        knn_standin.check_hyperparameters(hyperparameters)


def test_the_tutorials_hyperparameters_are_accepted():
    settings = knn_standin.check_hyperparameters({**VALID, "index_metric": "COSINE", "index_type": "faiss.Flat"})
    assert settings["k"] == 4 and settings["index_metric"] == "COSINE"


@pytest.fixture
def s3():
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="data")
        yield client


def training_run(s3, hyperparameters, labels=True):
    import io

    from tests.harness import TrainingJobRun
    from training.formats import recordio

    buffer = io.BytesIO()
    vectors = np.random.default_rng(1).dirichlet(np.ones(5), size=60).astype(np.float32)
    recordio.write_dense(buffer, vectors, np.arange(60, dtype=np.float32) if labels else None)
    s3.put_object(Bucket="data", Key="train/part-00000.pbr", Body=buffer.getvalue())
    return TrainingJobRun({
        "TrainingJobName": "knn", "HyperParameters": hyperparameters,
        "AlgorithmSpecification": {"TrainingImage": "1.dkr.ecr.us-east-1.amazonaws.com/knn:1"},
        "InputDataConfig": [{"ChannelName": "train", "ContentType": "application/x-recordio-protobuf",
                             "DataSource": {"S3DataSource": {"S3Uri": "s3://data/train/"}}}],
        "OutputDataConfig": {"S3OutputPath": "s3://data/model/"}}, s3)


@pytest.mark.parametrize("change, labels, message", [
    ({"feature_dim": "4"}, True, "feature_dim 4 does not match the data's 5 features"),
    ({"sample_size": "61"}, True, "sample_size 61 is larger than the 60 training records"),
    ({"k": "61", "sample_size": "60"}, True, "k 61 is larger than sample_size 60"),
    ({}, False, "has no label"),
])
def test_training_refuses_data_that_does_not_fit_the_hyperparameters(s3, change, labels, message):
    with pytest.raises(JobFailed, match=message):
        knn_standin.train(training_run(s3, {**VALID, **change}, labels))


def test_training_writes_a_model_the_transform_answers_from(s3):
    knn_standin.train(training_run(s3, {**VALID, "index_metric": "COSINE"}))
    tarball = s3.get_object(Bucket="data", Key="model/knn/output/model.tar.gz")["Body"].read()
    model = knn_standin.load_model(tarball)
    assert model["vectors"].shape == (60, 5) and int(model["k"]) == 4
