//! Fuzzing of the roster import (`parse_roster_csv`), the file an administrator uploads as it
//! came from a school office. Seeds are real rosters in the shapes the parser accepts (Chinese and
//! English headers and their aliases, comma, tab and semicolon separated, quoted cells, blank
//! rows, bad rows); each case mutates one as a grid of cells (header aliases, valid and broken ID
//! numbers, years, quotes, separators, line breaks, invisible and over-long text), writes it in
//! UTF-8, UTF-8 with BOM, GBK or UTF-16, and sometimes mutates the bytes blindly.
//!
//! Properties: never panics; an accepted roster holds only rows that meet the field bounds of
//! `domain::text`, carry a valid ID number and year, repeat no ID number or student number, and
//! read back the same when written out again (UTF-8 and GBK); a refused one names at least one
//! problem, each on a line of the file.
//!
//! `GRADPHOTO_FUZZ_CASES=1000000 cargo test --release -p gradphoto-domain --test fuzz_roster`
//! (docs/fuzzing.md).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

#[path = "../../../tests/fuzz/support.rs"]
mod fuzz;

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use fuzz::{check, Tape};
use gradphoto_domain::idnumber::{check_char, IdNumber};
use gradphoto_domain::roster::{parse_roster_csv, RosterRecord};
use gradphoto_domain::text::{self, Limit};
use proptest::test_runner::TestCaseResult;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

fn valid_id(prefix: &str, birth: &str, seq: u32) -> String {
    let first17 = format!("{prefix}{birth}{:03}", seq % 1000);
    format!("{first17}{}", check_char(&first17).unwrap())
}

/// A roster as cells, and how it is written out.
#[derive(Debug, Clone)]
struct Grid {
    rows: Vec<Vec<String>>,
    delimiter: char,
    line_end: &'static str,
    /// 0: quote only what needs it, 1: quote everything, 2: never quote.
    quoting: u8,
    encoding: Encoding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf8Bom,
    Gbk,
    Utf16Le,
    Utf16Be,
}

impl Grid {
    fn new(delimiter: char, rows: &[&[&str]]) -> Grid {
        Grid {
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect(),
            delimiter,
            line_end: "\n",
            quoting: 0,
            encoding: Encoding::Utf8,
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    out.push(self.delimiter);
                }
                let needs = cell.contains(['"', '\n', '\r', self.delimiter]);
                if self.quoting == 1 || (self.quoting == 0 && needs) {
                    out.push('"');
                    out.push_str(&cell.replace('"', "\"\""));
                    out.push('"');
                } else {
                    out.push_str(cell);
                }
            }
            out.push_str(self.line_end);
        }
        out
    }

    fn bytes(&self) -> Vec<u8> {
        let text = self.text();
        match self.encoding {
            Encoding::Utf8 => text.into_bytes(),
            Encoding::Utf8Bom => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
            Encoding::Gbk => encoding_rs::GB18030.encode(&text).0.into_owned(),
            Encoding::Utf16Le => {
                let mut b = vec![0xFF, 0xFE];
                text.encode_utf16()
                    .for_each(|u| b.extend_from_slice(&u.to_le_bytes()));
                b
            }
            Encoding::Utf16Be => {
                let mut b = vec![0xFE, 0xFF];
                text.encode_utf16()
                    .for_each(|u| b.extend_from_slice(&u.to_be_bytes()));
                b
            }
        }
    }
}

const ZH_HEADER: &[&str] = &[
    "姓名",
    "身份证号",
    "学号",
    "学校",
    "院系",
    "专业",
    "层次",
    "毕业年份",
    "学籍照片",
];

