"""sensorclip: contrastive alignment of smart-home sensor streams with language.

The package tree follows the pipeline (docs/architecture.md): ``data`` (layouts, logs, windows,
captions, caches) -> ``frozen`` (floor-plan images, frozen vision and text encoders) ->
``pipeline`` (the cached stages) -> ``model`` (encoder, losses, Lightning glue) -> ``eval``
(metrics, references, report) -> ``runs`` and the entry points ``prepare``, ``train``,
``evaluate``, ``report``.
"""

from sensorclip.config import register_schemas
from sensorclip.hardware import register_resolvers

__version__ = "0.1.0"

# Every entry point, test and notebook composes configs that need these: the ``if_native_bf16``
# resolver and the group schemas the option files inherit.
register_resolvers()
register_schemas()
