//! Workstation hot paths: the local hints for one item (models on this machine) and the
//! decision path (commit to the outbox, find the next item). `bash scripts/desk.sh bench`.

use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use gradphoto_desk_core::cache::{Cache, RemoteRow};
use gradphoto_desk_core::hints::{compute, HintSubject, Models};
use gradphoto_desk_core::view::DecisionInput;

fn photo(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/photos")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn hints(c: &mut Criterion) {
    let models = Models::load().expect("models load");
    let original = photo("phone_1080p.jpg");
    let card = photo("id_card_text.png");
    let subject = HintSubject {
        item_id: "bench".into(),
        name: "张三".into(),
        id_number_masked: "110105********123X".into(),
        flagged: false,
        face_match_failures: 0,
    };
    let mut g = c.benchmark_group("hints");
    g.sample_size(10);
    g.bench_function("one_item_all_hints", |b| {
        b.iter(|| compute(&models, &subject, &original, None, Some(&card)).expect("hints"))
    });
    g.finish();
}

fn decide(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = rt
        .block_on(Cache::open(&dir.path().join("bench.sqlite")))
        .expect("cache");
    let mut n = 0u64;
    c.bench_function("decide_commit_and_next", |b| {
        b.iter_batched(
            || {
                n += 1;
                let id = format!("case-{n}");
                for k in [id.clone(), format!("{id}-next")] {
                    let row = RemoteRow {
                        item_id: k.clone(),
                        student_name: "张三".into(),
                        student_no: "20210001".into(),
                        school: "演示大学".into(),
                        submitted_ms: 0,
                        round: 1,
                        flagged: false,
                    };
                    rt.block_on(cache.store_claimed(&row, "计算机学院", i64::MAX, "{}", 0))
                        .expect("claim");
                }
                id
            },
            |id| {
                rt.block_on(async {
                    cache
                        .record_decision(&id, &format!("d-{id}"), &DecisionInput::Approve, 1)
                        .await
                        .expect("decide");
                    cache.next_claimed(Some(&id)).await.expect("next")
                })
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, hints, decide);
criterion_main!(benches);
