"""The ledger: each write attempt with the exact state it was computed from, read back as written."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary

from backfill.run.ledger import Ledger, LedgerError, read_ledger
from backfill.run.store import open_store
from chalicelib.items import python_value, to_python

READ = to_python({"eventId": {"S": "e1"}, "status": {"S": "active"}, "createdAt": {"N": "1700000000000"},
                  "participantCount": {"N": "0.0000001"}, "odd": {"NS": ["1E-130", "9.9999999999999999999999999999999999999E+125"]},
                  "bin": {"B": b"\x00\xff"}})


def test_attempts_are_read_back_in_order_with_the_exact_state_read(tmp_path):
    # given two attempts on one event (the first failed its condition), one on another
    with Ledger(open_store(tmp_path), "run.ledger.jsonl") as ledger:
        ledger.record("e1", {"status": "setup"}, {**READ, "status": "waiting"})
        ledger.record("e1", {"status": "live", "participantCount": 3}, READ)
        ledger.record("e2", {"status": "setup"}, {"eventId": "e2", "status": "waiting"})
    # when read back
    entries = read_ledger(open_store(tmp_path), "run.ledger.jsonl")
    # then every attempt is there, in order, and the state read is exact (number text, binary)
    assert [a.changes["status"] for a in entries["e1"]] == ["setup", "live"]
    read = entries["e1"][1].read
    assert read == READ and read["participantCount"].text == "0.0000001"
    assert read["bin"] == Binary(b"\x00\xff") and read["odd"] == {Decimal("1E-130"), python_value({"N": "9.9999999999999999999999999999999999999E+125"})}


def test_a_torn_last_line_is_ignored(tmp_path):
    # given a ledger cut off mid-line by a crash
    line = {"item": "e1", "changes": {"status": {"S": "setup"}}, "read": {"eventId": {"S": "e1"}}}
    (tmp_path / "run.ledger.jsonl").write_text(json.dumps(line) + '\n{"item": "e2", "cha')
    # when read, then the whole line is there and the torn one is not
    entries = read_ledger(open_store(tmp_path), "run.ledger.jsonl")
    assert list(entries) == ["e1"] and entries["e1"][0].read == {"eventId": "e1"}


def test_a_line_without_the_state_read_is_a_damaged_ledger_named_with_its_line(tmp_path):
    # given a ledger whose first line lacks "read" (every write attempt records it)
    (tmp_path / "run.ledger.jsonl").write_text(json.dumps({"item": "e1", "changes": {"status": {"S": "setup"}}}) + "\n")
    # when read, then it is refused, naming the file and the line
    with pytest.raises(LedgerError, match=r"run\.ledger\.jsonl line 1 is not a ledger entry"):
        read_ledger(open_store(tmp_path), "run.ledger.jsonl")


def test_the_typed_read_as_returned_by_the_service_records_the_same_state(tmp_path):
    # given the typed item as the service returned it (the migration's first attempt has it)
    typed = {"eventId": {"S": "e1"}, "status": {"S": "active"}, "createdAt": {"N": "1700000000000"},
             "participantCount": {"N": "0.0000001"}, "odd": {"NS": ["1E-130"]}, "bin": {"B": b"\x00\xff"}}
    # when one attempt is recorded with it and another one without it
    with Ledger(open_store(tmp_path), "run.ledger.jsonl") as ledger:
        ledger.record("e1", {"status": "setup"}, to_python(typed), typed)
        ledger.record("e2", {"status": "setup"}, to_python(typed))
    # then both read back as the same exact state
    entries = read_ledger(open_store(tmp_path), "run.ledger.jsonl")
    first, second = entries["e1"][0].read, entries["e2"][0].read
    assert first == second == to_python(typed) and first["participantCount"].text == "0.0000001"
    assert first["bin"] == Binary(b"\x00\xff")


def test_a_line_names_the_item_by_its_key(tmp_path):
    # given an attempt on an item of a table with a composite key
    name = json.dumps(["c-1", "o-1"])
    with Ledger(open_store(tmp_path), "run.ledger.jsonl") as ledger:
        ledger.record(name, {"state": "placed"}, {"customerId": "c-1", "orderId": "o-1", "state": "paid"})
    # when read back
    [line] = (tmp_path / "run.ledger.jsonl").read_text().splitlines()
    entries = read_ledger(open_store(tmp_path), "run.ledger.jsonl")
    # then the line carries the item's name, and the attempt is found by name
    assert json.loads(line)["item"] == name
    assert list(entries) == [name] and entries[name][0].changes == {"state": "placed"}


def test_a_write_that_removes_records_the_removed_values_exactly(tmp_path):
    # given a write that REMOVEs description (a contracted rename), its value a set of numbers
    read = to_python({"eventId": {"S": "e1"}, "description": {"S": "Pub quiz"}, "odd": {"NS": ["1E-130"]}})
    with Ledger(open_store(tmp_path), "run.ledger.jsonl") as ledger:
        ledger.record("e1", {"summary": "Pub quiz"}, read, removes=("description", "odd"))
    # then the line holds the removed values as read, and reads back with what was removed
    line = json.loads((tmp_path / "run.ledger.jsonl").read_text())
    assert line["removed"] == {"description": {"S": "Pub quiz"}, "odd": {"NS": ["1E-130"]}}
    [entry] = read_ledger(open_store(tmp_path), "run.ledger.jsonl")["e1"]
    assert entry.removed == ("description", "odd") and entry.read["odd"] == {Decimal("1E-130")}
