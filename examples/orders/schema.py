"""A second data model, declared in one module: an ``orders`` table another team migrates.

- The key is composite: ``customerId`` (partition) and ``orderId`` (sort).
- ``itemCount`` is kept exact: the number of ``order_items`` rows of the order. An order item's
  key is (``orderId``, ``lineId``) and it carries its order's ``customerId``, so ``group_by``
  names both (in the order of the orders key); ``itemsVersion`` is bumped on every write of it.
- The status workflow is ``state``: cart -> placed -> shipped -> delivered. The legacy app wrote
  ``new``, ``paid`` and ``sent``: aliases, mapped on the way.
- ``shippedAt`` is required once an order is shipped (dated by the stream record that shipped it,
  never before ``placedAt``); ``currency`` is new, ``EUR`` when absent, and carried forward over a
  legacy whole-item put that drops it.

Point the CLI at it with ``backfill --schema examples.orders.schema:ORDERS`` (or
``DYNAMO_EVOLVE_SCHEMA=examples.orders.schema:ORDERS``), and package the Chalice app with the
same variable: see docs/declaration.md.
"""

from __future__ import annotations

from chalicelib.schema import CountOf, Field, Key, Kind, Schema, Source
from chalicelib.schema.defaults import constant, dated_from

ORDER_ITEMS = Source("order_items", Key("orderId", "lineId"))

ORDERS = Schema(
    table="orders",
    key=Key("customerId", "orderId"),
    version=2,
    version_field="modelVersion",
    status_field="state",
    fields=(
        Field("customerId", Kind.KEY, required=True),
        Field("orderId", Kind.KEY, required=True),
        Field("placedAt", Kind.TIMESTAMP, required=True),
        Field("state", Kind.CHOICE, required=True, owned=True,
              allowed=("cart", "placed", "shipped", "delivered"),  # the workflow, in order
              aliases={"new": "cart", "paid": "placed", "sent": "shipped"}),  # the legacy vocabulary
        Field("currency", Kind.CHOICE, required=True, owned=True, allowed=("EUR", "USD", "GBP"),
              default=constant("EUR"), carried=True),
        Field("shippedAt", Kind.TIMESTAMP, owned=True, required_from="shipped", not_before="placedAt",
              default=dated_from("placedAt"), reads=("placedAt",)),
        Field("itemCount", Kind.COUNT, required=True, owned=True, supplied=True),
        Field("itemsVersion", Kind.COUNT, owned=True),
    ),
    aggregates=(CountOf("itemCount", ORDER_ITEMS, group_by=("customerId", "orderId"), version_field="itemsVersion"),),
)

SCHEMA = ORDERS
