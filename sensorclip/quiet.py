"""The narrowest silencing of third-party noise that is not ours to fix.

Each filter names one message of one library and says why it is safe to hide; nothing here
changes how warnings in general are shown. Entry points call ``quiet_third_party`` once.

- Lightning's "Tip: ... try installing litlogger": an advertisement printed on every fit when no
  LitLogger is configured; it says nothing about the run.
- transformers' bar while local weights load (``no_loading_bars``, around each load only).
- "``isinstance(treespec, LeafSpec)`` is deprecated": torch deprecates a class that Lightning's
  own ``utilities/_pytree.py`` still uses; nothing a user of sensorclip can change, and it
  disappears when Lightning updates.
"""

from __future__ import annotations

import contextlib
import logging
import warnings

ADVERTISEMENT_PREFIX = "💡 Tip:"
LIGHTNING_INFO_LOGGERS = ("lightning.pytorch.utilities.rank_zero",
                          "lightning.fabric.utilities.rank_zero")
LEAFSPEC_DEPRECATION = r"`isinstance\(treespec, LeafSpec\)` is deprecated"


class _DropAdvertisements(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(ADVERTISEMENT_PREFIX)


def quiet_third_party() -> None:
    for name in LIGHTNING_INFO_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropAdvertisements) for f in logger.filters):
            logger.addFilter(_DropAdvertisements())
    warnings.filterwarnings("ignore", message=LEAFSPEC_DEPRECATION, category=FutureWarning,
                            module="lightning.pytorch.utilities._pytree")


@contextlib.contextmanager
def no_loading_bars():
    """transformers draws a progress bar while it reads a checkpoint's tensors; the weights
    here are local and load in under a second, so the bar is only noise. Restored after."""
    from transformers.utils import logging as hf_logging
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
