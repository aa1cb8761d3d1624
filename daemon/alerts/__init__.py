"""Alerts: decide (pure) -> durable outbox (SQLite) -> delivery workers -> channels."""
