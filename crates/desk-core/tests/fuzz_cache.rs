//! Fuzzing of the workstation's local cache where it decodes what came from the server: the
//! review record kept as JSON with each claimed item (`Cache::store_claimed`, read back and
//! decoded by `present::item_view` whenever the window shows the item), the decisions in the
//! outbox (`record_decision`, decoded again by `item_view` and the sync engine) and the queue
//! listing over server-given rows and times (`present::queue_page` with the window's filters).
//! Seeds are review records as a server sends them and decisions as the window sends them; each
//! case mutates them as JSON trees and as text, with edge times.
//!
//! Properties: never panics; a record that decodes is shown as it is (student, flag, history,
//! only the images it names and has), a record that does not is an error rather than a
//! half-filled view; a decision recorded is shown back exactly; the queue lists what was stored.
//!
//! `GRADPHOTO_FUZZ_CASES=1000000 cargo test --release -p gradphoto-desk-core --test fuzz_cache`
//! (docs/fuzzing.md).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

#[path = "../../../tests/fuzz/support.rs"]
mod fuzz;

use std::cell::{Cell, RefCell};

use fuzz::{check, Tape};
use gradphoto_api::review::ReviewItem;
use gradphoto_desk_core::cache::{Cache, RemoteRow};
use gradphoto_desk_core::present;
use gradphoto_desk_core::view::{DecisionInput, QueueFilter};
use gradphoto_desk_core::DeskError;
use proptest::test_runner::TestCaseResult;
use serde_json::{json, Value};

fn item_seed(flag: Value) -> Value {
    json!({
        "case_id": "c3", "state": "in_review", "round": 2, "flagged": !flag.is_null(),
        "flag": flag, "submitted_at_ms": 1_718_000_000_000i64,
        "lease": {"case_id": "c3", "holder": "u1", "until_ms": 1_718_000_300_000i64},
        "student": {
            "name": "王芳", "id_number_masked": "110105********002X", "student_no": "202100001",
            "school_id": "s1", "school_name": "示范大学", "college": "计算机学院", "major": "软件工程",
            "level": "本科", "graduation_year": 2025,
        },
        "attempts": [{"attempt_id": "a1", "round": 1, "status": "checked", "overall": "warn",
                      "face_same_person": false, "created_at_ms": 1_717_999_000_000i64, "submitted": true}],
        "decisions": [{
            "decision_id": "d1", "case_id": "c3", "kind": "reject", "reasons": ["background"],
            "comment": "背景不是纯色", "reviewer_id": "u1", "reviewer_name": "李老师", "round": 1,
            "decided_at_ms": 1_718_000_100_000i64, "resulting_state": "rejected",
        }, {
            "decision_id": "d2", "case_id": "c3", "kind": "override_approve", "reasons": [],
            "comment": null, "reviewer_id": "u2", "reviewer_name": "王主管", "round": 1,
            "decided_at_ms": 1_718_000_150_000i64, "resulting_state": "approved",
        }],
        "images": [{"kind": "id_front", "url": "/a"}, {"kind": "id_back", "url": "/b"},
                   {"kind": "original", "url": "/c"}, {"kind": "standardized", "url": "/d"},
                   {"kind": "enrollment", "url": "/e"}],
        "report": {"measures": [{"id": "sharpness", "raw": 0.73, "score": 87, "verdict": "pass",
                                 "status": "ok", "message_zh": "清晰", "message_en": "Sharp"}],
                   "models": [], "config_version": "1"},
        "face_match": {"same_person": false, "distance": 0.61, "failures": 3},
    })
}

fn seeds() -> Vec<Value> {
    vec![
        item_seed(json!({"measures": ["sharpness", "tinted_glasses"], "face_mismatch": true})),
        item_seed(Value::Null),
        {
            // A server that predates flag reasons: flagged, no `flag`.
            let mut v = item_seed(Value::Null);
            v["flagged"] = json!(true);
            v.as_object_mut().unwrap().remove("flag");
            v
        },
    ]
}

fn decisions() -> Vec<Value> {
    vec![
        json!({"kind": "approve"}),
        json!({"kind": "reject", "reasons": ["background", "other"], "comment": "请重拍"}),
        json!({"kind": "reject", "reasons": [], "comment": null}),
    ]
}

