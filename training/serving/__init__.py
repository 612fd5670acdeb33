"""The endpoint's preprocessing container: raw text in, the dataset's own bag-of-words vectors out
(sparse RecordIO-protobuf for NTM), through the preparation's cleaning, tokenizer and vocabulary.

Runs in the scikit-learn 1.2-1 serving image (Python 3.8 or 3.9, numpy 1.24): no newer syntax or APIs.
"""
