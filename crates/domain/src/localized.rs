//! Errors shown to people carry a stable code and messages in both product languages.

/// Implemented by every user-facing domain error.
///
/// `code` is stable (snake_case) and safe to match on in clients; the messages are complete
/// sentences for display, zh-CN first.
pub trait Localized {
    fn code(&self) -> &'static str;
    fn message_zh(&self) -> String;
    fn message_en(&self) -> String;
}