const WORDS: [&str; 24] = [
    "kind",
    "approve",
    "reject",
    "reasons",
    "comment",
    "flag",
    "flagged",
    "measures",
    "face_mismatch",
    "student",
    "name",
    "images",
    "id_front",
    "id_back",
    "standardized",
    "decisions",
    "override_reject",
    "decided_at_ms",
    "submitted_at_ms",
    "round",
    "graduation_year",
    "failures",
    "sharpness",
    "unknown",
];

const TIMES: [i64; 9] = [
    0,
    -1,
    1_718_000_000_000,
    i64::MIN,
    i64::MAX,
    i64::MIN / 2,
    8_640_000_000_000_000,
    -8_640_000_000_000_001,
    253_402_300_800_000,
];

/// One case: the record and decision as the cache is given them, and the times around them.
#[derive(Debug)]
struct Case {
    detail: String,
    decision: Option<String>,
    submitted_ms: i64,
    lease_until_ms: i64,
    now_ms: i64,
    search: Option<String>,
    min_wait: Option<u32>,
}

fn case(seeds: &[Value], index: usize, tape: &Tape) -> Case {
    let mut tape = tape.clone();
    let time = |tape: &mut Tape| {
        if tape.chance(60) {
            *tape.pick(&TIMES)
        } else {
            tape.u64() as i64
        }
    };
    let submitted_ms = time(&mut tape);
    let lease_until_ms = time(&mut tape);
    let now_ms = time(&mut tape);
    let min_wait = tape.chance(30).then(|| tape.u32() >> tape.below(32));
    let search = tape.chance(30).then(|| {
        String::from_utf8_lossy(
            &[
                tape.pick(&[&b"%"[..], b"_", b"\\", b"\xe7\x8e\x8b", b"2021"])
                    .to_vec(),
                tape.bytes(4),
            ]
            .concat(),
        )
        .into_owned()
    });
    let detail =
        String::from_utf8_lossy(&fuzz::mutate_json(&seeds[index], &mut tape, &WORDS)).into_owned();
    let decision = tape.chance(40).then(|| {
        let d = decisions();
        let seed = tape.pick(&d).clone();
        String::from_utf8_lossy(&fuzz::mutate_json(&seed, &mut tape, &WORDS)).into_owned()
    });
    Case {
        detail,
        decision,
        submitted_ms,
        lease_until_ms,
        now_ms,
        search,
        min_wait,
    }
}

const CASES_PER_CACHE: u32 = 200;

struct Env {
    rt: tokio::runtime::Runtime,
    dir: fuzz::ScratchDir,
    cache: RefCell<Option<Cache>>,
    used: Cell<u32>,
    next: Cell<u64>,
}

impl Env {
    /// The cache, opened afresh every few thousand cases so its tables stay small.
    fn cache(&self) -> Cache {
        if self.used.get().is_multiple_of(CASES_PER_CACHE) {
            let path = self
                .dir
                .path()
                .join(format!("cache-{}.db", self.used.get()));
            let fresh = self.rt.block_on(Cache::open(&path)).unwrap();
            if let Some(old) = self.cache.replace(Some(fresh)) {
                self.rt.block_on(old.pool().close());
            }
        }
        self.used.set(self.used.get() + 1);
        self.cache.borrow().clone().unwrap()
    }
}

