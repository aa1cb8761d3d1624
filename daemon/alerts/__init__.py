"""Alerts: decide (dedup, repeat, resolve, escalate), outbox, delivery."""
