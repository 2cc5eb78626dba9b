//! Fuzzing of the multipart uploads a student sends, through the real router
//! (`gradphoto_server::app` called with `tower::ServiceExt::oneshot`): the identity form
//! (`/api/student/identity`: name, ID number, both sides of the card) and the photo upload
//! (`/api/student/attempts`: photo, source, upload id), read by axum's multipart with the
//! bounded helpers of `http::multipart` (field limits, text bounds, images sniffed by content).
//!
//! The server runs on SQLite in memory-backed scratch space, with a small upload limit so
//! mutations cross it, and an analyzer that accepts any card (the analysis is not what is
//! fuzzed; the job workers do not run). One student waits at the identity step (the forms carry
//! a name that is not the roster's, so every form that parses is judged a mismatch and the step
//! stays open), another is ready for photos. Seeds are the forms the portal sends, with small
//! pictures made from the test photos and the ID card; each case mutates the form as parts
//! (field names, dispositions, file names, content types, extra and repeated headers, text
//! values, pictures of every kind and size, parts repeated, dropped or swapped), as a body
//! (boundaries, line endings, preamble, epilogue, the closing delimiter) and as bytes, and sends
//! it with an intact or broken `Content-Type`.
//!
//! Properties: never panics; never answers 5xx; every refusal is the JSON error body; an
//! identity form with the wrong name is never accepted; an accepted photo is an attempt.
//!
//! `GRADPHOTO_FUZZ_CASES=1000000 cargo test --release -p gradphoto-server --test fuzz_multipart`
//! (docs/fuzzing.md).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

#[path = "../../../tests/fuzz/support.rs"]
mod fuzz;
#[allow(unused_imports)]
mod support;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::Router;
use fuzz::{check, Tape};
use gradphoto_api::common::AttemptView;
use gradphoto_api::error::ErrorBody;
use gradphoto_api::student::{ClaimResponse, StudentCase};
use gradphoto_domain::state::CaseState;
use gradphoto_server::analyzer::{
    AnalyzeError, AnalyzeInput, AnalyzeOutput, CardSide, PhotoAnalyzer,
};
use gradphoto_server::config::{Config, Secret};
use gradphoto_server::AppState;
use proptest::test_runner::TestCaseResult;
use tower::ServiceExt;

/// The upload limit of the fuzzed server: small, so mutations reach past it.
const MAX_UPLOAD: u64 = 64 * 1024;

/// Accepts every ID card picture and analyses nothing (no job worker runs).
struct AcceptingAnalyzer;

impl PhotoAnalyzer for AcceptingAnalyzer {
    fn analyze(&self, _: AnalyzeInput) -> Result<AnalyzeOutput, AnalyzeError> {
        Err(AnalyzeError {
            code: "not_analysed",
            message_zh: "不分析".into(),
            message_en: "Not analysed".into(),
        })
    }

    fn check_id_card(&self, _: CardSide, _: &[u8]) -> Result<(), AnalyzeError> {
        Ok(())
    }
}

struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

async fn send(
    app: &Router,
    method: Method,
    path: &str,
    headers: &[(&str, Vec<u8>)],
    body: Vec<u8>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        // A value no HTTP server would pass on is not sent at all.
        if let Ok(v) = HeaderValue::from_bytes(value) {
            req = req.header(*name, v);
        }
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer { status, body }
}

fn bearer(token: &str) -> (&'static str, Vec<u8>) {
    ("authorization", format!("Bearer {token}").into_bytes())
}

fn json_header() -> (&'static str, Vec<u8>) {
    ("content-type", b"application/json".to_vec())
}

// ---------------------------------------------------------------------------------------------
// Multipart bodies as parts.

