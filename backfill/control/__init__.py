"""Steering a running migration from outside it: the control record every worker polls
(``record``), what each worker publishes about itself (``worker``), how a worker obeys
(``steering``) and what it measures of the table's capacity (``meter``)."""
