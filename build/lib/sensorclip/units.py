"""Time units. Event times are int64 microseconds since the epoch everywhere in sensorclip."""

US_PER_S = 1_000_000
US_PER_MIN = 60 * US_PER_S
US_PER_HOUR = 60 * US_PER_MIN
US_PER_DAY = 24 * US_PER_HOUR
EPOCH_WEEKDAY = 3            # 1970-01-01 was a Thursday (Monday = 0)
