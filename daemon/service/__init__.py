"""Service integration: systemd notify, signals, Prometheus metrics, status view, Windows."""
