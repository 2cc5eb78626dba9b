//! How much text a request may carry in each field, and how text typed by a stranger is kept on
//! record. Every limit is checked before the value is used or stored, so no request can make a
//! row, a log line or an audit page larger than the product needs.

use crate::Localized;

/// The most a field may hold, in characters (not bytes: a Chinese name counts its characters),
/// and which characters it may hold: no field holds NUL or other control characters (besides
/// line breaks and tabs in free text), and one-line fields hold nothing invisible either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub field: &'static str,
    pub max_chars: usize,
    /// Free text (comments): line breaks and tabs allowed.
    pub multiline: bool,
}

/// Staff account names.
pub const USERNAME: Limit = Limit::new("username", 64);
/// Passwords: long enough for any passphrase, short enough that hashing one costs nothing extra.
pub const PASSWORD: Limit = Limit::new("password", 256);
/// A staff member's display name.
pub const DISPLAY_NAME: Limit = Limit::new("display_name", 64);
/// A student's name as typed or imported (the longest Chinese names, with middle dots, and
/// transliterated names fit comfortably).
pub const PERSON_NAME: Limit = Limit::new("name", 64);
/// A typed ID number before it is parsed (18 characters, with room for spaces).
pub const ID_NUMBER: Limit = Limit::new("id_number", 32);
/// A personal code as typed.
pub const CODE: Limit = Limit::new("code", 64);
/// A reviewer's comment on a rejection, or a supervisor's reason for an override.
pub const COMMENT: Limit = Limit::new("comment", 1000).free_text();
/// A school's privacy agreement, one language: paragraphs of free text, a few pages.
pub const AGREEMENT: Limit =
    Limit::new("privacy_text", crate::policy::PRIVACY_TEXT_MAX_CHARS).free_text();
/// Identifiers the client chooses or names: case, attempt, decision and upload ids, school ids.
pub const IDENTIFIER: Limit = Limit::new("id", 64);
/// Short labels: a privacy agreement version, a school's name, a student number, a reason code.
pub const LABEL: Limit = Limit::new("label", 128);
/// Reasons one rejection may name.
pub const MAX_REASONS: usize = 16;

/// How much of what a stranger typed is kept on record (a failed sign-in's username).
pub const STRANGER_CHARS: usize = 64;

impl Limit {
    pub const fn new(field: &'static str, max_chars: usize) -> Limit {
        Limit {
            field,
            max_chars,
            multiline: false,
        }
    }

    const fn free_text(self) -> Limit {
        Limit {
            multiline: true,
            ..self
        }
    }

    /// The same limit reported under another field name (`override_comment`, `decision_id`).
    pub const fn named(self, field: &'static str) -> Limit {
        Limit { field, ..self }
    }

    /// Refuses a value longer than the limit (counting no further than needed to decide), or
    /// holding a character the field may not hold.
    pub fn check(&self, value: &str) -> Result<(), TextError> {
        if value.len() > self.max_chars && value.chars().nth(self.max_chars).is_some() {
            return Err(self.exceeded());
        }
        let allowed = |c: char| {
            if self.multiline {
                !c.is_control() || matches!(c, '\n' | '\r' | '\t')
            } else {
                !is_hidden(c)
            }
        };
        if value.chars().all(allowed) {
            Ok(())
        } else {
            Err(TextError {
                field: self.field,
                max: self.max_chars,
                unit: Unit::HiddenChar,
            })
        }
    }

    /// The error for a value over this limit (when the excess is seen before the value is read).
    pub fn exceeded(&self) -> TextError {
        TextError {
            field: self.field,
            max: self.max_chars,
            unit: Unit::Chars,
        }
    }

    pub fn check_opt(&self, value: Option<&str>) -> Result<(), TextError> {
        value.map_or(Ok(()), |v| self.check(v))
    }
}

