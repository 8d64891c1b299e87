"""People in the loop: on-call calendars, signed acknowledgement links, and the delivery of
notifications after the runtime's outbox (webhook, email, chat), stopped by the ack.

calendar   a role's on-call spans as iCalendar
"""

from orchestrator.notify.calendar import on_call_calendar

__all__ = ["on_call_calendar"]
