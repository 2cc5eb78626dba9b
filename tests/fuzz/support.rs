//! What every fuzz harness shares (`crates/*/tests/fuzz_*.rs` include this file with `#[path]`):
//! how many cases to run, the tape of random choices that drives each mutation, the byte-level
//! mutations common to every format, and the runner.
//!
//! A case is a seed (a real, valid input: a photo, a roster, a request body) and a tape. Each
//! harness reads the tape to decide which structure-aware mutations to apply (a JPEG's frame
//! size, a roster cell, a JSON value, a multipart header…) and then, sometimes, a few blind byte
//! mutations. proptest generates the tapes and, when a case fails, shrinks its tape towards
//! fewer and smaller choices, so the failure is reported as a minimal mutation of its seed.
//!
//! `GRADPHOTO_FUZZ_CASES` sets the number of cases (default: each harness's short run);
//! `GRADPHOTO_FUZZ_SEED` the random seed (default: fixed, so `cargo test` always runs the same
//! cases). See docs/fuzzing.md.
#![allow(dead_code)]

use std::fmt::Debug;
use std::path::PathBuf;
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{
    Config, RngAlgorithm, TestCaseError, TestCaseResult, TestError, TestRng, TestRunner,
};

/// The number of cases: `GRADPHOTO_FUZZ_CASES` (`1000000` or `1_000_000`), else `short`.
pub fn cases(short: u32) -> u32 {
    std::env::var("GRADPHOTO_FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(short)
}

/// A count scaled from the run's cases, at least `min` (for the slower parts of a target).
pub fn scaled(cases: u32, divisor: u32, min: u32) -> u32 {
    (cases / divisor.max(1)).max(min)
}

fn seed() -> u64 {
    std::env::var("GRADPHOTO_FUZZ_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0x6772_6164_7068_6f74) // "gradphot"
}

/// The random choices of one case. Reading past the end gives zeros, and every harness reads a
/// zero as "the simplest choice" (no mutation, the first option), so a shrunk tape is a small
/// change to its seed.
#[derive(Clone, Debug)]
pub struct Tape {
    bytes: Vec<u8>,
    pos: usize,
}

impl Tape {
    pub fn new(bytes: Vec<u8>) -> Tape {
        Tape { bytes, pos: 0 }
    }

    pub fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    pub fn exhausted(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        match n {
            0 | 1 => 0,
            n if n <= 256 => usize::from(self.byte()) % n,
            n if n <= 65_536 => usize::from(self.u16()) % n,
            n => self.u32() as usize % n,
        }
    }

    /// True with about `percent` % probability; a zero byte is false.
    pub fn chance(&mut self, percent: u32) -> bool {
        let b = u32::from(self.byte());
        b > 0 && b * 100 >= (100 - percent.min(100)) * 256
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Up to `max` random bytes.
    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.byte()).collect()
    }
}

/// The strategy of a case: which seed, and the tape.
pub fn case(seeds: usize, tape_len: usize) -> impl Strategy<Value = (usize, Tape)> {
    (
        0..seeds.max(1),
        prop::collection::vec(any::<u8>(), 0..tape_len).prop_map(Tape::new),
    )
}

/// Values that make parsers take their edge paths, as big-endian bytes of every width.
const INTERESTING_8: [u8; 9] = [0, 1, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40, 0x64];
const INTERESTING_16: [u16; 8] = [0, 1, 0x7fff, 0x8000, 0xffff, 0x0100, 0x1000, 0x03e8];
const INTERESTING_32: [u32; 7] = [
    0,
    1,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x0001_0000,
    0x0000_ffff,
];

/// One blind mutation of `data`: a bit flip, an interesting value, an arithmetic step, a
/// deletion, a duplicated or inserted block, a dictionary token, a truncation or a splice with
/// another seed. Blind mutations come after the structure-aware ones, to find what those miss.
pub fn havoc_once(data: &mut Vec<u8>, tape: &mut Tape, dict: &[&[u8]], others: &[&[u8]]) {
    let len = data.len();
    let at = tape.below(len.max(1));
    match tape.below(13) {
        0 if len > 0 => data[at] ^= 1 << tape.below(8),
        1 if len > 0 => data[at] = *tape.pick(&INTERESTING_8),
        2 if len > 1 => {
            let at = at.min(len - 2);
            let v = *tape.pick(&INTERESTING_16);
            let b = if tape.chance(50) {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            data[at..at + 2].copy_from_slice(&b);
        }
        3 if len > 3 => {
            let at = at.min(len - 4);
            let v = *tape.pick(&INTERESTING_32);
            let b = if tape.chance(50) {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            data[at..at + 4].copy_from_slice(&b);
        }
        4 if len > 0 => {
            let d = tape.byte() % 35;
            data[at] = if tape.chance(50) {
                data[at].wrapping_add(d)
            } else {
                data[at].wrapping_sub(d)
            };
        }
        5 if len > 0 => {
            let n = 1 + tape.below((len - at).min(64));
            data.drain(at..(at + n).min(len));
        }
        6 if len > 0 => {
            let n = 1 + tape.below((len - at).min(256));
            let block: Vec<u8> = data[at..(at + n).min(len)].to_vec();
            let to = tape.below(len + 1);
            data.splice(to..to, block);
        }
        7 => {
            let block = tape.bytes(32);
            data.splice(at.min(len)..at.min(len), block);
        }
        8 if !dict.is_empty() => {
            let token = *tape.pick(dict);
            data.splice(at.min(len)..at.min(len), token.iter().copied());
        }
        9 if !dict.is_empty() && len > 0 => {
            let token = *tape.pick(dict);
            let end = (at + token.len()).min(len);
            data.splice(at..end, token.iter().copied());
        }
        10 if len > 0 => data.truncate(at),
        11 if !others.is_empty() => {
            let other = *tape.pick(others);
            let from = tape.below(other.len() + 1);
            data.truncate(at);
            data.extend_from_slice(&other[from..]);
        }
        12 if len > 0 => {
            let n = 1 + tape.below((len - at).min(16));
            let b = tape.byte();
            data[at..(at + n).min(len)].fill(b);
        }
        _ => {}
    }
}

/// Up to `max` blind mutations (often none).
pub fn havoc(data: &mut Vec<u8>, tape: &mut Tape, max: usize, dict: &[&[u8]], others: &[&[u8]]) {
    if !tape.chance(40) {
        return;
    }
    for _ in 0..1 + tape.below(max) {
        havoc_once(data, tape, dict, others);
    }
}

/// Runs `cases` cases of `strategy` through `test`, reporting the count and the time taken.
/// A failure (a panic or a broken property) is shrunk, its input written to
/// `$CARGO_TARGET_DIR/fuzz-failures/<target>.bin` by `render`, and the run fails with it.
pub fn run<S>(
    target: &str,
    cases: u32,
    strategy: S,
    render: impl Fn(&S::Value) -> Vec<u8>,
    test: impl Fn(S::Value) -> TestCaseResult,
) where
    S: Strategy,
    S::Value: Debug,
{
    let seed = seed();
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 4096,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..8 + target.len().min(24)].copy_from_slice(&target.as_bytes()[..target.len().min(24)]);
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &key));
    let started = Instant::now();
    let result = runner.run(&strategy, test);
    let secs = started.elapsed().as_secs_f64();
    match result {
        Ok(()) => eprintln!(
            "fuzz {target}: {cases} cases, seed {seed}, {secs:.1} s ({:.0} cases/s), no failure",
            f64::from(cases) / secs.max(1e-9)
        ),
        Err(TestError::Fail(why, value)) => {
            let path = save_failure(target, &render(&value));
            panic!("fuzz {target} (seed {seed}): {why}\nminimal case: {value:?}\ninput written to {path:?}");
        }
        Err(TestError::Abort(why)) => panic!("fuzz {target} (seed {seed}) aborted: {why}"),
    }
}

