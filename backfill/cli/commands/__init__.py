"""One module per command; each defines ``command`` (a click command) and cli.py adds it."""
