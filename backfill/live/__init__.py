"""The deployed live path (the Chalice stream handlers and their event source mappings).

``model`` and ``alarms`` are pure (names, states, alarm definitions); ``lambda_api`` does the
AWS calls (find, pause, resume, inspect mappings; create alarms).
"""
