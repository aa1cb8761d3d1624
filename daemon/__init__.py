"""burnin: supervise a burn-in of a file-based system and give a verdict with evidence."""

__version__ = "0.1.0"
