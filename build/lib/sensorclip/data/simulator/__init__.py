"""The smart-home simulator, stage by stage (``sensorclip.data.simulate.simulate`` runs them).

    model.py      activity model (YAML) -> ActivityModel: routine, motion, annotation, faults,
                  visitor, pet and the activities themselves
    schedule.py   days -> activity spans: day-to-day variability, skipped and extra
                  occurrences, time away, interruptions nested inside their parent
    movement.py   spans -> sensor triggers: bursts of motion, walks between rooms, doors, idle
                  pottering, a visitor moving at the same time, a pet
    sensors.py    triggers -> events: sensor faults (missed, spurious, stuck ON, door left
                  open), overlapping triggers of one sensor merged, temperature readings
    annotate.py   spans -> begin/end markers on events, with the annotator's fuzzy boundaries

Every stage draws from one ``numpy.random.Generator`` in a fixed order, so a log is a pure
function of (layout, activity model, days, start date, seed).
"""
