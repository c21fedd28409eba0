"""Alerts: rules over hookd's own records, the issues they open, and the channels told."""
