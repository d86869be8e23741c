use serde::Deserialize;

use super::*;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Body {
    code: String,
    label: Option<String>,
    digits: Option<u8>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Query {
    #[serde(default, deserialize_with = "rfc3339")]
    since: Option<DateTime<Utc>>,
    limit: Option<i64>,
}

fn body_error(text: &str) -> String {
    match json::<Body>(text.as_bytes()) {
        Err(Error::InvalidRequest(m)) => m,
        other => panic!("{other:?}"),
    }
}

fn query_error(text: &str) -> String {
    match urlencoded::<Query>(text, Place::Query) {
        Err(Error::InvalidRequest(m)) => m,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_good_body_is_read() {
    let b: Body = json(br#"{"code": "123456", "digits": 6}"#).unwrap();
    assert_eq!(b.code, "123456");
    assert_eq!(b.digits, Some(6));
}

#[test]
fn body_messages_name_the_field() {
    assert_eq!(body_error("{}"), "missing body field `code`");
    assert_eq!(
        body_error(r#"{"code": "1", "label": 5}"#),
        "body field `label`: expected a string"
    );
    assert_eq!(
        body_error(r#"{"code": "1", "lable": "x"}"#),
        "unknown body field `lable`; expected one of `code`, `label`, `digits`"
    );
    assert_eq!(
        body_error(r#"{"code": "1", "digits": -1}"#),
        "body field `digits`: expected a whole number, 0 or more"
    );
}

#[test]
fn a_repeated_body_field_is_refused_not_read_as_either() {
    assert_eq!(
        body_error(r#"{"code": "111111", "code": "222222"}"#),
        "body field `code` is given twice"
    );
}

#[test]
fn a_position_is_cut_only_where_serde_json_put_one() {
    assert_eq!(
        without_position("missing field `code` at line 1 column 2"),
        "missing field `code`"
    );
    assert_eq!(
        without_position("expected `at line 3`"),
        "expected `at line 3`"
    );
}

#[test]
fn a_body_that_is_not_an_object_says_so() {
    assert_eq!(body_error("[]"), "the body must be a JSON object");
    assert_eq!(body_error("\"x\""), "the body must be a JSON object");
    assert_eq!(
        body_error(" "),
        "the body is empty; it must be a JSON object"
    );
    assert_eq!(
        body_error("{\"a\"}"),
        "the body is not valid JSON: expected `:` at line 1 column 5"
    );
}

#[test]
fn a_wrong_value_is_not_echoed() {
    let m = body_error(r#"{"code": 123456}"#);
    assert_eq!(m, "body field `code`: expected a string");
}

#[test]
fn an_optional_body_may_be_empty() {
    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Optional {
        step_up: Option<String>,
    }
    let o: Optional = optional_json(b"").unwrap();
    assert!(o.step_up.is_none());
    assert!(matches!(
        optional_json::<Optional>(b"[]"),
        Err(Error::InvalidRequest(m)) if m == "the body must be a JSON object"
    ));
}

#[test]
fn query_messages_name_the_parameter() {
    assert_eq!(
        query_error("since=yesterday"),
        "query parameter `since`: expected an RFC 3339 date-time such as 2026-12-06T09:30:00Z"
    );
    assert_eq!(
        query_error("limit=ten"),
        "query parameter `limit`: expected a whole number"
    );
    assert_eq!(
        query_error("bogus=1"),
        "unknown query parameter `bogus`; expected `since` or `limit`"
    );
    let q: Query = urlencoded("since=2026-12-06T09:30:00Z&limit=5", Place::Query).unwrap();
    assert_eq!(q.limit, Some(5));
    assert!(q.since.is_some());
}

#[test]
fn form_messages_name_the_field() {
    #[derive(Debug, Deserialize)]
    struct Form {
        #[expect(dead_code, reason = "only its absence is tested")]
        csrf: String,
    }
    match urlencoded::<Form>("", Place::Form) {
        Err(Error::InvalidRequest(m)) => assert_eq!(m, "missing form field `csrf`"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_struct_with_no_fields_says_none_is_taken() {
    assert_eq!(
        describe(Place::Body, "", "unknown field `x`, there are no fields"),
        "unknown body field `x`; none is taken here"
    );
}
