"""The files SageMaker and our jobs exchange: RecordIO-protobuf, the NTM model artifact, the dataset layout.

Used by every job: preparation writes datasets, comparison and report read them and the model.
"""
