"""A lending library's books, declared twice: as the team meant it, and with the mistyped
``group_by`` of issue 31 (``libraryId`` where the loans rows carry ``branchId``), which the load
cannot catch (a source attribute outside its key has no schema in DynamoDB) and the run must.

books: key (libraryId, isbn); loans: key (isbn, loanId), each row carrying the branchId of the
library that lent it; ``activeLoans`` counts a book's loans."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.schema import CountOf, Field, Key, Kind, Schema, Source

LOANS = Source("loans", Key("isbn", "loanId"))

BOOKS = Schema(
    table="books",
    key=Key("libraryId", "isbn"),
    version=2,
    version_field="schemaVersion",
    fields=(
        Field("libraryId", Kind.KEY, required=True),
        Field("isbn", Kind.KEY, required=True),
        Field("title", Kind.STRING),
        Field("activeLoans", Kind.COUNT, required=True, owned=True, supplied=True),
        Field("loansVersion", Kind.COUNT, owned=True),
    ),
    aggregates=(CountOf("activeLoans", LOANS, group_by=("branchId", "isbn"), version_field="loansVersion"),),
)

MISTYPED = replace(BOOKS, aggregates=(replace(BOOKS.aggregates[0], group_by=("libraryId", "isbn")),))
# The right attributes in the wrong order: every loan names a book (isbn, branchId) that does not exist.
SWAPPED = replace(BOOKS, aggregates=(replace(BOOKS.aggregates[0], group_by=("isbn", "branchId")),))
