"""Dates and moments as every page writes them, the admin's lists and forms included: ISO days,
a 24-hour clock, and the reader's time zone named (`2026-12-07 07:00 EST`). Django reads these in
place of its own English ones ("Dec. 7, 2026, 7 a.m."), which the admin would show otherwise."""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1  # Monday, as ISO weeks and the reports' weeks start
