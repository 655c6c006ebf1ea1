use super::*;

fn refusal(text: &str) -> SyntaxError {
    parse(text).expect_err(text)
}

#[test]
fn duplicate_keys_are_refused_with_their_position() {
    let e = refusal("{\"a\": 1,\n \"a\": 2}");
    assert_eq!((e.line, e.reason.as_str()), (2, "duplicate key \"a\""));
    assert!(refusal(r#"{"x": {"b": [1, {"c": 0, "c": 0}]}}"#).reason.contains("duplicate key \"c\""));
    assert!(parse(r#"{"a": {"a": 1}, "b": {"a": 2}}"#).is_ok(), "the same key in different objects is fine");
}

#[test]
fn integers_beyond_64_bits_are_refused_where_they_stand() {
    let e = refusal("{\n  \"n\": 123456789012345678901234567890}");
    assert_eq!((e.line, e.column), (2, 8));
    assert_eq!(e.reason, "the integer 123456789012345678901234567890 does not fit in 64 bits");
    assert!(refusal("[-9223372036854775809]").reason.contains("-9223372036854775809"));
    assert!(refusal("[18446744073709551616]").reason.contains("18446744073709551616"));
}

#[test]
fn numbers_that_fit_are_kept_exactly() {
    let value = parse("[-9223372036854775808, 18446744073709551615, 1.5e300, 0.1, -0]").unwrap();
    assert_eq!(value.to_string(), "[-9223372036854775808,18446744073709551615,1.5e+300,0.1,-0.0]");
    let in_string = parse(r#"{"s": "123456789012345678901234567890 \" 99999999999999999999"}"#).unwrap();
    assert_eq!(in_string["s"], "123456789012345678901234567890 \" 99999999999999999999", "digits in strings are text");
}

#[test]
fn floats_beyond_doubles_and_syntax_errors_are_refused() {
    assert!(refusal("[1e400]").reason.contains("out of range"));
    let e = refusal("{\"a\": 1,}");
    assert_eq!((e.line, e.column), (1, 9));
    assert!(refusal("{} x").reason.contains("trailing characters"));
}

#[test]
fn order_of_keys_is_kept() {
    assert_eq!(parse(r#"{"b": 1, "a": 2}"#).unwrap().to_string(), r#"{"b":1,"a":2}"#);
}

#[test]
fn check_agrees_with_parse_and_builds_nothing() {
    for text in [
        "{\"a\": 1,\n \"a\": 2}",
        r#"{"x": {"b": [1, {"c": 0, "c": 0}]}}"#,
        r#"{"a": {"a": 1}, "b": {"a": 2}}"#,
        r#"{"\u0061": 1, "a": 2}"#,
        "{\n  \"n\": 123456789012345678901234567890}",
        "{\"a\": 1,}",
        "[[[]], {}]",
        "7",
    ] {
        assert_eq!(check(text).map(drop), parse(text).map(drop), "{text}");
    }
    assert_eq!(check(r#"{"a": [[1], {"b": {}}]}"#).unwrap(), Shape { is_object: true, depth: 4 });
    assert_eq!(check("[1]").unwrap(), Shape { is_object: false, depth: 1 });
    assert_eq!(check("\"s\"").unwrap().depth, 0);
}

#[test]
fn duplicates_in_large_objects_are_found_and_named_where_they_stand() {
    let members: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
    let fine = format!("{{{}}}", members.join(",\n"));
    assert_eq!(check(&fine).map(drop), Ok(()));
    for (at, repeat) in [(30, "\"k3\""), (16, "\"k0\""), (39, "\"k\\u0033\"")] {
        let mut members = members.clone();
        members[at] = format!("{repeat}: 0");
        let text = format!("{{{}}}", members.join(",\n"));
        let (checked, parsed) = (check(&text).unwrap_err(), parse(&text).unwrap_err());
        assert_eq!(checked, parsed, "{repeat} at {at}");
        assert_eq!(checked.line, at + 1);
        assert!(checked.reason.starts_with("duplicate key \"k"), "{}", checked.reason);
    }
}

#[test]
fn duplicates_among_ascending_keys_are_found_and_named_where_they_stand() {
    let members: Vec<String> = (0..40).map(|i| format!("\"k{i:03}\": {i}")).collect();
    assert_eq!(check(&format!("{{{}}}", members.join(",\n"))).map(drop), Ok(()));
    // The last key again; an early key after a long ascending run, after a short one,
    // and written with escapes.
    for (at, repeat, named) in
        [(31, "\"k030\"", "k030"), (35, "\"k002\"", "k002"), (5, "\"k001\"", "k001"), (39, "\"\\u006b002\"", "k002")]
    {
        let mut members = members.clone();
        members[at] = format!("{repeat}: 0");
        let text = format!("{{{}}}", members.join(",\n"));
        let checked = check(&text).unwrap_err();
        assert_eq!(Err(checked.clone()), parse(&text).map(drop), "{repeat} at {at}");
        assert_eq!((checked.line, checked.reason), (at + 1, format!("duplicate key \"{named}\"")));
    }
}

proptest::proptest! {
    /// Whatever the order of an object's keys, the check finds a repeated key exactly
    /// when the parser does.
    #[test]
    fn check_finds_the_repeats_the_parser_finds(keys in proptest::collection::vec("[a-c]{1,2}", 0..40)) {
        let members: Vec<String> = keys.iter().enumerate().map(|(i, k)| format!("\"{k}\": {i}")).collect();
        let text = format!("{{{}}}", members.join(", "));
        proptest::prop_assert_eq!(check(&text).map(drop), parse(&text).map(drop));
    }
}
