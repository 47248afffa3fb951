//! JSON files whose kind is named by one string field: `schema` in a model's metadata, `format` in a training state.
//!
//! That field is read first, so a file of another kind (the forecaster's metadata given as the agents', a model's
//! metadata given as a training state) is named by what it is rather than by the first field it happens to lack;
//! then the whole file is parsed again from the text, so that serde's errors keep their line and column.

use serde::de::DeserializeOwned;

/// What names a file's kind, and what this build reads.
#[derive(Clone, Copy, Debug)]
pub struct Tag {
    /// The field: `schema`, `format`.
    pub field: &'static str,
    /// The only value this build reads.
    pub expected: &'static str,
    /// What such a file is, for the message when the field is missing: "a model metadata file".
    pub kind: &'static str,
}

/// Why a tagged file was refused.
#[derive(Debug, thiserror::Error)]
pub enum TaggedJsonError {
    /// Not JSON, or the fields of its kind are wrong (the message has the line and column).
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("no `{field}` field: not {kind} (this build reads `{expected}`)", field = .0.field, kind = .0.kind, expected = .0.expected)]
    Untagged(Tag),
    /// `found` is the field's string, or its JSON text when it is not a string.
    #[error("{field} `{found}`, but this build reads `{expected}`", field = .tag.field, expected = .tag.expected)]
    OtherKind { tag: Tag, found: String },
}

/// Parses `text` as a `T` once its tag is `tag.expected`.
pub fn parse<T: DeserializeOwned>(text: &[u8], tag: Tag) -> Result<T, TaggedJsonError> {
    let value: serde_json::Value = serde_json::from_slice(text)?;
    match value.get(tag.field) {
        Some(serde_json::Value::String(s)) if s == tag.expected => Ok(serde_json::from_slice(text)?),
        Some(serde_json::Value::String(s)) => Err(TaggedJsonError::OtherKind { tag, found: s.clone() }),
        Some(other) => Err(TaggedJsonError::OtherKind { tag, found: other.to_string() }),
        None => Err(TaggedJsonError::Untagged(tag)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: Tag = Tag { field: "format", expected: "x/1", kind: "an x file" };

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct X {
        format: String,
        n: u32,
    }

    #[test]
    fn the_tag_is_judged_before_the_fields_and_errors_keep_their_place() {
        let x: X = parse(br#"{"format": "x/1", "n": 3}"#, TAG).expect("reads");
        assert_eq!(x, X { format: "x/1".into(), n: 3 });
        let untagged = parse::<X>(br#"{"n": 3}"#, TAG).expect_err("untagged").to_string();
        assert_eq!(untagged, "no `format` field: not an x file (this build reads `x/1`)");
        let other = parse::<X>(br#"{"format": "x/0"}"#, TAG).expect_err("other kind").to_string();
        assert_eq!(other, "format `x/0`, but this build reads `x/1`");
        let number = parse::<X>(br#"{"format": 2}"#, TAG).expect_err("not a string").to_string();
        assert_eq!(number, "format `2`, but this build reads `x/1`");
        let field = parse::<X>(b"{\"format\": \"x/1\",\n \"n\": -1}", TAG).expect_err("bad field").to_string();
        assert!(field.contains("line 2"), "{field}");
        let syntax = parse::<X>(b"{\"format\": ", TAG).expect_err("not json").to_string();
        assert!(syntax.contains("line 1"), "{syntax}");
    }
}