/// Rosters as school offices export them (the shapes of the parser's own unit tests).
fn seeds() -> Vec<Grid> {
    let a = valid_id("440305", "20030615", 101);
    let b = valid_id("110105", "20040229", 202);
    let c = valid_id("810000", "20021231", 303);
    let d = valid_id("937100", "20010101", 404);
    let e = valid_id("320102", "19990101", 7).to_lowercase();
    let zh = Grid::new(
        ',',
        &[
            ZH_HEADER,
            &[
                "张三",
                &a,
                "2022001",
                "深圳大学",
                "计算机与软件学院",
                "软件工程",
                "本科",
                "2026",
                "",
            ],
            &[
                "李四",
                &b,
                "2022002",
                "深圳大学",
                "医学部",
                "临床医学",
                "本科",
                "2026届",
                "photos/2022002.jpg",
            ],
            &[
                "欧阳娜娜",
                &c,
                "2022003",
                "深圳大学, 南校区",
                "外国语学院",
                "英语",
                "硕士",
                "2027年",
                "",
            ],
        ],
    );
    let mut en = Grid::new(
        ',',
        &[
            &[
                "\u{FEFF} Name ",
                " ID_Number",
                "Student No",
                "SCHOOL",
                "college",
                "Major",
                "level",
                " graduation_year ",
            ],
            &[
                "Wang Wu", &e, "S1", "Tsinghua", "CS", "AI", "master", "2027",
            ],
            &[
                "Anna Müller",
                &d,
                "S2",
                "Tsinghua",
                "Physics",
                "Optics",
                "doctor",
                "2026",
            ],
        ],
    );
    en.line_end = "\r\n";
    let mut aliases = Grid::new(
        '\t',
        &[
            &[
                "学生姓名",
                "身份证号码（必填）",
                "学号*",
                "学校名称",
                "学院",
                "专业名称",
                "培养层次",
                "毕业年度",
                "照片",
            ],
            &[
                "赵六",
                &valid_id("330106", "20030308", 505),
                "7",
                "北京大学",
                "数学科学学院",
                "统计学",
                "博士",
                "2026",
                "p/7.png",
            ],
        ],
    );
    aliases.encoding = Encoding::Utf16Le;
    let mut semi = Grid::new(
        ';',
        &[
            &[
                "fullname",
                "idcard",
                "studentid",
                "university",
                "faculty",
                "programme",
                "degreelevel",
                "gradyear",
                "enrollmentphoto",
            ],
            &[
                "Ma Li",
                &valid_id("510104", "20020720", 606),
                "A-1",
                "Sichuan",
                "Arts",
                "Design",
                "bachelor",
                "2026",
                "",
            ],
            &["", "", "", "", "", "", "", "", ""],
            &[
                "Li Lei",
                &valid_id("510104", "20020721", 607),
                "A-2",
                "Sichuan",
                "Arts",
                "Design",
                "bachelor",
                "2025",
                "",
                "",
            ],
        ],
    );
    semi.encoding = Encoding::Gbk;
    let bad = Grid::new(
        ',',
        &[
            ZH_HEADER,
            &["甲", &a, "1", "深圳大学", "a", "b", "本科", "2026", ""],
            &[
                "乙",
                "440305200306151011",
                "2",
                "深圳大学",
                "a",
                "b",
                "本科",
                "2026",
                "",
            ],
            &["丙", &a, "3", "深圳大学", "a", "b", "本科", "2026", ""],
            &["丁", &b, "1", "深圳大学", "a", "b", "本科", "2026", ""],
            &["", &c, "4", "深圳大学", "a", "b", "本科", "2026", ""],
            &["戊", &d, "5", "深圳大学", "a", "b", "本科", "26", ""],
            &["己", "1", "2"],
        ],
    );
    let header_only = Grid::new(',', &[ZH_HEADER]);
    vec![zh, en, aliases, semi, bad, header_only]
}

const PREFIXES: [&str; 6] = ["110105", "440305", "810000", "820000", "830000", "911000"];
const BIRTHS: [&str; 4] = ["20030615", "19000101", "20260601", "20000229"];

/// Cell values that take the parser down its edge paths.
fn token(tape: &mut Tape) -> String {
    let alias = [
        "姓名",
        "身份证号",
        "学号",
        "学校",
        "院系",
        "专业",
        "层次",
        "毕业年份",
        "学籍照片",
        "name",
        "id_number",
        "Student No",
        "school",
        "college",
        "major",
        "level",
        "graduation_year",
        "photo",
        "专业（必填）",
        "备注",
        "(",
        "（",
    ];
    match tape.below(24) {
        0 => tape.pick(&alias).to_string(),
        1 => valid_id(
            PREFIXES[tape.below(PREFIXES.len())],
            BIRTHS[tape.below(BIRTHS.len())],
            u32::from(tape.u16()),
        ),
        2 => valid_id("440305", "20030615", u32::from(tape.byte())).to_lowercase(),
        3 => tape
            .pick(&[
                "440305200306151011",
                "44030520030615101",
                "440305200306151O1X",
                "000000200306151011",
                "440305200302301011",
                "440305209906151011",
                "11010519491231002X",
                "１１０１０５１９４９１２３１００２Ｘ",
                "110105 19491231 002x",
                "",
            ])
            .to_string(),
        4 => tape
            .pick(&[
                "2026", "2026届", "2026年", "1949", "1950", "2036", "2037", "26", "０", "-1",
                "65536", "2026 届", "",
            ])
            .to_string(),
        5 => "\"".to_string(),
        6 => tape.pick(&[",", "\t", ";", "\n", "\r\n", "\r"]).to_string(),
        7 => {
            let c = *tape.pick(&['a', '张', '·', ' ', '"', '\u{FEFF}', '😀']);
            std::iter::repeat_n(c, tape.below(300)).collect()
        }
        8 => tape
            .pick(&[
                "\u{0}", "\u{200B}", "\u{202E}", "\u{AD}", "\u{7}", "\u{85}", "\u{2028}",
            ])
            .to_string(),
        9 => tape.pick(&[" ", "  ", "\u{3000}", "\u{A0}"]).to_string(),
        10 => String::from_utf8_lossy(&tape.bytes(12)).into_owned(),
        11 => char::from_u32(tape.u32() % 0x11_0000)
            .unwrap_or('\u{FFFD}')
            .to_string(),
        _ => String::new(),
    }
}

