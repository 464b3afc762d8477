"""`bookings.json`: pydantic models in the seed's format, plus several targets, a site section,
flexible (preference-scored) targets and weekly repeats.

`load_bookings` reports every problem at once, each with its JSON path, and never writes anything.
"""

from snipe.config.load import (
    LoadedBookings,
    json_path,
    load_bookings,
    load_bookings_data,
    read_json,
    to_target,
)
from snipe.config.models import (
    AccountIn,
    BookingsFile,
    DateRangeIn,
    NotificationsIn,
    PriorityIn,
    SiteIn,
    SnipeConfigIn,
    TimeWindowIn,
)

__all__ = [
    "AccountIn", "BookingsFile", "DateRangeIn", "LoadedBookings", "NotificationsIn", "PriorityIn",
    "SiteIn", "SnipeConfigIn", "TimeWindowIn", "json_path", "load_bookings", "load_bookings_data",
    "read_json", "to_target",
]