fn save_failure(target: &str, input: &[u8]) -> Option<PathBuf> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("fuzz-failures");
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!("{target}.bin"));
    std::fs::write(&path, input).ok()?;
    Some(path)
}

/// Fails the case with `message` unless `cond` holds (like `prop_assert!`, usable in helpers).
pub fn check(cond: bool, message: impl FnOnce() -> String) -> TestCaseResult {
    if cond {
        Ok(())
    } else {
        Err(TestCaseError::fail(message()))
    }
}

/// A temporary directory for a harness's databases and files, removed when dropped: in memory
/// (`/dev/shm`) where there is one, since every case commits and a disk's flushes would set the
/// pace.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(target: &str) -> ScratchDir {
        let shm = std::path::Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("gradphoto-fuzz-{target}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        ScratchDir(dir)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A file under the repository's `tests/data`.
pub fn data_file(relative: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// JSON-aware mutation: a few changes to the value tree (a value replaced by another type or an
/// edge value, a key removed, added or renamed, a string edited, an array grown or emptied,
/// deep nesting), then written compact or pretty, and sometimes mutated as text (a duplicated
/// key, a raw escape, a truncation).
pub fn mutate_json(value: &serde_json::Value, tape: &mut Tape, words: &[&str]) -> Vec<u8> {
    let mut v = value.clone();
    for _ in 0..tape.below(5) {
        let count = count_nodes(&v);
        let target = tape.below(count);
        let mut seen = 0;
        mutate_node(&mut v, target, &mut seen, tape, words);
    }
    let mut text = if tape.chance(20) {
        serde_json::to_vec_pretty(&v)
    } else {
        serde_json::to_vec(&v)
    }
    .unwrap_or_default();
    if tape.chance(3) {
        // Deep nesting, within serde_json's recursion limit or past it.
        let depth = *tape.pick(&[1usize, 126, 127, 128, 129, 10_000]);
        let open = if tape.chance(50) {
            &b"["[..]
        } else {
            &b"{\"a\":"[..]
        };
        let close = if open == b"[" { b"]" } else { b"}" };
        let mut nested = open.repeat(depth);
        nested.extend_from_slice(&text);
        nested.extend(std::iter::repeat_n(close[0], depth));
        text = nested;
    }
    if tape.chance(25) {
        let dict: &[&[u8]] = &[
            b"\"",
            b"\\",
            b"\\u0000",
            b"\\ud800",
            b"\\udc00\\ud800",
            b"\\u00e9",
            b"1e999",
            b"-0",
            b"18446744073709551616",
            b"-9223372036854775809",
            b"null",
            b"[",
            b"]",
            b"{",
            b"}",
            b",",
            b":",
            b"\xff",
            b"\xe5\xad",
            b" ",
        ];
        // A key written twice: serde refuses duplicate fields, a map keeps the last.
        if tape.chance(30) {
            if let Some(at) = text.iter().position(|&b| b == b'{') {
                let key = tape.pick(words);
                let extra = format!("\"{key}\":null,");
                if text.get(at + 1) != Some(&b'}') {
                    text.splice(at + 1..at + 1, extra.bytes());
                }
            }
        }
        havoc(&mut text, tape, 3, dict, &[]);
    }
    text
}

fn count_nodes(v: &serde_json::Value) -> usize {
    1 + match v {
        serde_json::Value::Array(a) => a.iter().map(count_nodes).sum(),
        serde_json::Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

fn mutate_node(
    v: &mut serde_json::Value,
    target: usize,
    seen: &mut usize,
    tape: &mut Tape,
    words: &[&str],
) -> bool {
    use serde_json::Value;
    if *seen == target {
        mutate_here(v, tape, words);
        return true;
    }
    *seen += 1;
    match v {
        Value::Array(a) => a
            .iter_mut()
            .any(|x| mutate_node(x, target, seen, tape, words)),
        Value::Object(o) => o
            .values_mut()
            .any(|x| mutate_node(x, target, seen, tape, words)),
        _ => false,
    }
}

fn json_string(tape: &mut Tape, words: &[&str]) -> String {
    match tape.below(8) {
        0 => String::new(),
        1 => {
            let c = *tape.pick(&['a', '长', '\n', ' ', '\u{0}', '\u{200B}', '😀', '"']);
            std::iter::repeat_n(
                c,
                *tape.pick(&[
                    1usize, 16, 63, 64, 65, 127, 128, 129, 257, 999, 1000, 1001, 5000,
                ]),
            )
            .collect()
        }
        2 => String::from_utf8_lossy(&tape.bytes(24)).into_owned(),
        3 => char::from_u32(tape.u32() % 0x11_0000)
            .unwrap_or('\u{FFFD}')
            .to_string(),
        _ => tape.pick(words).to_string(),
    }
}

fn json_number(tape: &mut Tape) -> serde_json::Value {
    use serde_json::Value;
    match tape.below(10) {
        0 => Value::from(0),
        1 => Value::from(-1),
        2 => Value::from(i64::MAX),
        3 => Value::from(i64::MIN),
        4 => Value::from(u64::MAX),
        5 => Value::from(u32::MAX),
        6 => Value::from(1.5),
        7 => Value::from(-0.0),
        8 => Value::from(1e300),
        _ => Value::from(tape.u64() as i64 >> tape.below(64)),
    }
}

fn mutate_here(v: &mut serde_json::Value, tape: &mut Tape, words: &[&str]) {
    use serde_json::Value;
    match tape.below(10) {
        0 => *v = Value::Null,
        1 => *v = Value::Bool(tape.chance(50)),
        2 => *v = json_number(tape),
        3 => *v = Value::String(json_string(tape, words)),
        4 => *v = Value::Array(Vec::new()),
        5 => *v = Value::Object(serde_json::Map::new()),
        _ => match v {
            Value::Object(o) if !o.is_empty() => {
                let keys: Vec<String> = o.keys().cloned().collect();
                let key = tape.pick(&keys).clone();
                match tape.below(3) {
                    0 => {
                        o.remove(&key);
                    }
                    1 => {
                        let moved = o.remove(&key).unwrap_or_default();
                        o.insert(tape.pick(words).to_string(), moved);
                    }
                    _ => {
                        o.insert(
                            tape.pick(words).to_string(),
                            Value::String(json_string(tape, words)),
                        );
                    }
                }
            }
            Value::Array(a) => match tape.below(3) {
                0 if !a.is_empty() => {
                    let at = tape.below(a.len());
                    a.remove(at);
                }
                1 if !a.is_empty() => {
                    let x = a[tape.below(a.len())].clone();
                    let n = *tape.pick(&[1usize, 15, 16, 17, 100]);
                    a.extend(std::iter::repeat_n(x, n));
                }
                _ => a.push(Value::String(json_string(tape, words))),
            },
            Value::String(s) => {
                let mut chars: Vec<char> = s.chars().collect();
                let at = tape.below(chars.len() + 1);
                match tape.below(3) {
                    0 if at < chars.len() => {
                        chars.remove(at);
                    }
                    1 => chars
                        .splice(at..at, json_string(tape, words).chars())
                        .for_each(drop),
                    _ => chars.truncate(at),
                }
                *s = chars.into_iter().collect();
            }
            Value::Number(_) => *v = json_number(tape),
            _ => *v = Value::String(json_string(tape, words)),
        },
    }
}

/// Two JSON values equal but for float rounding (serde_json may parse a float one unit in the
/// last place off what it wrote).
pub fn json_close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            _ if x == y => true,
            (Some(x), Some(y)) => (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_close(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_close(v, w)))
        }
        _ => a == b,
    }
}
