"""Sources: read the observed tree, processes and host; shared by rules through `SourceHub`."""
