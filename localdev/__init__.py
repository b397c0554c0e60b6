"""Local tooling, not part of the installed package: embedded endpoints, DynamoDB Local, legacy test data."""
