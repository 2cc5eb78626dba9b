//! 18-character ID numbers: mainland resident IDs (GB 11643), Hong Kong / Macau / Taiwan
//! residence permits and the 2023 foreign permanent-residence ID card.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Localized;

/// ISO 7064 MOD 11-2 weights for positions 1..=17 (2^(18-i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character indexed by the weighted sum mod 11.
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Province-level codes (the first two digits of a mainland resident ID). 71 is Taiwan as
/// listed in GB/T 2260; 81/82/83 only appear as the residence-permit prefixes.
const PROVINCES: [u8; 32] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71,
];

/// Computes the MOD 11-2 check character of the first 17 digits.
/// Returns `None` if `first17` is not 17 ASCII digits.
pub fn check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(CHECK_CHARS[(sum % 11) as usize])
}

/// Which document the number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// 居民身份证
    Resident,
    /// 港澳台居民居住证 (Hong Kong), prefix 810000
    HongKongPermit,
    /// 港澳台居民居住证 (Macau), prefix 820000
    MacauPermit,
    /// 港澳台居民居住证 (Taiwan), prefix 830000
    TaiwanPermit,
    /// 外国人永久居留身份证 (2023 format), first digit 9
    ForeignPermanent,
}

impl IdKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            IdKind::Resident => "居民身份证",
            IdKind::HongKongPermit => "港澳台居民居住证（香港）",
            IdKind::MacauPermit => "港澳台居民居住证（澳门）",
            IdKind::TaiwanPermit => "港澳台居民居住证（台湾）",
            IdKind::ForeignPermanent => "外国人永久居留身份证",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            IdKind::Resident => "Resident ID card",
            IdKind::HongKongPermit => "Residence permit (Hong Kong)",
            IdKind::MacauPermit => "Residence permit (Macau)",
            IdKind::TaiwanPermit => "Residence permit (Taiwan)",
            IdKind::ForeignPermanent => "Foreign permanent resident ID card",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn label_zh(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Sex::Male => "Male",
            Sex::Female => "Female",
        }
    }
}

/// Why the birth date in an ID number is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateProblem {
    /// No such calendar day (e.g. 0230).
    DoesNotExist,
    InFuture,
    Before1900,
}

/// A rejected ID number, saying exactly what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("ID number is empty")]
    Empty,
    #[error("ID number must have 18 characters, got {got}")]
    Length { got: usize },
    /// `position` is 1-based.
    #[error("invalid character {ch:?} at position {position}")]
    InvalidChar { position: usize, ch: char },
    #[error("region code {code} is not valid")]
    Region { code: String },
    #[error("birth date {date} is invalid: {problem:?}")]
    BirthDate { date: String, problem: DateProblem },
    #[error("check digit should be {expected}, got {got}")]
    CheckDigit { expected: char, got: char },
}

