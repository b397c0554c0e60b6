"""Reading the tables: the command's target (session, endpoint), parallel scans, counts, request counting."""
