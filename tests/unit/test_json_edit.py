"""backfill.live.json_edit: values replaced in place, everything else byte for byte."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backfill.live.json_edit import replace_strings, value_span

TEXT = '{\n  "a": {"x": "1", "dup": "old", "dup": "kept-last", "n": [1, {"x": "no"}]},\n  "b" : { "x" : "two" }\n}\n'


def test_only_the_named_value_changes():
    edited = replace_strings(TEXT, ["b"], {"x": "new"})
    assert edited == TEXT.replace('"x" : "two"', '"x" : "new"')


def test_the_last_duplicate_key_is_the_one_json_loads_reads():
    start, end = value_span(TEXT, ["a", "dup"])
    assert json.loads(TEXT)["a"]["dup"] == json.loads(TEXT[start:end])


def test_a_missing_key_names_its_path():
    with pytest.raises(KeyError, match="a.missing"):
        value_span(TEXT, ["a", "missing"])


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=12), min_size=1, max_size=5),
       st.text(max_size=20), st.sampled_from([None, 2, 4]))
def test_any_document_reads_back_with_the_new_value_and_nothing_else_changed(env, new, indent):
    # given a config serialized in some style and one key of it to change
    document = {"stages": {"s": {"environment_variables": env, "other": [1, "x"]}}, "tail": True}
    text = json.dumps(document, indent=indent, ensure_ascii=False)
    key = sorted(env)[0]
    # when it is replaced in place
    edited = replace_strings(text, ["stages", "s", "environment_variables"], {key: new})
    # then json.loads sees exactly that change
    expected = json.loads(text)
    expected["stages"]["s"]["environment_variables"][key] = new
    assert json.loads(edited) == expected
