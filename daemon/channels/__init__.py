"""Channels deliver one outbox message each: the alert log, email, webhooks."""