fn run_case(env: &Env, c: &Case) -> TestCaseResult {
    let cache = env.cache();
    let n = env.next.get();
    env.next.set(n + 1);
    // A new item each case (the cache is reopened every few thousand): the latest decision of
    // an item is the one with the latest time, so items are not shared between cases.
    let item_id = format!("c{n}");
    let parsed = serde_json::from_str::<ReviewItem>(&c.detail);
    let row = RemoteRow {
        item_id: item_id.clone(),
        student_name: parsed
            .as_ref()
            .map_or("张三".into(), |i| i.student.name.clone()),
        student_no: parsed
            .as_ref()
            .map_or("S1".into(), |i| i.student.student_no.clone()),
        school: parsed
            .as_ref()
            .map_or("示范大学".into(), |i| i.student.school_name.clone()),
        submitted_ms: c.submitted_ms,
        round: parsed.as_ref().map_or(1, |i| i.round),
        flagged: parsed.as_ref().is_ok_and(|i| i.flagged),
    };
    let college = parsed.as_ref().map_or("", |i| i.student.college.as_str());
    env.rt
        .block_on(cache.store_claimed(&row, college, c.lease_until_ms, &c.detail, c.now_ms))
        .unwrap();
    for kind in ["id_front", "standardized"] {
        env.rt
            .block_on(cache.store_image(&item_id, kind, "image/jpeg", b"\xFF\xD8\xFF\xD9"))
            .unwrap();
    }
    let decision = c
        .decision
        .as_deref()
        .and_then(|d| serde_json::from_str::<DecisionInput>(d).ok());
    let decision_id = format!("d{n}");
    if let Some(d) = &decision {
        env.rt
            .block_on(cache.record_decision(&item_id, &decision_id, d, c.now_ms))
            .unwrap();
    }
    let view = env.rt.block_on(present::item_view(&cache, &item_id));
    match (&parsed, view) {
        (Ok(item), Ok(view)) => {
            check(
                view.student.name == item.student.name
                    && view.student.school == item.student.school_name
                    && view.flagged == item.flagged
                    && view.flag.is_some() == item.flagged
                    && view.history.len() == item.decisions.len(),
                || format!("{view:?} does not show {item:?}"),
            )?;
            let named: Vec<_> = item
                .images
                .iter()
                .map(|i| present::image_path(&item_id, i.kind))
                .collect();
            check(view.images.iter().all(|i| named.contains(&i.path)), || {
                format!("images {:?} from {:?}", view.images, item.images)
            })?;
            if let Some(d) = &decision {
                let local = view.local_decision.as_ref();
                let (kind, reasons, comment) = match d {
                    DecisionInput::Approve => ("approve", Vec::new(), None),
                    DecisionInput::Reject { reasons, comment } => {
                        ("reject", reasons.clone(), comment.clone())
                    }
                };
                check(
                    local.is_some_and(|l| {
                        l.decision_id == decision_id
                            && l.kind == kind
                            && l.reasons == reasons
                            && l.comment == comment
                    }),
                    || format!("decision {d:?} shown as {local:?}"),
                )?;
            }
        }
        (Err(_), Err(DeskError::CacheData(_))) => {}
        (Ok(_), Err(e)) => {
            return Err(proptest::test_runner::TestCaseError::fail(format!(
                "a record that decodes is not shown: {e:?}"
            )))
        }
        (Err(_), other) => {
            return Err(proptest::test_runner::TestCaseError::fail(format!(
                "a record that does not decode gave {other:?}"
            )))
        }
    }
    let filter = QueueFilter {
        search: c.search.clone(),
        min_wait_minutes: c.min_wait,
        ..QueueFilter::default()
    };
    let page = env
        .rt
        .block_on(present::queue_page(&cache, &filter, c.now_ms))
        .unwrap();
    check(
        page.rows.len() <= CASES_PER_CACHE as usize && page.matching as usize >= page.rows.len(),
        || format!("{} rows listed of {}", page.rows.len(), page.matching),
    )
}

#[test]
fn cached_records_never_panic_and_show_what_they_hold() {
    let seeds = seeds();
    for s in &seeds {
        assert!(
            serde_json::from_value::<ReviewItem>(s.clone()).is_ok(),
            "seed {s}"
        );
    }
    for d in decisions() {
        assert!(
            serde_json::from_value::<DecisionInput>(d.clone()).is_ok(),
            "decision {d}"
        );
    }
    let env = Env {
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        dir: fuzz::ScratchDir::new("cache"),
        cache: RefCell::new(None),
        used: Cell::new(0),
        next: Cell::new(0),
    };
    fuzz::run(
        "cache",
        fuzz::cases(1000),
        fuzz::case(seeds.len(), 128),
        |(i, tape)| case(&seeds, *i, tape).detail.into_bytes(),
        |(i, tape)| run_case(&env, &case(&seeds, i, &tape)),
    );
}