fn mutate_cell(cell: &mut String, tape: &mut Tape) {
    let mut chars: Vec<char> = cell.chars().collect();
    let at = tape.below(chars.len() + 1);
    match tape.below(6) {
        0 => *cell = token(tape),
        1 if at < chars.len() => {
            chars.remove(at);
            *cell = chars.into_iter().collect();
        }
        2 => {
            let t = token(tape);
            chars.splice(at..at, t.chars());
            *cell = chars.into_iter().collect();
        }
        3 => cell.push_str(&token(tape)),
        4 => *cell = format!(" {} ", cell),
        _ => {}
    }
}

fn mutate(grid: &mut Grid, tape: &mut Tape) {
    for _ in 0..tape.below(9) {
        let rows = grid.rows.len();
        let r = tape.below(rows);
        match tape.below(14) {
            0..=4 if rows > 0 => {
                let row = &mut grid.rows[r];
                let c = tape.below(row.len());
                if let Some(cell) = row.get_mut(c) {
                    mutate_cell(cell, tape);
                }
            }
            5 if rows > 0 => {
                grid.rows.remove(r);
            }
            6 if rows > 0 => {
                let copy = grid.rows[r].clone();
                let to = tape.below(rows + 1);
                grid.rows.insert(to, copy);
            }
            7 if rows > 1 => {
                let s = tape.below(rows);
                grid.rows.swap(r, s);
            }
            8 => {
                let c = tape.below(10);
                for row in &mut grid.rows {
                    if c < row.len() {
                        row.remove(c);
                    }
                }
            }
            9 if rows > 0 => {
                let row = &mut grid.rows[r];
                let at = tape.below(row.len() + 1);
                row.insert(at, token(tape));
            }
            10 => grid
                .rows
                .insert(r.min(rows), vec![String::new(); tape.below(10)]),
            11 => grid.delimiter = *tape.pick(&[',', '\t', ';', '|', ' ']),
            12 => grid.line_end = *tape.pick(&["\n", "\r\n", "\r", "\n\n"]),
            13 => grid.quoting = tape.byte() % 3,
            _ => {}
        }
    }
    if tape.chance(30) {
        grid.encoding = *tape.pick(&[
            Encoding::Utf8,
            Encoding::Utf8Bom,
            Encoding::Gbk,
            Encoding::Utf16Le,
            Encoding::Utf16Be,
        ]);
    }
}

fn input(seeds: &[Grid], index: usize, tape: &Tape) -> Vec<u8> {
    let mut tape = tape.clone();
    let mut grid = seeds[index].clone();
    mutate(&mut grid, &mut tape);
    let mut bytes = grid.bytes();
    let others: Vec<Vec<u8>> = seeds.iter().map(Grid::bytes).collect();
    let others: Vec<&[u8]> = others.iter().map(Vec::as_slice).collect();
    let dict: &[&[u8]] = &[
        b"\"",
        b",",
        b"\r\n",
        b"\xEF\xBB\xBF",
        b"\xFF\xFE",
        b"\x00",
        "身份证号".as_bytes(),
        b"\xB9\xFE", // half of a GBK character
        b"\x81\x30\x81\x30",
    ];
    fuzz::havoc(&mut bytes, &mut tape, 4, dict, &others);
    bytes
}

const TEXT_FIELDS: [(&str, Limit); 6] = [
    ("name", text::PERSON_NAME),
    ("student_no", text::LABEL),
    ("school", text::LABEL),
    ("college", text::LABEL),
    ("major", text::LABEL),
    ("level", text::LABEL),
];

fn fields(r: &RosterRecord) -> [&str; 6] {
    [
        &r.name,
        &r.student_no,
        &r.school,
        &r.college,
        &r.major,
        &r.level,
    ]
}

