"""Table names: declared by the declaration, renamed by the environment (tables keyed by declared name)."""

from chalicelib.config import Settings, tables_from


def test_a_table_not_renamed_keeps_its_declared_name():
    assert Settings().table("events") == "events" and Settings().target_table == "events"
    assert Settings().source_table() == "participants"


def test_the_environment_renames_declared_tables_by_their_upper_cased_names():
    # given EVENTS_TABLE set, PARTICIPANTS_TABLE empty, and a variable no declared table has
    environ = {"EVENTS_TABLE": "prod-events", "PARTICIPANTS_TABLE": "", "ORDERS_TABLE": "prod-orders"}
    # when the settings are read
    settings = Settings.from_env(environ)
    # then only the declared table given a name is renamed
    assert settings.tables == {"events": "prod-events"} == tables_from(environ)
    assert settings.target_table == "prod-events" and settings.source_table() == "participants"


def test_with_tables_renames_more_tables_and_keeps_the_others():
    settings = Settings(tables={"events": "a-events"}).with_tables({"participants": "a-participants"})
    assert settings.tables == {"events": "a-events", "participants": "a-participants"}
    assert settings.with_tables({"events": "b-events"}).table("events") == "b-events"
