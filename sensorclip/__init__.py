"""sensorclip: contrastive alignment of smart-home sensor streams with language."""

__version__ = "0.1.0"
