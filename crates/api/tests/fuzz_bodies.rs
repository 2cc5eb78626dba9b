//! Fuzzing of every request the server decodes from a stranger (`gradphoto_api::bounds::Bounded`
//! types): `serde_json::from_slice` and then `check_bounds`, as the server's `JsonBody` and
//! `Params` extractors do. Seeds are valid bodies of every request, as the portal, the
//! workstation and the CLI send them; each case mutates one as a JSON tree (values of another
//! type, edge numbers, long, invisible and control-character strings, unknown, missing, renamed
//! and duplicated keys, long arrays, deep nesting) and as text, and every request type decodes
//! the result.
//!
//! Properties: never panics; a decoded request reads back the same from its own JSON; one within
//! its bounds is far smaller than the server's JSON body limit and holds no control character
//! where its field forbids one; a refusal names its field.
//!
//! `GRADPHOTO_FUZZ_CASES=1000000 cargo test --release -p gradphoto-api --test fuzz_bodies`
//! (docs/fuzzing.md).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

#[path = "../../../tests/fuzz/support.rs"]
mod fuzz;

use std::fmt::Debug;

use fuzz::check;
use gradphoto_api::admin::{InviteRequest, NewUserRequest};
use gradphoto_api::audit::AuditQuery;
use gradphoto_api::bounds::Bounded;
use gradphoto_api::common::LoginRequest;
use gradphoto_api::review::{self, DecisionRequest, OverrideRequest, QueueQuery};
use gradphoto_api::student::{self, ConsentRequest, SubmitRequest};
use gradphoto_api::sync::SyncQuery;
use gradphoto_domain::reasons::RejectReason;
use gradphoto_domain::state::CaseState;
use proptest::test_runner::TestCaseResult;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

/// The server's limit for a JSON body (`gradphoto_server::http::JSON_BODY_MAX`).
const JSON_BODY_MAX: usize = 64 * 1024;

/// Valid bodies of every request type, as the clients send them.
fn seeds() -> Vec<Value> {
    vec![
        json!({"username": "admin", "password": "S3cret-passphrase"}),
        json!({"username": "reviewer1", "display_name": "李老师", "role": "reviewer",
               "school_id": "0190f1c2-7d3e-7a55-9c1a-3b5e2f0a1d44"}),
        json!({"username": "sup", "role": "supervisor"}),
        json!({"student_no": "2021001", "school": "示范大学", "reissue": true}),
        json!({}),
        json!({"cursor": 120, "limit": 100}),
        json!({"state": "pending_review", "school": "0190f1c2-7d3e-7a55-9c1a-3b5e2f0a1d44",
               "flagged": true, "waiting_min": 30, "cursor": "1718000000000:c9", "limit": 50}),
        json!({"count": 5, "school": "0190f1c2-7d3e-7a55-9c1a-3b5e2f0a1d44"}),
        json!({"case_id": "0190f1c2-7d3e-7a55-9c1a-3b5e2f0a1d45"}),
        json!({"decision_id": "0190f1c2-7d3e-7a55-9c1a-3b5e2f0a1d46", "verdict": "approve"}),
        json!({"decision_id": "0190f1c2-7d3e-7a55-9c1a-3b5e2f0a1d47", "verdict": "reject",
               "reasons": ["background", "other"], "comment": "背景不是纯色。\n请在白墙前重拍。"}),
        json!({"decision_id": "0190f1c2-7d3e-7a55-9c1a-3b5e2f0a1d48", "verdict": "approve",
               "override_comment": "原审核过严，照片符合要求。"}),
        json!({"decision_id": "0190f1c2-7d3e-7a55-9c1a-3b5e2f0a1d49", "verdict": "reject",
               "reasons": ["face_too_small"], "override_comment": "脸部太小"}),
        json!({"code": "K7Q4-M2XP-9H3D"}),
        json!({"version": "2024-06", "accepted": true}),
        json!({"attempt_id": "0190f1c2-7d3e-7a55-9c1a-3b5e2f0a1d50"}),
    ]
}

