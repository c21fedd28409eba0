"""Alerts: rules over the rolled-up counters and endpoint health, the issues their firing opens,
and the notices those issues send (``notice.AlertNotice``) through the channels (``notify``)."""
