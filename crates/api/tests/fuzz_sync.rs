//! Fuzzing of what the reviewer workstation decodes from the server: sync pages
//! (`gradphoto_api::sync::SyncPage` with its case changes, leases and decisions), queue pages,
//! review items (with check reports, flags and image references), claims, releases, sign-in
//! answers and error bodies (whose unknown codes must still decode). Seeds are realistic pages;
//! each case mutates one as a JSON tree and as text.
//!
//! Properties: never panics; whatever decodes writes out and reads back the same (floats to the
//! last digit serde_json keeps); an error body with a code this build does not know decodes as
//! `Unknown` and keeps its messages.
//!
//! `GRADPHOTO_FUZZ_CASES=1000000 cargo test --release -p gradphoto-api --test fuzz_sync`
//! (docs/fuzzing.md).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

#[path = "../../../tests/fuzz/support.rs"]
mod fuzz;

use std::fmt::Debug;

use fuzz::check;
use gradphoto_api::common::LoginResponse;
use gradphoto_api::error::{ErrorBody, ErrorCode};
use gradphoto_api::review::{self, QueuePage, Released, ReviewItem};
use gradphoto_api::sync::SyncPage;
use gradphoto_domain::measures::MeasureId;
use gradphoto_domain::state::CaseState;
use proptest::test_runner::TestCaseResult;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

const VERDICTS: [&str; 3] = ["pass", "warn", "fail"];

fn state(s: CaseState) -> Value {
    serde_json::to_value(s).unwrap()
}

fn lease(case: &str) -> Value {
    json!({"case_id": case, "holder": "u-reviewer-1", "until_ms": 1_718_000_300_000i64})
}

fn decision(case: &str, kind: &str, state: CaseState) -> Value {
    json!({
        "decision_id": format!("d-{case}"), "case_id": case, "kind": kind,
        "reasons": if kind.ends_with("reject") { json!(["background", "other"]) } else { json!([]) },
        "comment": if kind.ends_with("reject") { json!("背景不是纯色") } else { Value::Null },
        "reviewer_id": "u-reviewer-1", "reviewer_name": "李老师", "round": 1,
        "decided_at_ms": 1_718_000_100_000i64, "resulting_state": serde_json::to_value(state).unwrap(),
    })
}

