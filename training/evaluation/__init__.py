"""How good a topic model is and which of several to keep: topic metrics (NPMI coherence,
uniqueness, purity), candidate selection, and the Compare candidates job (`python -m training.compare`)."""
