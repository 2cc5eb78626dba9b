//! Roster import (学籍名单).

//!
//! Accepts what school offices actually export: UTF-8 with or without BOM, UTF-16 with BOM, or
//! GBK/GB18030 (Excel on Chinese Windows); comma, tab or semicolon separated; Chinese or
//! English headers. Every problem is reported with its line, not just the first.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use encoding_rs::{Encoding, GB18030};
use serde::{Deserialize, Serialize};

use crate::idnumber::IdNumber;
use crate::text::{self, Limit, Unit};
use crate::Localized;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterRecord {
    pub name: String,
    pub id_number: IdNumber,
    pub student_no: String,
    pub school: String,
    pub college: String,
    pub major: String,
    pub level: String,
    pub graduation_year: u16,
    pub enrollment_photo: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RosterErrorCode {
    Encoding,
    MalformedCsv,
    EmptyFile,
    MissingHeader,
    DuplicateHeader,
    ColumnCount,
    MissingField,
    InvalidIdNumber,
    DuplicateIdNumber,
    DuplicateStudentNo,
    BadGraduationYear,
    /// A text cell longer than its field holds (`domain::text`).
    FieldTooLong,
    /// A text cell holding a control or invisible character.
    FieldBadChar,
    /// A name or label starting like a spreadsheet formula (`=`, `+`, `-`, `@`).
    FieldFormula,
}

impl RosterErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RosterErrorCode::Encoding => "roster_encoding",
            RosterErrorCode::MalformedCsv => "roster_malformed_csv",
            RosterErrorCode::EmptyFile => "roster_empty_file",
            RosterErrorCode::MissingHeader => "roster_missing_header",
            RosterErrorCode::DuplicateHeader => "roster_duplicate_header",
            RosterErrorCode::ColumnCount => "roster_column_count",
            RosterErrorCode::MissingField => "roster_missing_field",
            RosterErrorCode::InvalidIdNumber => "roster_invalid_id_number",
            RosterErrorCode::DuplicateIdNumber => "roster_duplicate_id_number",
            RosterErrorCode::DuplicateStudentNo => "roster_duplicate_student_no",
            RosterErrorCode::BadGraduationYear => "roster_bad_graduation_year",
            RosterErrorCode::FieldTooLong => "roster_field_too_long",
            RosterErrorCode::FieldBadChar => "roster_field_bad_char",
            RosterErrorCode::FieldFormula => "roster_field_formula",
        }
    }
}

/// One problem in a roster file. `line` is the 1-based line in the file (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("line {line}: {message_en}")]
pub struct RosterRowError {
    pub line: u64,
    pub field: Option<String>,
    pub code: RosterErrorCode,
    pub message_zh: String,
    pub message_en: String,
}

impl Localized for RosterRowError {
    fn code(&self) -> &'static str {
        self.code.as_str()
    }
    fn message_zh(&self) -> String {
        self.message_zh.clone()
    }
    fn message_en(&self) -> String {
        self.message_en.clone()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Name,
    IdNumber,
    StudentNo,
    School,
    College,
    Major,
    Level,
    GraduationYear,
    EnrollmentPhoto,
}

impl Column {
    const ALL: [Column; 9] = [
        Column::Name,
        Column::IdNumber,
        Column::StudentNo,
        Column::School,
        Column::College,
        Column::Major,
        Column::Level,
        Column::GraduationYear,
        Column::EnrollmentPhoto,
    ];