/// Refuses a list longer than `max` entries.
pub fn check_items<T>(field: &'static str, items: &[T], max: usize) -> Result<(), TextError> {
    if items.len() <= max {
        Ok(())
    } else {
        Err(TextError {
            field,
            max,
            unit: Unit::Items,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Chars,
    Items,
    /// Not a length: a control or invisible character the field may not hold.
    HiddenChar,
}

/// A field over its limit, or holding what it may not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} is too long (at most {max})")]
pub struct TextError {
    pub field: &'static str,
    pub max: usize,
    pub unit: Unit,
}

impl Localized for TextError {
    fn code(&self) -> &'static str {
        match self.unit {
            Unit::Chars | Unit::Items => "field_too_long",
            Unit::HiddenChar => "field_bad_char",
        }
    }

    fn message_zh(&self) -> String {
        match self.unit {
            Unit::Chars => format!("“{}”太长：最多 {} 个字符。", self.field, self.max),
            Unit::Items => format!("“{}”太多：最多 {} 项。", self.field, self.max),
            Unit::HiddenChar => format!("“{}”含有控制字符或不可见字符，请删除后重试。", self.field),
        }
    }

    fn message_en(&self) -> String {
        match self.unit {
            Unit::Chars => format!(
                "{} is too long: at most {} characters.",
                self.field, self.max
            ),
            Unit::Items => format!("{} has too many entries: at most {}.", self.field, self.max),
            Unit::HiddenChar => format!(
                "{} holds a control or invisible character; remove it and try again.",
                self.field
            ),
        }
    }
}

/// What a stranger typed, fit for the record: at most [`STRANGER_CHARS`] characters, control
/// and invisible formatting characters shown as `�`, and a mark with the count of what was cut.
/// The record says what was tried without storing whatever was sent.
pub fn stranger(value: &str) -> String {
    let mut out: String = value
        .chars()
        .take(STRANGER_CHARS)
        .map(|c| if is_hidden(c) { '\u{FFFD}' } else { c })
        .collect();
    if value.chars().nth(STRANGER_CHARS).is_some() {
        let total = value.chars().count();
        out.push_str(&format!("…(+{})", total - STRANGER_CHARS));
    }
    out
}

/// A cell for a CSV file a school opens in a spreadsheet: text that a spreadsheet would take
/// for a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is written
/// with a leading apostrophe, so it shows as the text it is and never runs.
pub fn csv_cell(value: &str) -> std::borrow::Cow<'_, str> {
    if starts_like_formula(value) {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// Whether a spreadsheet opening this text as a cell would run it as a formula: it starts with
/// `=`, `+`, `-` or `@` (or a tab or carriage return, which some spreadsheets skip first).
pub fn starts_like_formula(value: &str) -> bool {
    value.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Characters that do not show, or change how the text around them shows.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}'                 // soft hyphen
            | '\u{200B}'..='\u{200F}'  // zero-width space/joiners, direction marks
            | '\u{202A}'..='\u{202E}'  // direction embeddings and overrides
            | '\u{2060}'..='\u{2064}'  // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}'  // direction isolates
            | '\u{FEFF}'               // byte-order mark
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_characters_not_bytes() {
        let name = "欧阳".repeat(32);
        assert!(PERSON_NAME.check(&name).is_ok());
        let err = PERSON_NAME.check(&format!("{name}娜")).unwrap_err();
        assert_eq!(err.max, 64);
        assert_eq!(err.code(), "field_too_long");
        assert!(err.message_zh().contains("64"));
    }

    #[test]
    fn a_strangers_text_is_bounded_and_shows_what_it_hides() {
        assert_eq!(stranger("admin"), "admin");
        assert_eq!(stranger("a\u{0}b\u{202E}c"), "a\u{FFFD}b\u{FFFD}c");
        let huge = "x".repeat(15 * 1024 * 1024);
        let kept = stranger(&huge);
        assert!(kept.len() < 100, "{}", kept.len());
        assert!(kept.ends_with(&format!("…(+{})", huge.len() - STRANGER_CHARS)));
    }

    #[test]
    fn fields_hold_no_control_or_invisible_characters() {
        let err = USERNAME.check("admin\u{0}").unwrap_err();
        assert_eq!(err.code(), "field_bad_char");
        assert!(USERNAME.check("ad\u{200B}min").is_err());
        assert!(COMMENT.check("第一行\n第二行\t好").is_ok());
        assert!(COMMENT.check("nul\u{0}").is_err());
    }

    #[test]
    fn csv_cells_never_become_formulas() {
        assert_eq!(csv_cell("王芳"), "王芳");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell("+86"), "'+86");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
    }

    #[test]
    fn lists_are_bounded_by_entries() {
        assert!(check_items("reasons", &[1; 16], MAX_REASONS).is_ok());
        let err = check_items("reasons", &[1; 17], MAX_REASONS).unwrap_err();
        assert_eq!(err.unit, Unit::Items);
    }
}
