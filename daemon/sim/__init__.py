"""The reference system: a small file-based job system laid out as SPEC §2, with a fault plan.

It is what `burnin demo`, the end-to-end tests and the benchmarks run burnin against. It runs as
its own OS process (`python -m daemon.sim run ...`): a supervisor that starts the *system*
process (producer, worker, ledger, state machine, snapshot writer, plain logs, all on one clock),
restarts it when a scripted fault crashes it, and stops it on SIGTERM.
"""