    fn key(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::IdNumber => "id_number",
            Column::StudentNo => "student_no",
            Column::School => "school",
            Column::College => "college",
            Column::Major => "major",
            Column::Level => "level",
            Column::GraduationYear => "graduation_year",
            Column::EnrollmentPhoto => "enrollment_photo",
        }
    }

    fn label_zh(self) -> &'static str {
        match self {
            Column::Name => "姓名",
            Column::IdNumber => "身份证号",
            Column::StudentNo => "学号",
            Column::School => "学校",
            Column::College => "院系",
            Column::Major => "专业",
            Column::Level => "层次",
            Column::GraduationYear => "毕业年份",
            Column::EnrollmentPhoto => "学籍照片",
        }
    }

    fn required(self) -> bool {
        self != Column::EnrollmentPhoto
    }

    /// The bounds of a text column, the same as a request carrying the value would meet
    /// (`domain::text`); the ID number and the year are parsed instead.
    fn text_limit(self) -> Option<Limit> {
        match self {
            Column::Name => Some(text::PERSON_NAME),
            Column::IdNumber | Column::GraduationYear => None,
            Column::StudentNo => Some(text::LABEL.named("student_no")),
            Column::School => Some(text::LABEL.named("school")),
            Column::College => Some(text::LABEL.named("college")),
            Column::Major => Some(text::LABEL.named("major")),
            Column::Level => Some(text::LABEL.named("level")),
            // A file name or object key, not a label.
            Column::EnrollmentPhoto => Some(Limit::new("enrollment_photo", 256)),
        }
    }

    /// Names and labels, shown in spreadsheets; a photo path is a file name.
    fn refuses_formulas(self) -> bool {
        self.text_limit().is_some() && self != Column::EnrollmentPhoto
    }

    /// Header spellings seen in school exports, in normalized form (see `normalize_header`).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::Name => &["姓名", "学生姓名", "name", "studentname", "fullname"],
            Column::IdNumber => &[
                "身份证号",
                "身份证号码",
                "身份证",
                "证件号码",
                "证件号",
                "idnumber",
                "idno",
                "idcard",
                "idcardnumber",
            ],
            Column::StudentNo => &["学号", "studentno", "studentnumber", "studentid"],
            Column::School => &[
                "学校",
                "学校名称",
                "院校",
                "院校名称",
                "school",
                "university",
            ],
            Column::College => &[
                "院系",
                "学院",
                "院系名称",
                "college",
                "department",
                "faculty",
            ],
            Column::Major => &["专业", "专业名称", "major", "programme", "program"],
            Column::Level => &["层次", "培养层次", "学历层次", "level", "degreelevel"],
            Column::GraduationYear => &[
                "毕业年份",
                "毕业年度",
                "毕业年",
                "graduationyear",
                "gradyear",
            ],
            Column::EnrollmentPhoto => &["学籍照片", "照片", "enrollmentphoto", "photo"],
        }
    }
}

/// Lower-cases, drops whitespace, `_`, `-`, a trailing `*` and a parenthesised note such as
/// `（必填）`, so `Student No`, `student_no` and `学号*` all match.
fn normalize_header(h: &str) -> String {
    let mut s: String = h
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
        .to_string();
    for (open, close) in [('(', ')'), ('（', '）')] {
        if let (Some(a), Some(b)) = (s.find(open), s.rfind(close)) {
            if a < b {
                s.replace_range(a..b + close.len_utf8(), "");
            }
        }
    }
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '*' | '\u{FEFF}'))
        .flat_map(char::to_lowercase)
        .collect()
}

fn header_column(h: &str) -> Option<Column> {
    let n = normalize_header(h);
    Column::ALL
        .into_iter()
        .find(|c| c.aliases().contains(&n.as_str()))
}

fn error(
    line: u64,
    field: Option<Column>,
    code: RosterErrorCode,
    message_zh: String,
    message_en: String,
) -> RosterRowError {
    RosterRowError {
        line,
        field: field.map(|c| c.key().to_string()),
        code,
        message_zh,
        message_en,
    }
}

fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, RosterRowError> {
    let fail = |name: &str| {
        error(
            1,
            None,
            RosterErrorCode::Encoding,
            format!("文件编码无法识别（按 {name} 解码失败），请另存为 UTF-8 或 GBK 编码的 CSV 文件。"),
            format!("The file encoding is not recognised (decoding as {name} failed); save it as CSV in UTF-8 or GBK."),
        )
    };
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let rest = bytes.get(bom_len..).unwrap_or_default();
        let (text, had_errors) = encoding.decode_without_bom_handling(rest);
        return if had_errors {
            Err(fail(encoding.name()))
        } else {
            Ok(text)
        };
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    let (text, had_errors) = GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        Err(fail("GB18030"))
    } else {
        Ok(text)
    }
}

