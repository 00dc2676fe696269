"""The data stages in memory: events -> labelled windows -> captions.

``label_windows`` and ``caption`` are the two stages the cached pipeline
(``sensorclip.pipeline``) runs one at a time; ``windowed_data`` runs both on a parsed log, for
callers that want arrays and no cache (benchmarks, tests, notebooks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sensorclip.config import CaptionConfig, SplitConfig, WindowConfig
from sensorclip.data.captions import Captions, build_phrasebook, caption_windows, home_labels
from sensorclip.data.casas import EventLog
from sensorclip.data.homes import Home
from sensorclip.data.windows import Windows, coarse_vocabulary, make_windows


@dataclass
class LabelledWindows:
    windows: Windows
    days: np.ndarray               # datetime64[D]: the calendar day of each day index
    fine_names: list[str]          # fine label per code (0 is no_activity)
    coarse_names: list[str]        # coarse label per code
    coarse_of_fine: np.ndarray     # int32 fine code -> coarse code


@dataclass
class WindowedData:
    labelled: LabelledWindows
    captions: Captions


def label_windows(times: np.ndarray, activity: np.ndarray, activity_names: Sequence[str],
                  home: Home, windows: WindowConfig, split: SplitConfig) -> LabelledWindows:
    """Windows over the sorted event stream (``times``: datetime64[us], or int64 microseconds),
    their labels (fine and the home's coarse map) and the whole-day split. A home with a
    common-vocabulary map must map every label of the log."""
    if home.common:
        for name in activity_names:
            home.common_label(name)          # a label left out is an error naming it
    coarse_names, coarse_of_fine = coarse_vocabulary(activity_names, home.coarse_label)
    result, days = make_windows(np.asarray(times).astype("datetime64[us]"), activity,
                                coarse_of_fine, windows, split)
    return LabelledWindows(result, days.astype("datetime64[D]"), list(activity_names),
                           coarse_names, coarse_of_fine)


def caption(times: np.ndarray, sensor: np.ndarray, state: np.ndarray,
            sensor_names: Sequence[str], state_names: Sequence[str],
            activity_names: Sequence[str], home: Home, windows: Windows,
            config: CaptionConfig) -> Captions:
    """Paraphrases of every window, phrased with the home's leak-free vocabulary (``times`` as
    in ``label_windows``)."""
    book = build_phrasebook(home, sensor_names, home_labels(home, activity_names))
    time_us = np.asarray(times).astype("datetime64[us]").astype(np.int64)
    return caption_windows(time_us, sensor, state, state_names, windows.start, windows.length,
                           book, config)


def windowed_data(events: EventLog, home: Home, windows: WindowConfig | None = None,
                  split: SplitConfig | None = None,
                  captions: CaptionConfig | None = None) -> WindowedData:
    """Both stages on a parsed log whose sensors follow the layout (``casas.attach_layout``);
    configs left out take their defaults."""
    labelled = label_windows(events.time, events.activity, events.activity_names, home,
                             windows or WindowConfig(), split or SplitConfig())
    texts = caption(events.time, events.sensor, events.state, events.sensor_names,
                    events.state_names, events.activity_names, home, labelled.windows,
                    captions or CaptionConfig())
    return WindowedData(labelled, texts)
