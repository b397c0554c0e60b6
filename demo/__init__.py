"""The one-command demo: the whole migration story on an embedded endpoint (``python -m demo``)."""