/// Picks the separator from the header line: comma unless the header has none and uses tabs
/// (Excel "Unicode text") or semicolons (some European locales).
fn detect_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    if header.contains(',') {
        b','
    } else if header.contains('\t') {
        b'\t'
    } else if header.contains(';') {
        b';'
    } else {
        b','
    }
}

/// The csv crate reads an unterminated quoted field silently to the end of the file; find it
/// first so the user learns where the stray quote is.
fn find_unterminated_quote(text: &str, delimiter: char) -> Option<u64> {
    let mut line = 1u64;
    let mut in_quotes = false;
    let mut at_field_start = true;
    let mut opened_at = 0u64;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                }
                '"' => in_quotes = false,
                '\n' => line += 1,
                _ => {}
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                in_quotes = true;
                opened_at = line;
                at_field_start = false;
            }
            '\n' => {
                line += 1;
                at_field_start = true;
            }
            '\r' => {}
            c if c == delimiter => at_field_start = true,
            _ => at_field_start = false,
        }
    }
    in_quotes.then_some(opened_at)
}

fn parse_year(raw: &str, today: NaiveDate) -> Option<u16> {
    // "2026届" and "2026年" are common in Chinese rosters.
    let digits = raw.trim().trim_end_matches(['届', '年']).trim();
    let year: u16 = digits.parse().ok()?;
    let max = u16::try_from(today.year() + 10).ok()?;
    (1950..=max).contains(&year).then_some(year)
}

