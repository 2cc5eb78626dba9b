//! Workstation hot paths: the local hints for one item (models on this machine), where their
//! time goes stage by stage, and the decision path (commit to the outbox, find the next item).
//! `bash scripts/desk.sh bench`.

use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use gradphoto_desk_core::cache::{Cache, RemoteRow};
use gradphoto_desk_core::hints::{compute, HintSubject, Models};
use gradphoto_desk_core::view::DecisionInput;
use gradphoto_vision::ocr::{DetSize, OcrEngine};
use gradphoto_vision::{PhotoSpec, Thresholds};

fn test_data(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A phone photo and the synthetic card front of the same person, with the record's details.
struct Item {
    original: Vec<u8>,
    card: Vec<u8>,
    subject: HintSubject,
}

fn item() -> Item {
    Item {
        original: test_data("photos/phone_1080p.jpg"),
        card: test_data("idcards/idcard_astronaut.png"),
        subject: HintSubject {
            item_id: "bench".into(),
            name: "林晓雯".into(),
            id_number_masked: "110105********128X".into(),
            flagged: false,
            face_match_failures: 0,
            spec: PhotoSpec::chsi(),
        },
    }
}

fn hints(c: &mut Criterion) {
    let models = Models::load().expect("models load");
    let it = item();
    // The first computation loads the embedder and the OCR models: not part of an item's cost.
    let warm = compute(&models, &it.subject, &it.original, None, Some(&it.card)).expect("hints");
    let ocr = warm.ocr.as_ref().expect("card read");
    assert!(ocr.name_matches && ocr.number_matches, "{ocr:?}");
    let mut g = c.benchmark_group("hints");
    g.sample_size(10);
    g.bench_function("one_item_all_hints", |b| {
        b.iter(|| compute(&models, &it.subject, &it.original, None, Some(&it.card)).expect("hints"))
    });
    // With the standardized photo the server made, as most items in the cache have it.
    let standardized = models
        .vision
        .standardize(&it.original, &PhotoSpec::chsi())
        .expect("standardized")
        .jpeg;
    g.bench_function("one_item_all_hints_with_standardized", |b| {
        b.iter(|| {
            compute(
                &models,
                &it.subject,
                &it.original,
                Some(&standardized),
                Some(&it.card),
            )
            .expect("hints")
        })
    });
    g.finish();
}

/// The stages of `compute` one at a time, each alone on the machine (`compute` reads the card
/// on one thread while the rest runs on another).
fn hint_stages(c: &mut Criterion) {
    let models = Models::load().expect("models load");
    let vision = &models.vision;
    let it = item();
    let (spec, thresholds) = (PhotoSpec::chsi(), Thresholds::default());
    let card = vision.decode_card(&it.card).expect("card decodes");
    let portrait = vision.card_portrait(&card).expect("portrait");
    let ocr = OcrEngine::load().expect("OCR models load");
    vision.read_decoded_card(&card).expect("card read");
    let mut g = c.benchmark_group("hint_stages");
    g.sample_size(10);
    g.bench_function("card_decode", |b| {
        b.iter(|| vision.decode_card(&it.card).expect("card decodes"))
    });
    g.bench_function("card_ocr", |b| {
        b.iter(|| vision.read_decoded_card(&card).expect("card read"))
    });
    g.bench_function("card_ocr_text_detection", |b| {
        b.iter(|| {
            ocr.find_text(&card.rgb, DetSize::Small)
                .expect("text found")
                .len()
        })
    });
    g.bench_function("card_portrait", |b| {
        b.iter(|| vision.card_portrait(&card).expect("portrait"))
    });
    g.bench_function("photo_measures_and_comparison", |b| {
        b.iter(|| {
            vision
                .review_check(
                    &it.original,
                    &spec,
                    &thresholds,
                    Some(Ok(&portrait.embedding)),
                )
                .expect("check")
        })
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

criterion_group!(benches, hints, hint_stages, decide);
criterion_main!(benches);
