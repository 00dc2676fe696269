"""sensorclip: contrastive alignment of smart-home sensor streams with language."""

from sensorclip.hardware import register_resolvers

__version__ = "0.1.0"

register_resolvers()        # every entry point and notebook composes configs that use them