impl Localized for IdError {
    fn code(&self) -> &'static str {
        match self {
            IdError::Empty => "id_number_empty",
            IdError::Length { .. } => "id_number_length",
            IdError::InvalidChar { .. } => "id_number_invalid_char",
            IdError::Region { .. } => "id_number_region",
            IdError::BirthDate { .. } => "id_number_birth_date",
            IdError::CheckDigit { .. } => "id_number_check_digit",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            IdError::Empty => "请填写身份证号码。".to_string(),
            IdError::Length { got: 15 } => "身份证号码应为18位，您填写的是15位（第一代身份证号码已停止使用），请填写第二代身份证上的18位号码。".to_string(),
            IdError::Length { got } => {
                format!("身份证号码应为18位，您填写的是{got}位，请核对。")
            }
            IdError::InvalidChar { position, ch } => {
                if *position == 18 {
                    format!("身份证号码第18位“{ch}”无效，只能是数字或字母X。")
                } else {
                    format!("身份证号码第{position}位“{ch}”无效，前17位只能是数字。")
                }
            }
            IdError::Region { code } => {
                format!("身份证号码开头的地区代码“{code}”不存在，请核对前6位。")
            }
            IdError::BirthDate { date, problem } => {
                let why = match problem {
                    DateProblem::DoesNotExist => "不是有效的日期",
                    DateProblem::InFuture => "晚于今天",
                    DateProblem::Before1900 => "早于1900年",
                };
                format!("身份证号码中的出生日期“{date}”{why}，请核对第7至14位。")
            }
            IdError::CheckDigit { expected, got } => format!(
                "身份证号码校验位不正确：按前17位计算第18位应为“{expected}”，您填写的是“{got}”。请逐位核对号码。"
            ),
        }
    }

    fn message_en(&self) -> String {
        match self {
            IdError::Empty => "Please enter the ID number.".to_string(),
            IdError::Length { got: 15 } => "The ID number must have 18 characters; you entered 15 (first-generation numbers are no longer valid). Enter the 18-character number on your current ID card.".to_string(),
            IdError::Length { got } => {
                format!("The ID number must have 18 characters; you entered {got}.")
            }
            IdError::InvalidChar { position, ch } => {
                if *position == 18 {
                    format!("Character {position} ({ch:?}) is invalid; the last character must be a digit or X.")
                } else {
                    format!("Character {position} ({ch:?}) is invalid; the first 17 characters must be digits.")
                }
            }
            IdError::Region { code } => format!(
                "The region code {code:?} at the start of the ID number does not exist; check the first 6 digits."
            ),
            IdError::BirthDate { date, problem } => {
                let why = match problem {
                    DateProblem::DoesNotExist => "is not a real date",
                    DateProblem::InFuture => "is in the future",
                    DateProblem::Before1900 => "is before 1900",
                };
                format!("The birth date {date} in the ID number {why}; check digits 7 to 14.")
            }
            IdError::CheckDigit { expected, got } => format!(
                "The check digit is wrong: from the first 17 digits the 18th should be {expected}, but {got} was entered. Check each digit."
            ),
        }
    }
}

/// How the product shows an ID number, valid or not (a validated number, or what was read off a
/// card): the first 6 and last 4 characters with the rest hidden, `110105********123X`. Text of
/// 10 characters or fewer is hidden whole, since its head and tail would be all of it.
pub fn mask(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

/// A validated ID number. `Debug` shows only the masked form so numbers do not leak into logs;
/// use [`IdNumber::as_str`] where the full number is really needed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber {
    value: String,
    kind: IdKind,
    birth_date: NaiveDate,
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdNumber").field(&self.masked()).finish()
    }
}

