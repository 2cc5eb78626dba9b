//! Fuzzing of ID number parsing (`IdNumber::parse`, `mask`, `check_char` and the serde form),
//! which reads what a student types, what a roster cell holds and what OCR reads off a card.
//! Seeds are valid numbers of every kind; each case edits one as typed text (a digit changed, a
//! character inserted, deleted or swapped, full-width digits, spaces, a lower-case x, a
//! stray mark or any Unicode character) or, sometimes, replaces it with arbitrary text.
//!
//! Properties: never panics; a number it accepts is 18 ASCII characters with a correct check
//! character, a real birth date from 1900 to today, the kind its prefix names, and parses back
//! to itself (also through serde); any valid number parses however it is typed (spaces,
//! full-width characters, lower case); `mask` keeps the length and hides all but 6 + 4.
//!
//! `GRADPHOTO_FUZZ_CASES=1000000 cargo test --release -p gradphoto-domain --test fuzz_idnumber`
//! (docs/fuzzing.md).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

#[path = "../../../tests/fuzz/support.rs"]
mod fuzz;

use chrono::{Datelike, NaiveDate};
use fuzz::{check, Tape};
use gradphoto_domain::idnumber::{check_char, mask, IdKind, IdNumber};
use proptest::test_runner::TestCaseResult;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

const PREFIXES: [(&str, IdKind); 7] = [
    ("110105", IdKind::Resident),
    ("440305", IdKind::Resident),
    ("710000", IdKind::Resident),
    ("810000", IdKind::HongKongPermit),
    ("820000", IdKind::MacauPermit),
    ("830000", IdKind::TaiwanPermit),
    ("937156", IdKind::ForeignPermanent),
];

/// A valid number from the tape: its kind's prefix, a real birth date and a sequence.
fn valid(tape: &mut Tape) -> (String, IdKind, NaiveDate) {
    let (prefix, kind) = *tape.pick(&PREFIXES);
    let first = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    let span = (today() - first).num_days() as usize + 1;
    let birth = first + chrono::Duration::days(tape.below(span) as i64);
    let first17 = format!("{prefix}{}{:03}", birth.format("%Y%m%d"), tape.below(1000));
    let number = format!("{first17}{}", check_char(&first17).unwrap());
    (number, kind, birth)
}

/// The same number as a person might type it: spaces, full-width characters, lower case.
fn loosely_typed(number: &str, tape: &mut Tape) -> String {
    let mut out = String::new();
    for c in number.chars() {
        if tape.chance(10) {
            out.push(*tape.pick(&[' ', '\t', '\u{3000}', '\n']));
        }
        let c = match tape.below(4) {
            1 => char::from_u32(c as u32 + 0xFEE0).unwrap(),
            2 => c.to_ascii_lowercase(),
            _ => c,
        };
        out.push(c);
    }
    out
}

fn edit(text: &mut String, tape: &mut Tape) {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..tape.below(5) {
        let at = tape.below(chars.len() + 1);
        match tape.below(8) {
            0 if at < chars.len() => chars[at] = char::from(b'0' + tape.byte() % 10),
            1 if at < chars.len() => {
                chars.remove(at);
            }
            2 => chars.insert(
                at,
                *tape.pick(&[
                    'X', 'x', '0', '9', ' ', '-', '\u{0}', '\u{200B}', 'Ｘ', '９', 'é', '😀',
                ]),
            ),
            3 => chars.insert(
                at,
                char::from_u32(tape.u32() % 0x11_0000).unwrap_or('\u{FFFD}'),
            ),
            4 if chars.len() > 1 => {
                let (a, b) = (at.min(chars.len() - 1), tape.below(chars.len()));
                chars.swap(a, b);
            }
            5 => chars.truncate(at),
            6 if at < chars.len() => {
                let c = chars[at];
                chars.insert(at, c);
            }
            _ => {}
        }
    }
    *text = chars.into_iter().collect();
}