/// Keys and values the request types know, for mutations to use.
fn words() -> Vec<String> {
    let mut w: Vec<String> = [
        "username",
        "password",
        "display_name",
        "role",
        "school_id",
        "student_no",
        "school",
        "reissue",
        "cursor",
        "limit",
        "state",
        "flagged",
        "waiting_min",
        "count",
        "case_id",
        "decision_id",
        "verdict",
        "approve",
        "reject",
        "reasons",
        "comment",
        "override_comment",
        "code",
        "version",
        "accepted",
        "attempt_id",
        "admin",
        "reviewer",
        "supervisor",
        "student",
        "unknown",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    w.extend(RejectReason::ALL.iter().map(|r| r.code().to_string()));
    w.extend(
        CaseState::ALL
            .iter()
            .filter_map(|s| serde_json::to_value(s).ok()?.as_str().map(str::to_string)),
    );
    w
}

/// Decodes `bytes` as `T` and checks what a decoded request must be.
fn request<T>(name: &str, bytes: &[u8], body: bool) -> TestCaseResult
where
    T: DeserializeOwned + Serialize + Bounded + PartialEq + Debug,
{
    let Ok(value) = serde_json::from_slice::<T>(bytes) else {
        return Ok(());
    };
    let json = serde_json::to_vec(&value).unwrap();
    let again = serde_json::from_slice::<T>(&json);
    check(again.as_ref().ok() == Some(&value), || {
        format!("{name} does not read back from its own JSON: {again:?}")
    })?;
    match value.check_bounds() {
        Ok(()) => {
            // The query types come from a URL, not a JSON body, and a queue cursor is opaque
            // (the server parses it); every body field is bounded.
            if !body {
                return Ok(());
            }
            check(json.len() < JSON_BODY_MAX / 4, || {
                format!("{name} within its bounds is {} bytes", json.len())
            })?;
            // No field within bounds holds a NUL (JSON writes it as an escape).
            check(!json.windows(6).any(|w| w == b"\\u0000"), || {
                format!("{name} within its bounds holds a NUL")
            })
        }
        Err(e) => check(!e.field.is_empty(), || {
            format!("{name}: {e:?} names no field")
        }),
    }
}

fn every_request(bytes: &[u8]) -> TestCaseResult {
    request::<LoginRequest>("LoginRequest", bytes, true)?;
    request::<NewUserRequest>("NewUserRequest", bytes, true)?;
    request::<InviteRequest>("InviteRequest", bytes, true)?;
    request::<review::ClaimRequest>("review::ClaimRequest", bytes, true)?;
    request::<review::Verdict>("Verdict", bytes, true)?;
    request::<DecisionRequest>("DecisionRequest", bytes, true)?;
    request::<OverrideRequest>("OverrideRequest", bytes, true)?;
    request::<student::ClaimRequest>("student::ClaimRequest", bytes, true)?;
    request::<ConsentRequest>("ConsentRequest", bytes, true)?;
    request::<SubmitRequest>("SubmitRequest", bytes, true)?;
    request::<AuditQuery>("AuditQuery", bytes, false)?;
    request::<SyncQuery>("SyncQuery", bytes, false)?;
    request::<QueueQuery>("QueueQuery", bytes, false)
}

fn input(seeds: &[Value], words: &[&str], index: usize, tape: &fuzz::Tape) -> Vec<u8> {
    let mut tape = tape.clone();
    fuzz::mutate_json(&seeds[index], &mut tape, words)
}

#[test]
fn request_bodies_never_panic_and_decode_within_bounds() {
    let seeds = seeds();
    let words = words();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    // Every seed is a valid request of some type.
    for s in &seeds {
        let bytes = serde_json::to_vec(s).unwrap();
        let decodes = [
            serde_json::from_slice::<LoginRequest>(&bytes).is_ok(),
            serde_json::from_slice::<NewUserRequest>(&bytes).is_ok(),
            serde_json::from_slice::<QueueQuery>(&bytes).is_ok(),
            serde_json::from_slice::<DecisionRequest>(&bytes).is_ok(),
            serde_json::from_slice::<OverrideRequest>(&bytes).is_ok(),
            serde_json::from_slice::<student::ClaimRequest>(&bytes).is_ok(),
            serde_json::from_slice::<ConsentRequest>(&bytes).is_ok(),
            serde_json::from_slice::<SubmitRequest>(&bytes).is_ok(),
            serde_json::from_slice::<InviteRequest>(&bytes).is_ok(),
            serde_json::from_slice::<review::ClaimRequest>(&bytes).is_ok(),
            serde_json::from_slice::<AuditQuery>(&bytes).is_ok(),
            serde_json::from_slice::<SyncQuery>(&bytes).is_ok(),
        ];
        assert!(decodes.contains(&true), "seed {s} is no request");
    }
    fuzz::run(
        "bodies",
        fuzz::cases(4000),
        fuzz::case(seeds.len(), 96),
        |(i, tape)| input(&seeds, &words, *i, tape),
        |(i, tape)| every_request(&input(&seeds, &words, i, &tape)),
    );
}