/// Pages as a server sends them.
fn seeds() -> Vec<Value> {
    let changes: Vec<Value> = CaseState::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let case = format!("c{i}");
            json!({
                "change_seq": 100 + i as i64, "case_id": case, "school_id": "s1", "state": state(*s),
                "round": 1 + (i % 3) as i64, "flagged": i % 4 == 0, "student_name": "王芳",
                "student_no": format!("2021{i:05}"),
                "submitted_at_ms": if i % 2 == 0 { json!(1_718_000_000_000i64) } else { Value::Null },
                "updated_at_ms": 1_718_000_200_000i64,
                "lease": if *s == CaseState::InReview { lease(&case) } else { Value::Null },
                "latest_decision": match *s {
                    CaseState::Approved => decision(&case, "approve", *s),
                    CaseState::Rejected => decision(&case, "reject", *s),
                    _ => Value::Null,
                },
            })
        })
        .collect();
    let report = json!({
        "measures": MeasureId::ALL.iter().take(6).enumerate().map(|(i, m)| json!({
            "id": serde_json::to_value(m).unwrap(), "raw": if i % 2 == 0 { json!(0.731_234_567_890_123_4) } else { Value::Null },
            "score": if i % 3 == 0 { json!(87) } else { Value::Null },
            "verdict": VERDICTS[i % 3], "status": if i == 5 { "failed_to_assess" } else { "ok" },
            "message_zh": "清晰", "message_en": "Sharp",
        })).collect::<Vec<_>>(),
        "models": [{"name": "blazeface", "sha256": "0f3a"}],
        "config_version": "2024-06-01",
    });
    let item = json!({
        "case_id": "c3", "state": "in_review", "round": 2, "flagged": true,
        "flag": {"measures": ["sharpness", "tinted_glasses"], "face_mismatch": true},
        "submitted_at_ms": 1_718_000_000_000i64, "lease": lease("c3"),
        "student": {
            "name": "王芳", "id_number_masked": "110105********002X", "student_no": "202100001",
            "school_id": "s1", "school_name": "示范大学", "college": "计算机学院", "major": "软件工程",
            "level": "本科", "graduation_year": 2025,
        },
        "attempts": [{"attempt_id": "a1", "round": 1, "status": "checked", "overall": "warn",
                      "face_same_person": false, "created_at_ms": 1_717_999_000_000i64, "submitted": false},
                     {"attempt_id": "a2", "round": 2, "status": "checked", "overall": null,
                      "face_same_person": null, "created_at_ms": 1_717_999_500_000i64, "submitted": true}],
        "decisions": [decision("c3", "reject", CaseState::Rejected), decision("c3", "override_approve", CaseState::Approved)],
        "images": [{"kind": "id_front", "url": "/api/review/items/c3/images/id_front"},
                   {"kind": "standardized", "url": "/api/review/items/c3/images/standardized"},
                   {"kind": "enrollment", "url": "/api/review/items/c3/images/enrollment"}],
        "report": report,
        "face_match": {"same_person": false, "distance": 0.612_345_678_9, "failures": 3},
    });
    vec![
        json!({"changes": changes, "next_cursor": 111, "has_more": true}),
        json!({"changes": [], "next_cursor": 0, "has_more": false}),
        json!({
            "items": [{"case_id": "c1", "school_id": "s1", "school_name": "示范大学", "student_name": "李娜",
                       "student_no": "202100002", "state": "pending_review", "flagged": false, "round": 1,
                       "submitted_at_ms": 1_718_000_000_000i64, "lease_holder": null, "lease_until_ms": null}],
            "next_cursor": "1718000000000.c1", "has_more": true,
            "counts": [{"state": "pending_review", "count": 12}, {"state": "in_review", "count": 2}],
        }),
        item,
        json!({"leases": [lease("c1"), lease("c2")], "lease_seconds": 600}),
        json!({"case_id": "c1", "state": "pending_review"}),
        json!({"code": "lease_expired", "message_zh": "租约已过期", "message_en": "The lease expired.", "field": "case_id"}),
        json!({"code": "a_code_from_a_newer_server", "message_zh": "新错误", "message_en": "A new error.", "retry_after_s": 30}),
        json!({"token": "t0ken", "user": {"id": "u1", "username": "reviewer1", "display_name": "李老师",
               "role": "reviewer", "school_id": null}}),
    ]
}