#[derive(Debug, Clone)]
struct Part {
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    body: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Form {
    boundary: Vec<u8>,
    /// The boundary the `Content-Type` header announces (usually the same).
    announced: Vec<u8>,
    quoted: bool,
    media_type: &'static str,
    preamble: Vec<u8>,
    parts: Vec<Part>,
    epilogue: Vec<u8>,
    newline: &'static [u8],
    closed: bool,
}

fn part(name: &str, file: Option<(&str, &str)>, body: Vec<u8>) -> Part {
    let mut disposition = format!("form-data; name=\"{name}\"");
    let mut headers = Vec::new();
    if let Some((filename, mime)) = file {
        disposition.push_str(&format!("; filename=\"{filename}\""));
        headers.push((b"Content-Type".to_vec(), mime.as_bytes().to_vec()));
    }
    headers.insert(
        0,
        (b"Content-Disposition".to_vec(), disposition.into_bytes()),
    );
    Part { headers, body }
}

impl Form {
    fn new(parts: Vec<Part>) -> Form {
        let boundary = b"----gradphotoFormBoundary7MA4YWxkTrZu0gW".to_vec();
        Form {
            announced: boundary.clone(),
            boundary,
            quoted: false,
            media_type: "multipart/form-data",
            preamble: Vec::new(),
            parts,
            epilogue: Vec::new(),
            newline: b"\r\n",
            closed: true,
        }
    }

    fn content_type(&self) -> Vec<u8> {
        let mut v = format!("{}; boundary=", self.media_type).into_bytes();
        if self.quoted {
            v.push(b'"');
            v.extend_from_slice(&self.announced);
            v.push(b'"');
        } else {
            v.extend_from_slice(&self.announced);
        }
        v
    }