/// Maps full-width digits and letters (as typed with Chinese IMEs) to ASCII, drops whitespace
/// anywhere (numbers are often typed or pasted in groups) and upper-cases.
fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            _ => c,
        })
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl IdNumber {
    /// Parses and validates `s`. `today` bounds the birth date (no IO here, so the caller
    /// provides it).
    pub fn parse(s: &str, today: NaiveDate) -> Result<IdNumber, IdError> {
        let value = normalize(s);
        let chars: Vec<char> = value.chars().collect();
        if chars.is_empty() {
            return Err(IdError::Empty);
        }
        if chars.len() != 18 {
            return Err(IdError::Length { got: chars.len() });
        }
        for (i, &ch) in chars.iter().enumerate() {
            let ok = ch.is_ascii_digit() || (i == 17 && ch == 'X');
            if !ok {
                return Err(IdError::InvalidChar {
                    position: i + 1,
                    ch,
                });
            }
        }
        // All ASCII from here on, so byte slicing is by character.
        let kind = match &value[..6] {
            "810000" => IdKind::HongKongPermit,
            "820000" => IdKind::MacauPermit,
            "830000" => IdKind::TaiwanPermit,
            _ if value.starts_with('9') => {
                // Foreign permanent IDs: 9, then the issuing province code, then nationality.
                let province: u8 = value[1..3].parse().unwrap_or(0);
                if !PROVINCES.contains(&province) {
                    return Err(IdError::Region {
                        code: value[..6].to_string(),
                    });
                }
                IdKind::ForeignPermanent
            }
            _ => {
                let province: u8 = value[..2].parse().unwrap_or(0);
                if !PROVINCES.contains(&province) {
                    return Err(IdError::Region {
                        code: value[..6].to_string(),
                    });
                }
                IdKind::Resident
            }
        };
        let date_str = &value[6..14];
        let birth_date = parse_birth_date(date_str, today)?;
        let expected = check_char(&value[..17]).ok_or(IdError::Length { got: chars.len() })?;
        if chars[17] != expected {
            return Err(IdError::CheckDigit {
                expected,
                got: chars[17],
            });
        }
        Ok(IdNumber {
            value,
            kind,
            birth_date,
        })
    }

    /// The normalized number (ASCII, upper-case X).
    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn kind(&self) -> IdKind {
        self.kind
    }

    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// Odd 17th digit: male; even: female.
    pub fn sex(&self) -> Sex {
        let digit = self.value.as_bytes()[16];
        if (digit - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// First 6 and last 4 characters, birth date and sequence hidden: `110105********123X`.
    pub fn masked(&self) -> String {
        mask(&self.value)
    }

    /// Age in whole years on `today`.
    pub fn age_on(&self, today: NaiveDate) -> u32 {
        today.years_since(self.birth_date).unwrap_or(0)
    }
}

fn parse_birth_date(date_str: &str, today: NaiveDate) -> Result<NaiveDate, IdError> {
    let problem = |problem| IdError::BirthDate {
        date: date_str.to_string(),
        problem,
    };
    let year: i32 = date_str[..4]
        .parse()
        .map_err(|_| problem(DateProblem::DoesNotExist))?;
    let month: u32 = date_str[4..6]
        .parse()
        .map_err(|_| problem(DateProblem::DoesNotExist))?;
    let day: u32 = date_str[6..8]
        .parse()
        .map_err(|_| problem(DateProblem::DoesNotExist))?;
    let date =
        NaiveDate::from_ymd_opt(year, month, day).ok_or(problem(DateProblem::DoesNotExist))?;
    if date.year() < 1900 {
        return Err(problem(DateProblem::Before1900));
    }
    if date > today {
        return Err(problem(DateProblem::InFuture));
    }
    Ok(date)
}

impl Serialize for IdNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.value)
    }
}

