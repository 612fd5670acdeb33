"""Similar documents: the topic vectors as a k-NN index, and k-NN's answers as neighbours.jsonl."""
