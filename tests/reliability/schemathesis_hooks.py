"""Schemathesis hooks (SCHEMATHESIS_HOOKS): validate the CSV and iCalendar bodies too.

Without a deserializer schemathesis skips responses it cannot read. These parse the
body for real (the csv module; the icalendar library, as a calendar app would) and
fail the check when it does not parse; the schema then checks the text is a string.
"""

import csv
import io

import icalendar
import schemathesis


@schemathesis.deserializer("text/csv")
def read_csv(ctx, response) -> str:
    text = response.content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0][:2] != ["id", "indicator"]:
        raise ValueError(f"CSV without the header row: {text[:80]!r}")
    if any(len(row) != len(rows[0]) for row in rows):
        raise ValueError("CSV rows of different lengths")
    return text


@schemathesis.deserializer("text/calendar")
def read_ics(ctx, response) -> str:
    calendar = icalendar.Calendar.from_ical(response.content)
    if calendar.name != "VCALENDAR":
        raise ValueError(f"not a VCALENDAR: {calendar.name}")
    return response.content.decode("utf-8")
