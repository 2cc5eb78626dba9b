//! Property tests of ID number validation against an independent check digit formula.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use chrono::NaiveDate;
use gradphoto_domain::idnumber::{check_char, IdError, IdKind, IdNumber, Sex};
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

/// ISO 7064 MOD 11-2 written from the standard's definition: the check value c satisfies
/// (sum of a_i * 2^(18-i) + c) ≡ 1 (mod 11) over i = 1..=17, with c = 10 written as X.
fn reference_check(first17: &str) -> char {
    let mut sum: u64 = 0;
    for (i, ch) in first17.chars().enumerate() {
        let weight = 2u64.pow(17 - i as u32) % 11;
        sum += u64::from(ch.to_digit(10).unwrap()) * weight;
    }
    let c = (12 - (sum % 11)) % 11;
    if c == 10 {
        'X'
    } else {
        char::from_digit(c as u32, 10).unwrap()
    }
}

const PROVINCES: [&str; 32] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
];

fn birth_date() -> impl Strategy<Value = NaiveDate> {
    let first = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    let span = (today() - first).num_days();
    (0..=span).prop_map(move |d| first + chrono::Duration::days(d))
}

/// Any valid number of any kind, with its expected kind and birth date.
fn valid_id() -> impl Strategy<Value = (String, IdKind, NaiveDate)> {
    let prefix = prop_oneof![
        (prop::sample::select(PROVINCES.to_vec()), 0u32..10_000)
            .prop_map(|(p, r)| (format!("{p}{r:04}"), IdKind::Resident)),
        Just(("810000".to_string(), IdKind::HongKongPermit)),
        Just(("820000".to_string(), IdKind::MacauPermit)),
        Just(("830000".to_string(), IdKind::TaiwanPermit)),
        (prop::sample::select(PROVINCES.to_vec()), 0u32..1000)
            .prop_map(|(p, n)| (format!("9{p}{n:03}"), IdKind::ForeignPermanent)),
    ];
    (prefix, birth_date(), 0u32..1000).prop_map(|((prefix, kind), date, seq)| {
        let first17 = format!("{prefix}{}{seq:03}", date.format("%Y%m%d"));
        let check = reference_check(&first17);
        (format!("{first17}{check}"), kind, date)
    })
}

proptest! {
    #[test]
    fn check_digit_matches_reference(digits in "[0-9]{17}") {
        prop_assert_eq!(check_char(&digits), Some(reference_check(&digits)));
    }

    #[test]
    fn any_valid_number_parses((s, kind, date) in valid_id()) {
        let id = IdNumber::parse(&s, today()).unwrap();
        prop_assert_eq!(id.as_str(), s.as_str());
        prop_assert_eq!(id.kind(), kind);
        prop_assert_eq!(id.birth_date(), date);
        let seq_digit = s.as_bytes()[16] - b'0';
        prop_assert_eq!(id.sex(), if seq_digit % 2 == 1 { Sex::Male } else { Sex::Female });
        // Lower-case x and surrounding whitespace are accepted too.
        let loose = format!(" {}\t", s.to_lowercase());
        prop_assert_eq!(IdNumber::parse(&loose, today()).unwrap(), id);
    }

    #[test]
    fn flipping_any_single_digit_is_rejected(
        (s, _, _) in valid_id(),
        pos in 0usize..18,
        delta in 1u32..10,
    ) {
        let mut chars: Vec<char> = s.chars().collect();
        let old = chars[pos];
        let new = match old.to_digit(10) {
            Some(d) => char::from_digit((d + delta) % 10, 10).unwrap(),
            // The check character was X: replace it by any digit.
            None => char::from_digit(delta % 10, 10).unwrap(),
        };
        prop_assume!(new != old);
        chars[pos] = new;
        let altered: String = chars.into_iter().collect();
        prop_assert!(IdNumber::parse(&altered, today()).is_err(), "{} accepted", altered);
    }

    #[test]
    fn masked_hides_birth_date_and_sequence((s, _, _) in valid_id()) {
        let id = IdNumber::parse(&s, today()).unwrap();
        let masked = id.masked();
        prop_assert_eq!(masked.chars().count(), 18);
        prop_assert_eq!(&masked[..6], &s[..6]);
        prop_assert_eq!(&masked[6..14], "********");
        prop_assert_eq!(&masked[14..], &s[14..]);
        let debug = format!("{:?}", id);
        prop_assert!(!debug.contains(&s[6..14]));
    }

    #[test]
    fn wrong_length_reports_the_length(s in "[0-9]{0,30}") {
        prop_assume!(s.len() != 18);
        let err = IdNumber::parse(&s, today()).unwrap_err();
        if s.is_empty() {
            prop_assert_eq!(err, IdError::Empty);
        } else {
            prop_assert_eq!(err, IdError::Length { got: s.len() });
        }
    }

    #[test]
    fn arbitrary_input_never_panics(s in "\\PC{0,40}") {
        let _ = IdNumber::parse(&s, today());
    }
}

#[test]
fn wrong_check_digit_reports_expected_and_given() {
    let first17 = "11010519491231002";
    let good = reference_check(first17);
    assert_eq!(good, 'X');
    let err = IdNumber::parse(&format!("{first17}5"), today()).unwrap_err();
    assert_eq!(
        err,
        IdError::CheckDigit {
            expected: 'X',
            got: '5'
        }
    );
}
