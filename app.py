"""Chalice app: DynamoDB Streams handlers (filled in by the live-path work)."""

from chalice import Chalice

app = Chalice(app_name="dynamo-evolve")
