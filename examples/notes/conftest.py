"""The notes example's tests run on the project's integration fixtures (examples/conftest.py: each
test once per chosen endpoint, reset before every test). Its CLI tests create the tables with
``backfill init-tables`` from the declaration itself."""