/// What an accepted roster must be.
fn accepted(records: &[RosterRecord]) -> TestCaseResult {
    check(!records.is_empty(), || "accepted with no rows".into())?;
    let mut ids = HashSet::new();
    let mut numbers = HashSet::new();
    for r in records {
        for ((field, limit), value) in TEXT_FIELDS.iter().zip(fields(r)) {
            check(!value.is_empty() && value.trim() == value, || {
                format!("{field} {value:?} is empty or untrimmed")
            })?;
            check(limit.check(value).is_ok(), || {
                format!("{field} {value:?} breaks its text bound")
            })?;
        }
        if let Some(photo) = &r.enrollment_photo {
            check(
                !photo.is_empty() && Limit::new("enrollment_photo", 256).check(photo).is_ok(),
                || format!("enrollment photo {photo:?} breaks its bound"),
            )?;
        }
        let reparsed = IdNumber::parse(r.id_number.as_str(), today());
        check(reparsed.as_ref() == Ok(&r.id_number), || {
            format!("ID number does not parse back: {reparsed:?}")
        })?;
        check(
            (1950..=today().year() + 10).contains(&i32::from(r.graduation_year)),
            || format!("year {} out of range", r.graduation_year),
        )?;
        check(ids.insert(r.id_number.as_str().to_string()), || {
            "duplicate ID number accepted".into()
        })?;
        check(
            numbers.insert((r.school.clone(), r.student_no.clone())),
            || "duplicate student number accepted".into(),
        )?;
    }
    // Written out again (as an export would), the roster reads back the same, in UTF-8 and,
    // when GBK holds the text and its bytes cannot be mistaken for UTF-8, in GBK.
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "name",
        "id_number",
        "student_no",
        "school",
        "college",
        "major",
        "level",
        "graduation_year",
        "enrollment_photo",
    ])
    .unwrap();
    for r in records {
        let year = r.graduation_year.to_string();
        let photo = r.enrollment_photo.clone().unwrap_or_default();
        let mut row: Vec<&str> = fields(r).to_vec();
        row.insert(1, r.id_number.as_str());
        row.extend([year.as_str(), photo.as_str()]);
        w.write_record(&row).unwrap();
    }
    let utf8 = w.into_inner().unwrap();
    let again = parse_roster_csv(&utf8, today());
    check(again.as_deref() == Ok(records), || {
        format!("written out and read back differs: {again:?}")
    })?;
    let text = String::from_utf8(utf8).unwrap();
    let (gbk, _, _) = encoding_rs::GB18030.encode(&text);
    // Some private-use characters do not come back from GB18030 as they went in (the WHATWG
    // mapping); only text GBK carries unchanged is compared.
    let (back, lossy) = encoding_rs::GB18030.decode_without_bom_handling(&gbk);
    if !lossy && back == text.as_str() && std::str::from_utf8(&gbk).is_err() {
        let again = parse_roster_csv(&gbk, today());
        check(again.as_deref() == Ok(records), || {
            format!("written out in GBK and read back differs: {again:?}")
        })?;
    }
    Ok(())
}

fn refused(bytes: &[u8], errors: &[gradphoto_domain::roster::RosterRowError]) -> TestCaseResult {
    check(!errors.is_empty(), || "refused without a problem".into())?;
    // Lines counted generously (any line break style); a problem is never past the end.
    let breaks = bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64;
    let keys = [
        "name",
        "id_number",
        "student_no",
        "school",
        "college",
        "major",
        "level",
        "graduation_year",
        "enrollment_photo",
    ];
    for e in errors {
        check(e.line >= 1 && e.line <= breaks + 1, || {
            format!(
                "problem on line {} of a file with {breaks} line breaks",
                e.line
            )
        })?;
        check(!e.message_zh.is_empty() && !e.message_en.is_empty(), || {
            "a problem without a message".into()
        })?;
        check(e.field.as_deref().is_none_or(|f| keys.contains(&f)), || {
            format!("unknown field {:?}", e.field)
        })?;
    }
    Ok(())
}

#[test]
fn rosters_never_panic_and_accept_only_bounded_valid_rows() {
    let seeds = seeds();
    let n = seeds.len();
    fuzz::run(
        "roster",
        fuzz::cases(3000),
        fuzz::case(n, 160),
        |(i, tape)| input(&seeds, *i, tape),
        |(i, tape)| {
            let bytes = input(&seeds, i, &tape);
            match parse_roster_csv(&bytes, today()) {
                Ok(records) => accepted(&records),
                Err(errors) => refused(&bytes, &errors),
            }
        },
    );
}

#[test]
fn every_seed_reads_as_expected() {
    let seeds = seeds();
    let rows = |i: usize| parse_roster_csv(&seeds[i].bytes(), today()).map(|r| r.len());
    assert_eq!(rows(0), Ok(3));
    assert_eq!(rows(1), Ok(2));
    assert_eq!(rows(2), Ok(1));
    assert_eq!(rows(3), Ok(2));
    assert_eq!(
        parse_roster_csv(&seeds[4].bytes(), today())
            .unwrap_err()
            .len(),
        6
    );
    assert!(rows(5).is_err());
}