/// Deserializing re-validates everything except "not in the future": stored numbers were
/// checked against the date they were entered, and deserialization has no `today`.
impl<'de> Deserialize<'de> for IdNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        IdNumber::parse(&s, NaiveDate::MAX).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
    }

    #[test]
    fn parses_the_standard_example() {
        let id = IdNumber::parse("11010519491231002X", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.kind(), IdKind::Resident);
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.masked(), "110105********002X");
        assert_eq!(mask("11010519491231002X"), id.masked());
        assert_eq!(id.age_on(today()), 76);
        assert!(!format!("{id:?}").contains("19491231"));
    }

    #[test]
    fn lower_case_x_whitespace_and_full_width_are_normalized() {
        let id = IdNumber::parse("  11010519491231002x\n", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        let id = IdNumber::parse("１１０１０５１９４９１２３１００２Ｘ", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        let id = IdNumber::parse("110105 19491231 002x", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    #[test]
    fn each_rejection_says_what_is_wrong() {
        let t = today();
        assert_eq!(IdNumber::parse("   ", t), Err(IdError::Empty));
        assert_eq!(
            IdNumber::parse("1101051949123100", t),
            Err(IdError::Length { got: 16 })
        );
        assert_eq!(
            IdNumber::parse("1101051949123100A2", t),
            Err(IdError::InvalidChar {
                position: 17,
                ch: 'A'
            })
        );
        assert_eq!(
            IdNumber::parse("X10105194912310021", t),
            Err(IdError::InvalidChar {
                position: 1,
                ch: 'X'
            })
        );
        assert_eq!(
            IdNumber::parse("99010519491231002X", t).unwrap_err().code(),
            "id_number_region"
        );
        assert_eq!(
            IdNumber::parse("00010519491231002X", t),
            Err(IdError::Region {
                code: "000105".into()
            })
        );
        assert_eq!(
            IdNumber::parse("110105194902300021", t),
            Err(IdError::BirthDate {
                date: "19490230".into(),
                problem: DateProblem::DoesNotExist
            })
        );
        assert_eq!(
            IdNumber::parse("110105189912310021", t).unwrap_err(),
            IdError::BirthDate {
                date: "18991231".into(),
                problem: DateProblem::Before1900
            }
        );
        assert_eq!(
            IdNumber::parse("110105203001010021", t).unwrap_err(),
            IdError::BirthDate {
                date: "20300101".into(),
                problem: DateProblem::InFuture
            }
        );
        assert_eq!(
            IdNumber::parse("110105194912310021", t),
            Err(IdError::CheckDigit {
                expected: 'X',
                got: '1'
            })
        );
    }

    #[test]
    fn messages_are_specific_in_both_languages() {
        let e = IdNumber::parse("110105194912310021", today()).unwrap_err();
        assert!(e.message_zh().contains("“X”") && e.message_zh().contains("“1”"));
        assert!(e.message_en().contains("should be X"));
        let e = IdNumber::parse("110105491231002", today()).unwrap_err();
        assert_eq!(e, IdError::Length { got: 15 });
        assert!(e.message_zh().contains("第一代") && e.message_en().contains("first-generation"));
        let e = IdNumber::parse("12345", today()).unwrap_err();
        assert!(e.message_zh().contains('5') && e.message_en().contains('5'));
    }

    fn with_check(first17: &str) -> String {
        format!("{first17}{}", check_char(first17).unwrap())
    }

    #[test]
    fn permits_and_foreign_ids() {
        let t = today();
        let hk = IdNumber::parse(&with_check("81000019990101001"), t).unwrap();
        assert_eq!(hk.kind(), IdKind::HongKongPermit);
        assert_eq!(hk.sex(), Sex::Male);
        let mo = IdNumber::parse(&with_check("82000020000229002"), t).unwrap();
        assert_eq!(mo.kind(), IdKind::MacauPermit);
        let tw = IdNumber::parse(&with_check("83000019850615003"), t).unwrap();
        assert_eq!(tw.kind(), IdKind::TaiwanPermit);
        let fp = IdNumber::parse(&with_check("93115619900101004"), t).unwrap();
        assert_eq!(fp.kind(), IdKind::ForeignPermanent);
        assert_eq!(
            fp.birth_date(),
            NaiveDate::from_ymd_opt(1990, 1, 1).unwrap()
        );
        // 81 is only valid as the exact permit prefix.
        assert_eq!(
            IdNumber::parse(&with_check("81010119990101001"), t).unwrap_err(),
            IdError::Region {
                code: "810101".into()
            }
        );
        // Foreign IDs carry the issuing province in digits 2-3.
        assert_eq!(
            IdNumber::parse(&with_check("90015619900101004"), t)
                .unwrap_err()
                .code(),
            "id_number_region"
        );
    }

    #[test]
    fn serde_round_trip() {
        let id = IdNumber::parse("11010519491231002X", today()).unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"11010519491231002X\"");
        assert_eq!(serde_json::from_str::<IdNumber>(&json).unwrap(), id);
        assert!(serde_json::from_str::<IdNumber>("\"110105194912310021\"").is_err());
    }

    #[test]
    fn short_or_odd_readings_never_show_more_than_head_and_tail() {
        assert_eq!(mask(""), "");
        assert_eq!(mask("123"), "***");
        assert_eq!(mask("1234567890"), "**********");
        assert_eq!(mask("12345678901"), "123456*8901");
        assert_eq!(mask("一二三四五六七八九十甲"), "一二三四五六*八九十甲");
    }
}
