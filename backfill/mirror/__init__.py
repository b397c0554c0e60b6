"""The membership mirror's backfill side: seeding it and marking the items whose counts it then
keeps (``seed``), and checking it against the counts and the source table (``verify``)."""