/// Parses a roster CSV. All problems are collected; records are returned only if there are none.
pub fn parse_roster_csv(
    bytes: &[u8],
    today: NaiveDate,
) -> Result<Vec<RosterRecord>, Vec<RosterRowError>> {
    let text = decode(bytes).map_err(|e| vec![e])?;
    let delimiter = detect_delimiter(&text);
    if let Some(line) = find_unterminated_quote(&text, char::from(delimiter)) {
        return Err(vec![error(
            line,
            None,
            RosterErrorCode::MalformedCsv,
            format!("第 {line} 行的引号没有闭合，请检查该行是否多了或少了一个英文双引号（\"）。"),
            format!("The quote opened on line {line} is never closed; check that line for a stray or missing double quote (\")."),
        )]);
    }

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut records = reader.records();

    let malformed = |e: &csv::Error| {
        let line = e.position().map_or(1, csv::Position::line);
        error(
            line,
            None,
            RosterErrorCode::MalformedCsv,
            format!("第 {line} 行无法按 CSV 格式读取，请用表格软件重新导出为 CSV 文件。"),
            format!("Line {line} is not valid CSV ({e}); export the sheet as CSV again."),
        )
    };

    let header = loop {
        match records.next() {
            None => {
                return Err(vec![error(
                    1,
                    None,
                    RosterErrorCode::EmptyFile,
                    "文件是空的，没有表头和数据。".to_string(),
                    "The file is empty: no header and no rows.".to_string(),
                )])
            }
            Some(Err(e)) => return Err(vec![malformed(&e)]),
            Some(Ok(r)) if r.iter().all(|f| f.trim().is_empty()) => continue,
            Some(Ok(r)) => break r,
        }
    };
    let header_line = header.position().map_or(1, csv::Position::line);

    let mut errors = Vec::new();
    let mut index: HashMap<Column, usize> = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        let Some(col) = header_column(h) else {
            continue;
        };
        if index.insert(col, i).is_some() {
            errors.push(error(
                header_line,
                Some(col),
                RosterErrorCode::DuplicateHeader,
                format!(
                    "表头中“{}”列出现了不止一次，请删除重复的列。",
                    col.label_zh()
                ),
                format!(
                    "The column {} appears more than once in the header; remove the duplicate.",
                    col.key()
                ),
            ));
        }
    }
    for col in Column::ALL.into_iter().filter(|c| c.required()) {
        if !index.contains_key(&col) {
            errors.push(error(
                header_line,
                Some(col),
                RosterErrorCode::MissingHeader,
                format!("表头缺少“{}”列（也可写作 {}）。", col.label_zh(), col.key()),
                format!(
                    "The header has no {} column (Chinese header: {}).",
                    col.key(),
                    col.label_zh()
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let columns = header.len();

    let mut out = Vec::new();
    let mut seen_ids: HashMap<String, u64> = HashMap::new();
    let mut seen_student_nos: HashMap<(String, String), u64> = HashMap::new();
    for result in records {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                errors.push(malformed(&e));
                break;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let line = record.position().map_or(0, csv::Position::line);
        // Spreadsheets often leave empty trailing cells; only real extra data is an error.
        let extra_is_empty = record.iter().skip(columns).all(|f| f.trim().is_empty());
        if record.len() < columns || !extra_is_empty {
            let got = record.len();
            errors.push(error(
                line,
                None,
                RosterErrorCode::ColumnCount,
                format!("第 {line} 行有 {got} 列，表头有 {columns} 列，请检查是否多了或少了分隔符（逗号）。"),
                format!("Line {line} has {got} columns but the header has {columns}; check for missing or extra separators."),
            ));
            continue;
        }
        let get = |c: Column| -> &str {
            index
                .get(&c)
                .and_then(|&i| record.get(i))
                .map(str::trim)
                .unwrap_or_default()
        };

        let mut row_ok = true;
        for col in Column::ALL.into_iter().filter(|c| c.required()) {
            if get(col).is_empty() {
                row_ok = false;
                errors.push(error(
                    line,
                    Some(col),
                    RosterErrorCode::MissingField,
                    format!("第 {line} 行缺少“{}”。", col.label_zh()),
                    format!("Line {line} has no {}.", col.key()),
                ));
            }
        }

        // Text is kept as imported and shown to students and reviewers: it meets the same
        // bounds as text a request carries (a NUL or a zero-width space from a copied web
        // page would otherwise be stored, and never match what the student types).
        for col in Column::ALL {
            let Some(limit) = col.text_limit() else {
                continue;
            };
            if let Err(e) = limit.check(get(col)) {
                row_ok = false;
                errors.push(if e.unit == Unit::HiddenChar {
                    error(
                        line,
                        Some(col),
                        RosterErrorCode::FieldBadChar,
                        format!("第 {line} 行的“{}”含有控制字符或不可见字符，请删除后重新导出。", col.label_zh()),
                        format!("Line {line}: {} holds a control or invisible character; remove it and export again.", col.key()),
                    )
                } else {
                    error(
                        line,
                        Some(col),
                        RosterErrorCode::FieldTooLong,
                        format!("第 {line} 行的“{}”太长：最多 {} 个字符。", col.label_zh(), e.max),
                        format!("Line {line}: {} is too long (at most {} characters).", col.key(), e.max),
                    )
                });
            } else if col.refuses_formulas() && text::starts_like_formula(get(col)) {
                // Names and labels end up in exports and invite sheets opened in
                // spreadsheets; no real name starts like a formula, so refuse it here
                // rather than carry it (exports escape every cell anyway).
                row_ok = false;
                errors.push(error(
                    line,
                    Some(col),
                    RosterErrorCode::FieldFormula,
                    format!("第 {line} 行的“{}”以 =、+、-、@ 开头，会被表格软件当作公式；请改正后重新导出。", col.label_zh()),
                    format!("Line {line}: {} starts with =, +, - or @, which a spreadsheet runs as a formula; correct it and export again.", col.key()),
                ));
            }
        }

        let raw_id = get(Column::IdNumber);
        let id = if raw_id.is_empty() {
            None
        } else {
            match IdNumber::parse(raw_id, today) {
                Ok(id) => Some(id),
                Err(e) => {
                    row_ok = false;
                    errors.push(error(
                        line,
                        Some(Column::IdNumber),
                        RosterErrorCode::InvalidIdNumber,
                        format!("第 {line} 行身份证号无效：{}", e.message_zh()),
                        format!("Line {line}: invalid ID number: {}", e.message_en()),
                    ));
                    None
                }
            }
        };
        if let Some(id) = &id {
            if let Some(&first) = seen_ids.get(id.as_str()) {
                row_ok = false;
                errors.push(error(
                    line,
                    Some(Column::IdNumber),
                    RosterErrorCode::DuplicateIdNumber,
                    format!(
                        "第 {line} 行的身份证号 {} 与第 {first} 行重复。",
                        id.masked()
                    ),
                    format!(
                        "Line {line}: ID number {} duplicates line {first}.",
                        id.masked()
                    ),
                ));
            } else {
                seen_ids.insert(id.as_str().to_string(), line);
            }
        }

        let school = get(Column::School);
        let student_no = get(Column::StudentNo);
        if !school.is_empty() && !student_no.is_empty() {
            let key = (school.to_string(), student_no.to_string());
            if let Some(&first) = seen_student_nos.get(&key) {
                row_ok = false;
                errors.push(error(
                    line,
                    Some(Column::StudentNo),
                    RosterErrorCode::DuplicateStudentNo,
                    format!("第 {line} 行的学号 {student_no} 在 {school} 中与第 {first} 行重复。"),
                    format!("Line {line}: student number {student_no} duplicates line {first} within {school}."),
                ));
            } else {
                seen_student_nos.insert(key, line);
            }
        }

        let raw_year = get(Column::GraduationYear);
        let year = if raw_year.is_empty() {
            None
        } else {
            let parsed = parse_year(raw_year, today);
            if parsed.is_none() {
                row_ok = false;
                let max = today.year() + 10;
                errors.push(error(
                    line,
                    Some(Column::GraduationYear),
                    RosterErrorCode::BadGraduationYear,
                    format!("第 {line} 行的毕业年份“{raw_year}”无效，应为 1950 至 {max} 之间的四位年份，如 2026。"),
                    format!("Line {line}: graduation year {raw_year:?} is invalid; use a four-digit year from 1950 to {max}, e.g. 2026."),
                ));
            }
            parsed
        };

        if let (true, Some(id_number), Some(graduation_year)) = (row_ok, id, year) {
            let photo = get(Column::EnrollmentPhoto);
            out.push(RosterRecord {
                name: get(Column::Name).to_string(),
                id_number,
                student_no: student_no.to_string(),
                school: school.to_string(),
                college: get(Column::College).to_string(),
                major: get(Column::Major).to_string(),
                level: get(Column::Level).to_string(),
                graduation_year,
                enrollment_photo: (!photo.is_empty()).then(|| photo.to_string()),
            });
        }
    }

    if errors.is_empty() && out.is_empty() {
        errors.push(error(
            header_line,
            None,
            RosterErrorCode::EmptyFile,
            "文件只有表头，没有学生数据。".to_string(),
            "The file has a header but no student rows.".to_string(),
        ));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idnumber::check_char;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
    }

    /// A valid resident ID born on 2003-MM-DD with sequence `seq`.
    fn id(seq: u32) -> String {
        let first17 = format!("44030520030615{seq:03}");
        format!("{first17}{}", check_char(&first17).unwrap())
    }

    fn zh_file(rows: &[String]) -> String {
        let mut s = String::from("姓名,身份证号,学号,学校,院系,专业,层次,毕业年份,学籍照片\n");
        for r in rows {
            s.push_str(r);
            s.push('\n');
        }
        s
    }

    fn row(name: &str, id: &str, no: &str, year: &str) -> String {
        format!("{name},{id},{no},深圳大学,计算机与软件学院,软件工程,本科,{year},")
    }

    fn codes(errs: &[RosterRowError]) -> Vec<(u64, RosterErrorCode)> {
        errs.iter().map(|e| (e.line, e.code)).collect()
    }

    #[test]
    fn parses_utf8_chinese_headers() {
        let text = zh_file(&[
            row("张三", &id(101), "2022001", "2026"),
            format!(
                "李四,{},2022002,深圳大学,医学部,临床医学,本科,2026届,photos/2022002.jpg",
                id(202)
            ),
        ]);
        let records = parse_roster_csv(text.as_bytes(), today()).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].name, "张三");
        assert_eq!(records[0].id_number.as_str(), id(101));
        assert_eq!(records[0].graduation_year, 2026);
        assert_eq!(records[0].enrollment_photo, None);
        assert_eq!(records[1].college, "医学部");
        assert_eq!(
            records[1].enrollment_photo.as_deref(),
            Some("photos/2022002.jpg")
        );
    }

    #[test]
    fn parses_utf8_bom_and_english_headers_with_odd_spacing() {
        let text = format!(
            "\u{FEFF} Name , ID_Number,Student No,SCHOOL,college,Major,level, graduation_year \r\nWang Wu,{},S1,Tsinghua,CS,AI,master,2027\r\n",
            id(303).to_lowercase()
        );
        let records = parse_roster_csv(text.as_bytes(), today()).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].name, "Wang Wu");
        assert_eq!(records[0].level, "master");
        assert_eq!(records[0].graduation_year, 2027);
    }

    #[test]
    fn parses_gbk_encoded_file() {
        let text = zh_file(&[row("欧阳娜娜", &id(404), "2022004", "2026")]);
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&bytes).is_err(), "must really be GBK");
        let records = parse_roster_csv(&bytes, today()).unwrap();
        assert_eq!(records[0].name, "欧阳娜娜");
        assert_eq!(records[0].school, "深圳大学");
        assert_eq!(records[0].major, "软件工程");
    }

    #[test]
    fn parses_utf16_with_bom_and_tabs() {
        let text = format!("姓名\t身份证号\t学号\t学校\t院系\t专业\t层次\t毕业年份\n赵六\t{}\t7\t北京大学\t数学\t统计\t博士\t2026\n", id(505));
        let mut bytes = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let records = parse_roster_csv(&bytes, today()).unwrap();
        assert_eq!(records[0].name, "赵六");
        assert_eq!(records[0].level, "博士");
    }

    #[test]
    fn collects_every_bad_row_with_line_numbers() {
        let text = zh_file(&[
            row("甲", &id(101), "1", "2026"),             // line 2 ok
            row("乙", "440305200306151011", "2", "2026"), // 3 bad check digit
            row("丙", &id(101), "3", "2026"),             // 4 duplicate id of line 2
            row("丁", &id(102), "1", "2026"),             // 5 duplicate student no
            row("", &id(103), "4", "2026"),               // 6 missing name
            row("戊", &id(104), "5", "26"),               // 7 bad year
            "己,1,2".to_string(),                         // 8 column count
            row("庚", &id(105), "6", "2099"),             // 9 year too far
        ]);
        let errs = parse_roster_csv(text.as_bytes(), today()).unwrap_err();
        assert_eq!(
            codes(&errs),
            [
                (3, RosterErrorCode::InvalidIdNumber),
                (4, RosterErrorCode::DuplicateIdNumber),
                (5, RosterErrorCode::DuplicateStudentNo),
                (6, RosterErrorCode::MissingField),
                (7, RosterErrorCode::BadGraduationYear),
                (8, RosterErrorCode::ColumnCount),
                (9, RosterErrorCode::BadGraduationYear),
            ]
        );
        let bad_id = &errs[0];
        assert_eq!(bad_id.field.as_deref(), Some("id_number"));
        assert!(
            bad_id.message_zh.contains("校验位"),
            "{}",
            bad_id.message_zh
        );
        assert!(bad_id.message_en.contains("check digit"));
        assert!(errs[1].message_zh.contains("第 2 行") && errs[1].message_en.contains("line 2"));
        assert!(errs[2].message_en.contains("line 2"));
        assert_eq!(errs[3].field.as_deref(), Some("name"));
        assert_eq!(errs[3].code(), "roster_missing_field");
    }

    #[test]
    fn same_student_no_in_different_schools_is_fine() {
        let text = zh_file(&[
            row("甲", &id(101), "1", "2026"),
            format!("乙,{},1,北京大学,数学学院,数学,本科,2026,", id(102)),
        ]);
        assert_eq!(parse_roster_csv(text.as_bytes(), today()).unwrap().len(), 2);
    }

    #[test]
    fn missing_headers_are_all_reported() {
        let text = format!("姓名,学号,学校,院系,专业\n甲,{},1,a,b\n", id(1));
        let errs = parse_roster_csv(text.as_bytes(), today()).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.clone().unwrap()).collect();
        assert_eq!(fields, ["id_number", "level", "graduation_year"]);
        assert!(errs
            .iter()
            .all(|e| e.line == 1 && e.code == RosterErrorCode::MissingHeader));
    }

    #[test]
    fn duplicate_header_is_reported() {
        let text = "姓名,name,身份证号,学号,学校,院系,专业,层次,毕业年份\n";
        let errs = parse_roster_csv(text.as_bytes(), today()).unwrap_err();
        assert_eq!(codes(&errs), [(1, RosterErrorCode::DuplicateHeader)]);
    }

    #[test]
    fn unbalanced_quote_is_an_error_not_a_panic() {
        let text = zh_file(&[
            row("甲", &id(101), "1", "2026"),
            format!("\"乙,{},2,深圳大学,a,b,本科,2026,", id(102)),
            row("丙", &id(103), "3", "2026"),
        ]);
        let errs = parse_roster_csv(text.as_bytes(), today()).unwrap_err();
        assert_eq!(codes(&errs), [(3, RosterErrorCode::MalformedCsv)]);
    }

    #[test]
    fn quoted_fields_with_commas_and_newlines_keep_line_numbers() {
        let text = zh_file(&[
            format!("甲,{},1,\"深圳大学, 南校区\",a,b,本科,2026,", id(101)),
            format!("\"乙\n二\",{},2,深圳大学,a,b,本科,2026,", id(102)),
            row("丙", "bad", "3", "2026"),
        ]);
        let errs = parse_roster_csv(text.as_bytes(), today()).unwrap_err();
        // A line break inside a name is read as part of the cell (and refused: a name is one
        // line); the rows after it keep their file line numbers.
        assert_eq!(
            codes(&errs),
            [
                (3, RosterErrorCode::FieldBadChar),
                (5, RosterErrorCode::InvalidIdNumber)
            ]
        );
    }

    #[test]
    fn empty_inputs() {
        let errs = parse_roster_csv(b"", today()).unwrap_err();
        assert_eq!(codes(&errs), [(1, RosterErrorCode::EmptyFile)]);
        let header_only = zh_file(&[]);
        let errs = parse_roster_csv(header_only.as_bytes(), today()).unwrap_err();
        assert_eq!(codes(&errs), [(1, RosterErrorCode::EmptyFile)]);
    }

    #[test]
    fn blank_rows_and_trailing_empty_cells_are_tolerated() {
        let text = zh_file(&[
            format!("{},,", row("甲", &id(101), "1", "2026")),
            ",,,,,,,,".to_string(),
            String::new(),
            row("乙", &id(102), "2", "2026年"),
        ]);
        let records = parse_roster_csv(text.as_bytes(), today()).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].graduation_year, 2026);
    }

    #[test]
    fn invalid_bytes_report_encoding() {
        // A UTF-8 BOM followed by invalid UTF-8.
        let errs = parse_roster_csv(&[0xEF, 0xBB, 0xBF, 0xFF, 0xFE, 0xFD], today()).unwrap_err();
        assert_eq!(codes(&errs), [(1, RosterErrorCode::Encoding)]);
    }

    /// Found by fuzzing (crates/domain/tests/fuzz_roster.rs): rows were imported with cells of
    /// any length and with NUL, other control and invisible characters, which requests may not
    /// carry (`domain::text`) and PostgreSQL cannot store (NUL).
    #[test]
    fn imported_text_is_bounded_like_request_text() {
        let longest = "欧".repeat(64);
        let text = zh_file(&[
            row(&longest, &id(101), "1", "2026"), // line 2 ok: 64 characters
            row(&format!("{longest}阳"), &id(102), "2", "2026"), // 3 name too long
            row("张\u{0}三", &id(103), "3", "2026"), // 4 NUL
            format!("李四,{},4,深圳大学,a,软件\u{200B}工程,本科,2026,", id(104)), // 5 ZWSP
            format!("王五,{},5,{},a,b,本科,2026,", id(105), "大".repeat(129)), // 6 school
            format!(
                "赵六,{},6,深圳大学,a,b,本科,2026,{}",
                id(106),
                "p".repeat(257)
            ), // 7 photo
        ]);
        let errs = parse_roster_csv(text.as_bytes(), today()).unwrap_err();
        let got: Vec<_> = errs
            .iter()
            .map(|e| (e.line, e.field.as_deref().unwrap_or_default(), e.code))
            .collect();
        assert_eq!(
            got,
            [
                (3, "name", RosterErrorCode::FieldTooLong),
                (4, "name", RosterErrorCode::FieldBadChar),
                (5, "major", RosterErrorCode::FieldBadChar),
                (6, "school", RosterErrorCode::FieldTooLong),
                (7, "enrollment_photo", RosterErrorCode::FieldTooLong),
            ]
        );
        assert!(errs[0].message_zh.contains("64") && errs[0].message_en.contains("64"));
        assert_eq!(errs[1].code(), "roster_field_bad_char");
        // The longest name that fits is imported.
        let ok = zh_file(&[row(&longest, &id(101), "1", "2026")]);
        assert_eq!(
            parse_roster_csv(ok.as_bytes(), today()).unwrap()[0].name,
            longest
        );
    }

    #[test]
    fn names_and_labels_starting_like_formulas_are_refused_with_their_line() {
        let text = zh_file(&[
            row("王芳", &id(101), "1", "2026"),  // line 2 ok
            row("=1+2", &id(102), "2", "2026"),  // 3
            row("+张三", &id(103), "3", "2026"), // 4
            row("-李四", &id(104), "4", "2026"), // 5
            row("@王五", &id(105), "5", "2026"), // 6
            format!("赵六,{},=1+1,深圳大学,a,b,本科,2026,", id(106)), // 7 student number
            format!("钱七,{},7,深圳大学,a,b,本科,2026,-photo.jpg", id(107)), // 8 a file name: ok
            row("孙-八", &id(108), "8", "2026"), // 9 inside a name: ok
        ]);
        let errs = parse_roster_csv(text.as_bytes(), today()).unwrap_err();
        let got: Vec<_> = errs
            .iter()
            .map(|e| (e.line, e.field.as_deref().unwrap_or_default(), e.code))
            .collect();
        assert_eq!(
            got,
            [
                (3, "name", RosterErrorCode::FieldFormula),
                (4, "name", RosterErrorCode::FieldFormula),
                (5, "name", RosterErrorCode::FieldFormula),
                (6, "name", RosterErrorCode::FieldFormula),
                (7, "student_no", RosterErrorCode::FieldFormula),
            ]
        );
        assert!(errs[0].message_zh.contains("第 3 行") && errs[0].message_en.contains("Line 3"));
        assert_eq!(errs[0].code(), "roster_field_formula");
    }

    #[test]
    fn header_normalization() {
        assert_eq!(header_column(" 身份证号码（必填）"), Some(Column::IdNumber));
        assert_eq!(header_column("学号*"), Some(Column::StudentNo));
        assert_eq!(
            header_column("Graduation Year"),
            Some(Column::GraduationYear)
        );
        assert_eq!(header_column("备注"), None);
    }
}
