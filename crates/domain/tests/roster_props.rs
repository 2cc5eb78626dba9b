//! Roster parsing never panics and reads back what a well-formed file contains.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use chrono::NaiveDate;
use gradphoto_domain::idnumber::check_char;
use gradphoto_domain::roster::parse_roster_csv;
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

fn quote(field: &str) -> String {
    format!("\"{}\"", field.replace('"', "\"\""))
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_roster_csv(&bytes, today());
    }

    #[test]
    fn arbitrary_text_after_a_valid_header_never_panics(body in "[\\PC\\n\",]{0,300}") {
        let text = format!("姓名,身份证号,学号,学校,院系,专业,层次,毕业年份\n{body}");
        let _ = parse_roster_csv(text.as_bytes(), today());
    }

    #[test]
    fn well_formed_rows_round_trip(
        rows in prop::collection::vec(("[\\p{Han}A-Za-z·\" ,]{1,8}", "[\\p{Han}A-Za-z, ]{1,12}"), 1..20),
        gbk in any::<bool>(),
    ) {
        prop_assume!(rows.iter().all(|(n, m)| !n.trim().is_empty() && !m.trim().is_empty()));
        let mut text = String::from("name,id_number,student_no,school,college,major,level,graduation_year\n");
        for (i, (name, major)) in rows.iter().enumerate() {
            let first17 = format!("32010219990101{:03}", i);
            let id = format!("{first17}{}", check_char(&first17).unwrap());
            text.push_str(&format!(
                "{},{id},S{i},南京大学,{},{},本科,2026\n",
                quote(name), quote(major), quote(major)
            ));
        }
        let bytes = if gbk {
            let (b, _, unmappable) = encoding_rs::GB18030.encode(&text);
            prop_assert!(!unmappable);
            b.into_owned()
        } else {
            text.into_bytes()
        };
        let records = parse_roster_csv(&bytes, today()).unwrap();
        prop_assert_eq!(records.len(), rows.len());
        for (r, (name, major)) in records.iter().zip(&rows) {
            prop_assert_eq!(&r.name, name.trim());
            prop_assert_eq!(&r.major, major.trim());
            prop_assert_eq!(&r.college, major.trim());
        }
    }
}