fn input(tape: &Tape) -> String {
    let mut tape = tape.clone();
    if tape.chance(10) {
        return String::from_utf8_lossy(&tape.bytes(40)).into_owned();
    }
    let (number, _, _) = valid(&mut tape);
    let mut text = loosely_typed(&number, &mut tape);
    edit(&mut text, &mut tape);
    text
}

fn accepted(text: &str, id: &IdNumber) -> TestCaseResult {
    let s = id.as_str();
    check(s.len() == 18 && s.is_ascii(), || {
        format!("{s:?} is not 18 ASCII")
    })?;
    check(
        s[..17].bytes().all(|b| b.is_ascii_digit()) && check_char(&s[..17]) == s.chars().nth(17),
        || format!("{s:?} has a wrong check character"),
    )?;
    let birth = id.birth_date();
    check(birth.year() >= 1900 && birth <= today(), || {
        format!("{s:?} born {birth}")
    })?;
    check(s[6..14] == birth.format("%Y%m%d").to_string(), || {
        format!("{s:?} does not hold its birth date {birth}")
    })?;
    let kind_ok = match id.kind() {
        IdKind::HongKongPermit => s.starts_with("810000"),
        IdKind::MacauPermit => s.starts_with("820000"),
        IdKind::TaiwanPermit => s.starts_with("830000"),
        IdKind::ForeignPermanent => s.starts_with('9'),
        IdKind::Resident => !s.starts_with('9') && !s.starts_with("8"),
    };
    check(kind_ok, || format!("{s:?} read as {:?}", id.kind()))?;
    check(IdNumber::parse(s, today()).as_ref() == Ok(id), || {
        format!("{s:?} does not parse back")
    })?;
    let json = serde_json::to_string(id).unwrap();
    let back: Result<IdNumber, _> = serde_json::from_str(&json);
    check(back.as_ref().ok() == Some(id), || {
        format!("{json} does not deserialize back")
    })?;
    let masked = id.masked();
    check(
        masked.len() == 18 && masked[..6] == s[..6] && masked[14..] == s[14..],
        || format!("{s:?} masked as {masked:?}"),
    )?;
    check(!format!("{id:?}").contains(&s[6..14]), || {
        "Debug shows the birth date".into()
    })?;
    // What was typed differs from the number only by spacing, width and case.
    let squeezed: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap()
            }
            c => c,
        })
        .collect();
    check(squeezed.to_ascii_uppercase() == s, || {
        format!("{text:?} accepted as {s:?}")
    })
}

#[test]
fn id_numbers_never_panic_and_accept_only_valid_numbers() {
    fuzz::run(
        "idnumber",
        fuzz::cases(5000),
        fuzz::case(1, 96),
        |(_, tape)| input(tape).into_bytes(),
        |(_, tape)| {
            let text = input(&tape);
            let masked = mask(&text);
            check(masked.chars().count() == text.chars().count(), || {
                format!("mask({text:?}) = {masked:?} changes the length")
            })?;
            let _ = check_char(&text);
            let _ = serde_json::from_value::<IdNumber>(serde_json::Value::String(text.clone()));
            match IdNumber::parse(&text, today()) {
                Ok(id) => accepted(&text, &id),
                Err(e) => {
                    use gradphoto_domain::Localized;
                    check(
                        !e.message_zh().is_empty() && !e.message_en().is_empty(),
                        || format!("{e:?} has no message"),
                    )
                }
            }
        },
    );
}

#[test]
fn valid_numbers_parse_however_they_are_typed() {
    fuzz::run(
        "idnumber_valid",
        fuzz::cases(3000),
        fuzz::case(1, 64),
        |(_, tape)| valid(&mut tape.clone()).0.into_bytes(),
        |(_, tape)| {
            let mut tape = tape;
            let (number, kind, birth) = valid(&mut tape);
            let typed = loosely_typed(&number, &mut tape);
            let id = IdNumber::parse(&typed, today());
            check(id.is_ok(), || {
                format!("{typed:?} ({number}) refused: {id:?}")
            })?;
            let id = id.unwrap();
            check(
                id.as_str() == number && id.kind() == kind && id.birth_date() == birth,
                || format!("{typed:?} read as {id:?}"),
            )
        },
    );
}
