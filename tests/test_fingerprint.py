from prodaudit.fingerprint import fingerprints, matched_text


def test_fingerprint_ignores_whitespace_and_line_position():
    a = fingerprints([("SEC001", "app.py", "jwt.decode(t,  verify=False)")])
    b = fingerprints([("SEC001", "app.py", "jwt.decode(t,\n    verify=False)")])
    assert a == b


def test_fingerprint_distinguishes_rule_path_and_text():
    base = fingerprints([("SEC001", "a.py", "x")])[0]
    assert fingerprints([("SEC002", "a.py", "x")])[0] != base
    assert fingerprints([("SEC001", "b.py", "x")])[0] != base
    assert fingerprints([("SEC001", "a.py", "y")])[0] != base


def test_equal_keys_get_occurrence_indexes():
    one, two = fingerprints([("SEC001", "a.py", "x"), ("SEC001", "a.py", "x")])
    assert one != two
    # The first occurrence keeps its identity when a second identical one appears below it.
    assert fingerprints([("SEC001", "a.py", "x")])[0] == one


def test_matched_text_spans_lines_and_clamps():
    lines = ["a = call(", "    1,", ")  # end"]
    assert matched_text(lines, 1, 5, 3, 2) == "call(\n    1,\n)"
    assert matched_text(lines, 2, 5, 2, 7) == "1,"
    assert matched_text(lines, 9, 1, 9, 1) == ""
