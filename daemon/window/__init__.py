"""The burn-in window: persisted state, time series, verdict."""
