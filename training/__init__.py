"""Code that runs inside SageMaker processing jobs, and the same commands locally.

Entrypoints (the contract with the state machine and the docs): `python -m training.prepare`,
`training.term_counts`, `training.compare`, `training.report`, `training.similar`, `training.recordio inspect`.
Sub-packages, each importing only those listed after it:

- reporting: the topic report (Report topics job).
- evaluation: topic metrics and the num_topics comparison (Compare candidates job).
- similarity: topic vectors to k-NN's training set, k-NN's answers to neighbours.jsonl (similarity stage jobs).
- preparation: raw documents to a dataset: readers, cleaning, tokenizer, vocabulary (Prepare corpus job).
- formats: what SageMaker reads and writes: RecordIO-protobuf, the NTM model artifact, the dataset layout.
- common: option types, the input-error type, s3:// staging, optional plotting.
"""
