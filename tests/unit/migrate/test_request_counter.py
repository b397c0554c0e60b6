"""RequestCounter counts a client's calls per operation through botocore hooks."""

from backfill.table.request_counter import RequestCounter


def test_counts_calls_per_operation_until_detached(dynamodb, settings):
    # given a counter attached to a client
    with RequestCounter().attach(dynamodb) as counter:
        # when the client makes some calls
        dynamodb.put_item(TableName=settings.table("events"), Item={"eventId": {"S": "a"}})
        dynamodb.put_item(TableName=settings.table("events"), Item={"eventId": {"S": "b"}})
        dynamodb.scan(TableName=settings.table("events"))
    # then each operation is counted once per call, and each call was sent at least once
    assert counter.calls() == {"PutItem": 2, "Scan": 1}
    assert counter.sends()["PutItem"] >= 2 and counter.total_calls() == 3
    # and after detaching, calls are no longer counted
    dynamodb.scan(TableName=settings.table("events"))
    assert counter.calls() == {"PutItem": 2, "Scan": 1}
