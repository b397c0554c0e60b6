"""The CLI surface: the click group (``main``), shared options, child processes and the commands."""
