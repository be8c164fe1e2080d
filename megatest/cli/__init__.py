"""The command line: a sectioned Typer app plus the legacy single-dash front door."""
