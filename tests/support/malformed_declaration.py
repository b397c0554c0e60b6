"""A declaration module as a user might write it, with a mistake the load-time check refuses:
``visibility`` required with a default but not owned (the migration would never write it).
Importing it raises ``DeclarationError``: only the CLI tests load it (``--schema``)."""

from dataclasses import replace

from chalicelib.schema.current import V2

SCHEMA = replace(V2, fields=tuple(replace(f, owned=False) if f.name == "visibility" else f for f in V2.fields))
