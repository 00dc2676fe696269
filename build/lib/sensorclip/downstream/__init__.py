"""What researchers do with a trained encoder: search a log with text, annotate an unlabelled log,
fine-tune a classifier, export window embeddings. Each has a thin entry point
(``python -m sensorclip.search|annotate|finetune|embed``)."""