fn words() -> Vec<String> {
    let mut w: Vec<String> = [
        "changes",
        "next_cursor",
        "has_more",
        "change_seq",
        "case_id",
        "school_id",
        "state",
        "round",
        "flagged",
        "student_name",
        "student_no",
        "submitted_at_ms",
        "updated_at_ms",
        "lease",
        "latest_decision",
        "holder",
        "until_ms",
        "decision_id",
        "kind",
        "reasons",
        "comment",
        "resulting_state",
        "approve",
        "reject",
        "override_approve",
        "override_reject",
        "items",
        "counts",
        "count",
        "flag",
        "measures",
        "face_mismatch",
        "face_unchecked",
        "student",
        "attempts",
        "decisions",
        "images",
        "report",
        "face_match",
        "distance",
        "same_person",
        "failures",
        "id_front",
        "id_back",
        "original",
        "standardized",
        "enrollment",
        "code",
        "message_zh",
        "message_en",
        "field",
        "retry_after_s",
        "unknown",
        "leases",
        "lease_seconds",
        "verdict",
        "status",
        "raw",
        "score",
        "pass",
        "warn",
        "fail",
        "failed_to_assess",
        "ok",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    w.extend(
        CaseState::ALL
            .iter()
            .filter_map(|s| serde_json::to_value(s).ok()?.as_str().map(str::to_string)),
    );
    w.extend(MeasureId::ALL.iter().map(|m| m.code().to_string()));
    w.extend(ErrorCode::ALL.iter().map(|c| c.as_str().to_string()));
    w
}

/// Decodes `bytes` as `T`; what decodes must read back the same from its own JSON.
fn payload<T>(name: &str, bytes: &[u8]) -> Result<Option<T>, proptest::test_runner::TestCaseError>
where
    T: DeserializeOwned + Serialize + Debug,
{
    let Ok(value) = serde_json::from_slice::<T>(bytes) else {
        return Ok(None);
    };
    let first = serde_json::to_value(&value).unwrap();
    let again = serde_json::from_value::<T>(first.clone());
    check(again.is_ok(), || {
        format!("{name} does not read back from its own JSON: {again:?}")
    })?;
    let second = serde_json::to_value(again.unwrap()).unwrap();
    check(fuzz::json_close(&first, &second), || {
        format!("{name} reads back differently:\n{first}\n{second}")
    })?;
    Ok(Some(value))
}

fn every_payload(bytes: &[u8]) -> TestCaseResult {
    payload::<SyncPage>("SyncPage", bytes)?;
    payload::<QueuePage>("QueuePage", bytes)?;
    payload::<ReviewItem>("ReviewItem", bytes)?;
    payload::<review::ClaimResponse>("ClaimResponse", bytes)?;
    payload::<Released>("Released", bytes)?;
    payload::<LoginResponse>("LoginResponse", bytes)?;
    if let Some(body) = payload::<ErrorBody>("ErrorBody", bytes)? {
        // The code as sent. A struct also decodes from an array of its fields, and skips
        // unknown fields unchecked (a lone surrogate in one makes the whole no JSON value).
        #[derive(serde::Deserialize)]
        struct Sent {
            code: Value,
        }
        let sent = match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Array(fields)) => fields.first().cloned(),
            Ok(other) => other.get("code").cloned(),
            Err(_) => serde_json::from_slice::<Sent>(bytes).ok().map(|s| s.code),
        };
        let sent = sent.as_ref().and_then(Value::as_str);
        let known = sent.and_then(ErrorCode::parse);
        check(body.code == known.unwrap_or(ErrorCode::Unknown), || {
            format!("code {sent:?} decoded as {:?}", body.code)
        })?;
    }
    Ok(())
}

fn input(seeds: &[Value], words: &[&str], index: usize, tape: &fuzz::Tape) -> Vec<u8> {
    let mut tape = tape.clone();
    fuzz::mutate_json(&seeds[index], &mut tape, words)
}

#[test]
fn sync_payloads_never_panic_and_read_back_the_same() {
    let seeds = seeds();
    let words = words();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let decodes = |i: usize, ok: bool| assert!(ok, "seed {i} does not decode: {}", seeds[i]);
    let bytes: Vec<Vec<u8>> = seeds
        .iter()
        .map(|s| serde_json::to_vec(s).unwrap())
        .collect();
    decodes(0, serde_json::from_slice::<SyncPage>(&bytes[0]).is_ok());
    decodes(1, serde_json::from_slice::<SyncPage>(&bytes[1]).is_ok());
    decodes(2, serde_json::from_slice::<QueuePage>(&bytes[2]).is_ok());
    decodes(3, serde_json::from_slice::<ReviewItem>(&bytes[3]).is_ok());
    decodes(
        4,
        serde_json::from_slice::<review::ClaimResponse>(&bytes[4]).is_ok(),
    );
    decodes(5, serde_json::from_slice::<Released>(&bytes[5]).is_ok());
    decodes(6, serde_json::from_slice::<ErrorBody>(&bytes[6]).is_ok());
    let newer = serde_json::from_slice::<ErrorBody>(&bytes[7]).unwrap();
    assert_eq!(newer.code, ErrorCode::Unknown);
    assert_eq!(newer.message_en, "A new error.");
    decodes(
        8,
        serde_json::from_slice::<LoginResponse>(&bytes[8]).is_ok(),
    );
    fuzz::run(
        "sync",
        fuzz::cases(3000),
        fuzz::case(seeds.len(), 96),
        |(i, tape)| input(&seeds, &words, *i, tape),
        |(i, tape)| every_payload(&input(&seeds, &words, i, &tape)),
    );
}