    fn body(&self) -> Vec<u8> {
        let nl = self.newline;
        let mut out = self.preamble.clone();
        for p in &self.parts {
            out.extend_from_slice(b"--");
            out.extend_from_slice(&self.boundary);
            out.extend_from_slice(nl);
            for (name, value) in &p.headers {
                out.extend_from_slice(name);
                out.extend_from_slice(b": ");
                out.extend_from_slice(value);
                out.extend_from_slice(nl);
            }
            out.extend_from_slice(nl);
            out.extend_from_slice(&p.body);
            out.extend_from_slice(nl);
        }
        if self.closed {
            out.extend_from_slice(b"--");
            out.extend_from_slice(&self.boundary);
            out.extend_from_slice(b"--");
            out.extend_from_slice(nl);
        }
        out.extend_from_slice(&self.epilogue);
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Seeds.

struct Pictures {
    /// Small JPEGs and PNGs made from the test photos and the ID card, and pictures the server
    /// refuses by name (HEIC, WebP, GIF) or as truncated.
    all: Vec<Vec<u8>>,
}

fn encode(img: &image::RgbImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn pictures() -> Pictures {
    let card = image::load_from_memory(&fuzz::data_file("idcards/idcard_astronaut.png"))
        .unwrap()
        .to_rgb8();
    let photo = image::load_from_memory(&fuzz::data_file("photos/real/r_plain_wall.jpg"))
        .unwrap()
        .to_rgb8();
    let small = |img: &image::RgbImage, w| {
        image::imageops::resize(
            img,
            w,
            w * img.height() / img.width(),
            image::imageops::FilterType::Triangle,
        )
    };
    let mut all = vec![
        encode(&small(&card, 120), image::ImageFormat::Jpeg),
        encode(&small(&card, 64), image::ImageFormat::Png),
        encode(&small(&photo, 96), image::ImageFormat::Jpeg),
        encode(&small(&photo, 48), image::ImageFormat::Png),
        fuzz::data_file("photos/id_card_text.png"),
        support::photos::generated_jpeg(40, 30),
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic".to_vec(),
        b"RIFF\x00\x00\x00\x00WEBPVP8 ".to_vec(),
        b"GIF89a\x01\x00\x01\x00\x00\x00".to_vec(),
        b"%PDF-1.7 not a picture".to_vec(),
        Vec::new(),
    ];
    // A JPEG cut short (no end of image), and one just over the limit.
    let cut = all[0][..all[0].len() / 2].to_vec();
    all.push(cut);
    let mut big = all[2].clone();
    big.resize(MAX_UPLOAD as usize + 1, 0);
    big.extend_from_slice(&[0xFF, 0xD9]);
    all.push(big);
    Pictures { all }
}

/// The forms the portal sends: the identity form and photo uploads.
fn seeds(p: &Pictures, wrong_name: &str, id_number: &str) -> Vec<Form> {
    let identity = |front: usize, back: usize| {
        Form::new(vec![
            part("name", None, wrong_name.as_bytes().to_vec()),
            part("id_number", None, id_number.as_bytes().to_vec()),
            part(
                "id_front",
                Some(("front.jpg", "image/jpeg")),
                p.all[front].clone(),
            ),
            part(
                "id_back",
                Some(("back.png", "image/png")),
                p.all[back].clone(),
            ),
        ])
    };
    let upload = |photo: usize, source: &str, id: Option<&str>| {
        let mut parts = vec![part("source", None, source.as_bytes().to_vec())];
        parts.push(part(
            "photo",
            Some(("photo.jpg", "image/jpeg")),
            p.all[photo].clone(),
        ));
        if let Some(id) = id {
            parts.push(part("upload_id", None, id.as_bytes().to_vec()));
        }
        Form::new(parts)
    };
    vec![
        identity(0, 1),
        identity(4, 5),
        upload(2, "camera", None),
        upload(3, "album", Some("0190f1c2-7d3e-7a55-9c1a-3b5e2f0a1d44")),
        upload(5, "", Some("retry-1")),
    ]
}

// ---------------------------------------------------------------------------------------------
// Mutations.

const FIELD_NAMES: [&str; 12] = [
    "name",
    "id_number",
    "id_front",
    "id_back",
    "photo",
    "source",
    "upload_id",
    "",
    "Photo",
    "名字",
    "photo\"; filename=\"x.jpg",
    "photo[]",
];

fn text_value(tape: &mut Tape) -> Vec<u8> {
    match tape.below(10) {
        0 => support::photos::id_number("20010101", u32::from(tape.byte())).into_bytes(),
        1 => b"11010519491231002X".to_vec(),
        2 => "张三丰".as_bytes().to_vec(),
        3 => {
            let c = *tape.pick(&["a", "长", " ", "\u{200B}", "\u{0}", "😀"]);
            c.repeat(*tape.pick(&[31, 32, 33, 63, 64, 65, 128, 129, 257, 1000]))
                .into_bytes()
        }
        4 => tape
            .pick(&[&b"camera"[..], b"album", b"", b" album ", b"video"])
            .to_vec(),
        5 => vec![0xFF, 0xFE, 0xE5, 0xAD],
        6 => tape.bytes(32),
        7 => b"\r\n--".to_vec(),
        _ => Vec::new(),
    }
}

fn mutate_part(p: &mut Part, tape: &mut Tape, pictures: &Pictures) {
    match tape.below(12) {
        0 | 1 => {
            let name = *tape.pick(&FIELD_NAMES);
            let file = if tape.chance(50) {
                format!(
                    "; filename=\"{}\"",
                    tape.pick(&["p.jpg", "", "../../etc/passwd", "照片.png", "a\"b"])
                )
            } else {
                String::new()
            };
            let value = format!("form-data; name=\"{name}\"{file}").into_bytes();
            set_header(p, b"Content-Disposition", value);
        }
        2 => {
            let v = *tape.pick(&[
                &b"form-data; name=photo"[..],
                b"form-data; name*=UTF-8''%E7%85%A7",
                b"form-data",
                b"attachment; name=\"photo\"",
                b"form-data; name=\"photo\"; name=\"source\"",
                b"form-data; name=\"",
                b"; ; ;",
                b"",
            ]);
            set_header(p, b"Content-Disposition", v.to_vec());
        }
        3 => {
            let v = *tape.pick(&[
                &b"image/jpeg"[..],
                b"image/png",
                b"text/plain; charset=gbk",
                b"application/octet-stream",
                b"",
                b"multipart/mixed; boundary=x",
            ]);
            set_header(p, b"Content-Type", v.to_vec());
        }
        4 => {
            // Extra, repeated and odd headers.
            let (name, value): (&[u8], Vec<u8>) = match tape.below(5) {
                0 => (b"Content-Transfer-Encoding", b"base64".to_vec()),
                1 => (
                    b"X-Long",
                    vec![b'a'; *tape.pick(&[100usize, 8_000, 70_000])],
                ),
                2 => (
                    b"content-disposition",
                    b"form-data; name=\"source\"".to_vec(),
                ),
                3 => (b"", b"no name".to_vec()),
                _ => (b"X-Bytes", tape.bytes(16)),
            };
            let at = tape.below(p.headers.len() + 1);
            p.headers.insert(at, (name.to_vec(), value));
        }
        5 if !p.headers.is_empty() => {
            let at = tape.below(p.headers.len());
            p.headers.remove(at);
        }
        6 | 7 => p.body = tape.pick(&pictures.all).clone(),
        8 => p.body = text_value(tape),
        9 if !p.body.is_empty() => {
            let cut = tape.below(p.body.len());
            p.body.truncate(cut);
        }
        10 => fuzz::havoc_once(&mut p.body, tape, &[b"\r\n", b"--", b"\xFF\xD9"], &[]),
        _ => {}
    }
}

fn set_header(p: &mut Part, name: &[u8], value: Vec<u8>) {
    match p
        .headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        Some(h) => h.1 = value,
        None => p.headers.push((name.to_vec(), value)),
    }
}

fn mutate_form(f: &mut Form, tape: &mut Tape, pictures: &Pictures) {
    for _ in 0..tape.below(6) {
        let n = f.parts.len();
        match tape.below(14) {
            0..=4 if n > 0 => {
                let k = tape.below(n);
                mutate_part(&mut f.parts[k], tape, pictures);
            }
            5 if n > 0 => {
                let k = tape.below(n);
                f.parts.remove(k);
            }
            6 if n > 0 => {
                let k = tape.below(n);
                let copy = f.parts[k].clone();
                let times = *tape.pick(&[1usize, 1, 2, 100]);
                for _ in 0..times {
                    f.parts.insert(tape.below(f.parts.len() + 1), copy.clone());
                }
            }
            7 if n > 1 => {
                let (a, b) = (tape.below(n), tape.below(n));
                f.parts.swap(a, b);
            }
            8 => {
                let b = match tape.below(5) {
                    0 => b"x".to_vec(),
                    1 => vec![b'-'; 71],
                    2 => b"a b\"c".to_vec(),
                    3 => Vec::new(),
                    _ => tape.bytes(12),
                };
                if tape.chance(50) {
                    f.boundary = b.clone();
                }
                f.announced = b;
            }
            9 => f.quoted = !f.quoted,
            10 => {
                f.media_type = *tape.pick(&[
                    "multipart/form-data",
                    "multipart/mixed",
                    "Multipart/Form-Data",
                    "text/plain",
                    "application/json",
                ])
            }
            11 => f.newline = *tape.pick(&[&b"\r\n"[..], b"\n", b"\r"]),
            12 => f.closed = !f.closed,
            _ => {
                let junk = if tape.chance(50) {
                    tape.bytes(24)
                } else {
                    [b"--".as_slice(), &f.boundary, b"\r\n"].concat()
                };
                if tape.chance(50) {
                    f.preamble = junk;
                } else {
                    f.epilogue = junk;
                }
            }
        }
    }
}

/// A request of one case: the path, its headers and its body.
struct Sent {
    identity: bool,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
}

struct Env {
    rt: tokio::runtime::Runtime,
    state: AppState,
    app: Router,
    identity_token: String,
    upload_token: String,
    seeds: Vec<Form>,
    pictures: Pictures,
    sent: Cell<u64>,
    /// How the cases were answered: (identity step, status, error code) → count.
    answers: RefCell<BTreeMap<(bool, u16, String), u64>>,
    _dir: fuzz::ScratchDir,
}

fn request(env: &Env, index: usize, tape: &Tape) -> Sent {
    let mut tape = tape.clone();
    let mut form = env.seeds[index].clone();
    mutate_form(&mut form, &mut tape, &env.pictures);
    let mut body = form.body();
    fuzz::havoc(
        &mut body,
        &mut tape,
        3,
        &[b"\r\n", b"--", &form.boundary, b"\r\n\r\n"],
        &[],
    );
    // The identity forms go to the identity step, the uploads to the photo step, and now and
    // then each to the other.
    let identity = (index < 2) != tape.chance(5);
    let token = if identity {
        &env.identity_token
    } else {
        &env.upload_token
    };
    let mut headers = vec![bearer(token)];
    if !tape.chance(3) {
        headers.push(("content-type", form.content_type()));
    }
    if tape.chance(10) {
        headers.push(("idempotency-key", tape.bytes(12)));
    }
    Sent {
        identity,
        headers,
        body,
    }
}

fn run_case(env: &Env, sent: Sent) -> TestCaseResult {
    let path = if sent.identity {
        "/api/student/identity"
    } else {
        "/api/student/attempts"
    };
    let answer = env
        .rt
        .block_on(send(&env.app, Method::POST, path, &sent.headers, sent.body));
    let n = env.sent.get() + 1;
    env.sent.set(n);
    if n.is_multiple_of(5000) {
        // Uploads refused past the attempt limit leave their stored bytes behind; the scratch
        // space is memory, so it is emptied now and then.
        let _ = std::fs::remove_dir_all(env.state.config.objects_dir().join("original"));
    }
    let status = answer.status;
    let code = serde_json::from_slice::<ErrorBody>(&answer.body)
        .map(|e| e.code.as_str().to_string())
        .unwrap_or_default();
    *env.answers
        .borrow_mut()
        .entry((sent.identity, status.as_u16(), code))
        .or_default() += 1;
    check(!status.is_server_error(), || {
        format!(
            "{path} answered {status}: {}",
            String::from_utf8_lossy(&answer.body)
        )
    })?;
    if status.is_success() {
        check(!sent.identity, || {
            "an identity form with a name not on the roster was accepted".into()
        })?;
        let view = serde_json::from_slice::<AttemptView>(&answer.body);
        check(view.is_ok(), || {
            format!("an accepted upload answered {view:?}")
        })
    } else {
        let err = serde_json::from_slice::<ErrorBody>(&answer.body);
        check(err.is_ok(), || {
            format!(
                "{path} refused ({status}) without the error body: {}",
                String::from_utf8_lossy(&answer.body)
            )
        })
    }
}

/// Opens the server, seeds a school with two students and takes one to the identity step and
/// the other to the photo step, through the same router.
fn setup() -> Env {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = fuzz::ScratchDir::new("multipart");
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        workers: 0,
        max_upload_bytes: MAX_UPLOAD,
        identity_max_failures: u32::MAX,
        encryption_key: Some(Secret::new(
            "Z3JhZHBob3RvIGZ1enogc2VydmVyIGtleSAzMiBieXQ=".to_string(),
        )),
        ..Config::default()
    };
    let state = rt
        .block_on(AppState::open(config, Arc::new(AcceptingAnalyzer)))
        .unwrap();
    let fx = rt.block_on(support::fixture::seed(
        &state,
        2,
        &support::fixture::policy(0),
    ));
    let app = gradphoto_server::app(state.clone());
    let pictures = pictures();
    let post_json = |path: &str, token: Option<&str>, body: serde_json::Value| {
        let mut headers = vec![json_header()];
        headers.extend(token.map(bearer));
        let a = rt.block_on(send(
            &app,
            Method::POST,
            path,
            &headers,
            serde_json::to_vec(&body).unwrap(),
        ));
        assert!(
            a.status.is_success(),
            "{path}: {} {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        );
        a.body
    };
    let mut tokens = Vec::new();
    for s in &fx.students {
        let claimed: ClaimResponse = serde_json::from_slice(&post_json(
            "/api/student/claim",
            None,
            serde_json::json!({"code": s.code}),
        ))
        .unwrap();
        let version = claimed.case.policy.privacy_version.clone();
        post_json(
            "/api/student/consent",
            Some(&claimed.token),
            serde_json::json!({"version": version, "accepted": true}),
        );
        tokens.push(claimed.token);
    }
    // The second student passes the identity step (the real name and number) and confirms.
    let ready = &fx.students[1];
    let form = Form::new(vec![
        part("name", None, ready.name.as_bytes().to_vec()),
        part("id_number", None, ready.id_number.as_bytes().to_vec()),
        part(
            "id_front",
            Some(("front.jpg", "image/jpeg")),
            pictures.all[0].clone(),
        ),
        part(
            "id_back",
            Some(("back.png", "image/png")),
            pictures.all[1].clone(),
        ),
    ]);
    let a = rt.block_on(send(
        &app,
        Method::POST,
        "/api/student/identity",
        &[bearer(&tokens[1]), ("content-type", form.content_type())],
        form.body(),
    ));
    assert!(
        a.status.is_success(),
        "identity: {}",
        String::from_utf8_lossy(&a.body)
    );
    let case: StudentCase = serde_json::from_slice(&post_json(
        "/api/student/confirm",
        Some(&tokens[1]),
        serde_json::json!({}),
    ))
    .unwrap();
    if case.state == CaseState::RecordConfirmed {
        post_json(
            "/api/student/payment",
            Some(&tokens[1]),
            serde_json::json!({}),
        );
    }
    let seeds = seeds(&pictures, "张三丰", &fx.students[0].id_number);
    Env {
        rt,
        state,
        app,
        identity_token: tokens[0].clone(),
        upload_token: tokens[1].clone(),
        seeds,
        pictures,
        sent: Cell::new(0),
        answers: RefCell::default(),
        _dir: dir,
    }
}

#[test]
fn multipart_uploads_never_panic_and_are_answered_in_json() {
    let env = setup();
    // Unmutated, the seeds are answered as the portal expects: a mismatch, and a new attempt.
    for (i, form) in env.seeds.iter().enumerate().take(3) {
        let token = if i < 2 {
            &env.identity_token
        } else {
            &env.upload_token
        };
        let path = if i < 2 {
            "/api/student/identity"
        } else {
            "/api/student/attempts"
        };
        let a = env.rt.block_on(send(
            &env.app,
            Method::POST,
            path,
            &[bearer(token), ("content-type", form.content_type())],
            form.body(),
        ));
        let expected = if i < 2 {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::CREATED
        };
        let body = String::from_utf8_lossy(&a.body);
        assert_eq!(a.status, expected, "seed {i}: {body}");
        if i < 2 {
            assert!(body.contains("identity_mismatch"), "seed {i}: {body}");
        }
    }
    let n = env.seeds.len();
    fuzz::run(
        "multipart",
        fuzz::cases(1000),
        fuzz::case(n, 128),
        |(i, tape)| request(&env, *i, tape).body,
        |(i, tape)| run_case(&env, request(&env, i, &tape)),
    );
    let mut answers: Vec<_> = env.answers.take().into_iter().collect();
    answers.sort_by_key(|a| std::cmp::Reverse(a.1));
    for ((identity, status, code), count) in answers {
        let step = if identity { "identity" } else { "attempts" };
        eprintln!("fuzz multipart: {count:>8} × {step} {status} {code}");
    }
    env.rt.block_on(env.state.store.close());
}
