"""Raw documents to an NTM dataset: corpus readers, cleaning, tokenizer, stop words, vocabulary,
counting, and the Prepare corpus job (`python -m training.prepare`, `training.term_counts`)."""
