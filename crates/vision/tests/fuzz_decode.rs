//! Fuzzing of the decoding of uploaded pictures, the path the server's analysis takes for every
//! upload (`sniff`, `header_size`, `inspect::working_reduction`, `decode_reduced` with the pixel
//! limit, EXIF orientation, JPEG DCT scaling, PNG with transparency).
//!
//! Seeds are made from the real test photos: small crops of them encoded as JPEG (baseline,
//! progressive, 4:2:0, 4:2:2 and 4:4:4, restart intervals, grey, CMYK and YCCK, with the real
//! EXIF block of a phone JPEG in every orientation) and as PNG (every colour type and bit depth,
//! palettes with transparency, Adam7 interlacing, every row filter, the EXIF as `eXIf`), plus
//! the real files themselves. Each case mutates one as JPEG segments (frame size, precision,
//! components, sampling factors, tables, scan headers, restart intervals, EXIF entries and
//! orientation, the entropy-coded data, segments dropped, repeated, swapped or taken from another
//! seed) or PNG chunks (header fields, the raw filtered rows, split or missing data chunks,
//! palettes, transparency, EXIF, compressed profiles and text that inflate to many megabytes,
//! animation chunks, checksums), and sometimes the bytes blindly.
//!
//! Properties: never panics; never allocates more than its budget for the pixel limit (the
//! global allocator is capped around every decode: a decoder that sized a buffer from an
//! unchecked header would abort the run); a header announcing more pixels than the limit is
//! refused as `TooManyPixels`; a decoded picture is upright, within the limit, of the size its
//! header announces, reduced by a power of two no larger than asked, and sniffed as what it is.
//!
//! The million-case run uses the small seeds; the real photos (up to 12 megapixels) run a
//! two-hundredth as many cases. `GRADPHOTO_FUZZ_CASES=1000000 cargo test --release -p
//! gradphoto-vision --test fuzz_decode` (docs/fuzzing.md).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

#[path = "../../../tests/fuzz/support.rs"]
mod fuzz;

use std::alloc::System;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use cap::Cap;
use fuzz::{check, Tape};
use gradphoto_domain::Localized;
use gradphoto_vision::decode::{decode_reduced, header_size, DecodeLimits};
use gradphoto_vision::inspect::working_reduction;
use gradphoto_vision::{sniff, ImageFormat, VisionError};
use image::RgbImage;
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use proptest::test_runner::TestCaseResult;

#[global_allocator]
static ALLOC: Cap<System> = Cap::new(System, usize::MAX);

// ---------------------------------------------------------------------------------------------
// Checksums and zlib streams, to write PNG files whose chunks and data stay valid after a
// structure-aware mutation.

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
}

const CRC_TABLE: [u32; 256] = crc_table();

fn crc32(parts: &[&[u8]]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for part in parts {
        for &b in *part {
            c = CRC_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
        }
    }
    c ^ 0xFFFF_FFFF
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

/// A zlib stream of stored (uncompressed) blocks.
fn zlib_stored(raw: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut blocks = raw.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(raw).to_be_bytes());
    out
}

/// The data of a zlib stream made of stored blocks (`None` for compressed streams).
fn unstored(z: &[u8]) -> Option<Vec<u8>> {
    let mut i = 2;
    let mut out = Vec::new();
    loop {
        let header = *z.get(i)?;
        if header & 0b110 != 0 {
            return None;
        }
        let len = usize::from(u16::from_le_bytes([*z.get(i + 1)?, *z.get(i + 2)?]));
        out.extend_from_slice(z.get(i + 5..i + 5 + len)?);
        i += 5 + len;
        if header & 1 == 1 {
            return Some(out);
        }
    }
}

/// A zlib stream of fixed-Huffman blocks that inflates to one zero byte and then `runs` runs
/// of 258 more (13 bits each): a decompression bomb of about 160:1.
fn zlib_zeros(runs: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u32,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, value: u32, bits: u32) {
            self.acc |= value << self.n;
            self.n += bits;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// Huffman codes go most significant bit first.
        fn code(&mut self, code: u32, bits: u32) {
            let reversed = code.reverse_bits() >> (32 - bits);
            self.put(reversed, bits);
        }
    }
    let mut w = Bits {
        out: vec![0x78, 0x01],
        acc: 0,
        n: 0,
    };
    w.put(1, 1); // final block
    w.put(1, 2); // fixed Huffman
    w.code(0x30, 8); // literal 0
    for _ in 0..runs {
        w.code(0b1100_0101, 8); // length code 285: 258
        w.code(0, 5); // distance code 0: 1
    }
    w.code(0, 7); // end of block
    if w.n > 0 {
        w.out.push(w.acc as u8);
    }
    // Adler-32 of n zero bytes: a stays 1, b adds it n times.
    let n = (1 + 258 * runs) % 65_521;
    w.out
        .extend_from_slice(&(((n as u32) << 16) | 1).to_be_bytes());
    w.out
}

// ---------------------------------------------------------------------------------------------
// PNG: chunks, and a writer for every colour type, depth, filter and interlacing.

#[derive(Debug, Clone)]
struct Chunk {
    kind: [u8; 4],
    data: Vec<u8>,
    bad_crc: bool,
}

#[derive(Debug, Clone)]
struct Png {
    chunks: Vec<Chunk>,
    tail: Vec<u8>,
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn parse_png(b: &[u8]) -> Option<Png> {
    let mut i = PNG_SIGNATURE.len();
    if !b.starts_with(PNG_SIGNATURE) {
        return None;
    }
    let mut chunks = Vec::new();
    while i + 12 <= b.len() {
        let len = u32::from_be_bytes(b[i..i + 4].try_into().ok()?) as usize;
        if i + 12 + len > b.len() {
            break;
        }
        let kind: [u8; 4] = b[i + 4..i + 8].try_into().ok()?;
        chunks.push(Chunk {
            kind,
            data: b[i + 8..i + 8 + len].to_vec(),
            bad_crc: false,
        });
        i += 12 + len;
    }
    Some(Png {
        chunks,
        tail: b[i.min(b.len())..].to_vec(),
    })
}

fn write_png(png: &Png) -> Vec<u8> {
    let mut out = PNG_SIGNATURE.to_vec();
    for c in &png.chunks {
        out.extend_from_slice(&(c.data.len() as u32).to_be_bytes());
        out.extend_from_slice(&c.kind);
        out.extend_from_slice(&c.data);
        let crc = crc32(&[&c.kind, &c.data]) ^ u32::from(c.bad_crc);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    out.extend_from_slice(&png.tail);
    out
}

fn chunk(kind: &[u8; 4], data: Vec<u8>) -> Chunk {
    Chunk {
        kind: *kind,
        data,
        bad_crc: false,
    }
}

/// Samples of one pixel for a colour type (palette: an index into a grey ramp).
fn samples(p: [u8; 3], x: u32, y: u32, color: u8, depth: u8) -> Vec<u16> {
    let grey = (u16::from(p[0]) * 77 + u16::from(p[1]) * 150 + u16::from(p[2]) * 29) >> 8;
    let alpha = ((x * 37 + y * 91) % 256) as u16;
    let scale = |v: u16| -> u16 {
        match depth {
            16 => v * 257,
            8 => v,
            d => v >> (8 - d),
        }
    };
    match color {
        0 | 3 => vec![scale(grey)],
        2 => p.iter().map(|&v| scale(u16::from(v))).collect(),
        4 => vec![scale(grey), scale(alpha)],
        _ => vec![
            scale(u16::from(p[0])),
            scale(u16::from(p[1])),
            scale(u16::from(p[2])),
            scale(alpha),
        ],
    }
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// The filtered rows of one (sub)image: row `i` uses filter `i % 5`.
fn filtered_rows(rows: &[Vec<u8>], bpp: usize, out: &mut Vec<u8>) {
    let mut prev: Vec<u8> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let filter = (i % 5) as u8;
        out.push(filter);
        let up = |j: usize| prev.get(j).copied().unwrap_or(0);
        for j in 0..row.len() {
            let left = if j >= bpp { row[j - bpp] } else { 0 };
            let ul = if j >= bpp { up(j - bpp) } else { 0 };
            let predicted = match filter {
                1 => left,
                2 => up(j),
                3 => ((u16::from(left) + u16::from(up(j))) / 2) as u8,
                4 => paeth(left, up(j), ul),
                _ => 0,
            };
            out.push(row[j].wrapping_sub(predicted));
        }
        prev = row.clone();
    }
}

/// A PNG of `img` with the given colour type, bit depth and interlacing, the data in stored
/// zlib blocks (so mutations can reach the rows), and `extra` chunks before the data.
fn encode_png(img: &RgbImage, color: u8, depth: u8, interlace: bool, extra: &[Chunk]) -> Vec<u8> {
    let (w, h) = img.dimensions();
    let channels = match color {
        0 | 3 => 1,
        2 => 3,
        4 => 2,
        _ => 4,
    };
    let bits = usize::from(depth) * channels;
    let bpp = bits.div_ceil(8).max(1);
    let row_of = |xs: &[u32], y: u32| -> Vec<u8> {
        let mut row = vec![0u8; (xs.len() * bits).div_ceil(8)];
        let mut bit = 0usize;
        for &x in xs {
            for s in samples(img.get_pixel(x, y).0, x, y, color, depth) {
                if depth == 16 {
                    row[bit / 8..bit / 8 + 2].copy_from_slice(&s.to_be_bytes());
                } else if depth == 8 {
                    row[bit / 8] = s as u8;
                } else {
                    row[bit / 8] |= (s as u8) << (8 - usize::from(depth) - bit % 8);
                }
                bit += usize::from(depth);
            }
        }
        row
    };
    let mut raw = Vec::new();
    let passes: &[(u32, u32, u32, u32)] = if interlace {
        &[
            (0, 0, 8, 8),
            (4, 0, 8, 8),
            (0, 4, 4, 8),
            (2, 0, 4, 4),
            (0, 2, 2, 4),
            (1, 0, 2, 2),
            (0, 1, 1, 2),
        ]
    } else {
        &[(0, 0, 1, 1)]
    };
    for &(x0, y0, dx, dy) in passes {
        let xs: Vec<u32> = (x0..w).step_by(dx as usize).collect();
        if xs.is_empty() {
            continue;
        }
        let rows: Vec<Vec<u8>> = (y0..h)
            .step_by(dy as usize)
            .map(|y| row_of(&xs, y))
            .collect();
        filtered_rows(&rows, bpp, &mut raw);
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[depth, color, 0, 0, u8::from(interlace)]);
    let mut chunks = vec![chunk(b"IHDR", ihdr)];
    if color == 3 {
        let n = 1usize << depth;
        let plte: Vec<u8> = (0..n)
            .flat_map(|i| {
                let v = (i * 255 / (n - 1).max(1)) as u8;
                [v, v / 2, 255 - v]
            })
            .collect();
        chunks.push(chunk(b"PLTE", plte));
        chunks.push(chunk(
            b"tRNS",
            (0..n.min(4)).map(|i| (i * 60) as u8).collect(),
        ));
    }
    chunks.extend(extra.iter().cloned());
    chunks.push(chunk(b"IDAT", zlib_stored(&raw)));
    chunks.push(chunk(b"IEND", Vec::new()));
    write_png(&Png {
        chunks,
        tail: Vec::new(),
    })
}

// ---------------------------------------------------------------------------------------------
// JPEG: marker segments, the scan data kept with its SOS segment.

#[derive(Debug, Clone)]
struct Segment {
    marker: u8,
    payload: Vec<u8>,
    /// Entropy-coded data after an SOS header.
    scan: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Jpeg {
    segments: Vec<Segment>,
    tail: Vec<u8>,
}

fn standalone(marker: u8) -> bool {
    matches!(marker, 0x01 | 0xD0..=0xD9)
}

fn parse_jpeg(b: &[u8]) -> Option<Jpeg> {
    if !b.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut i = 2;
    let mut segments = Vec::new();
    let mut tail = Vec::new();
    while i < b.len() {
        if b[i] != 0xFF {
            tail = b[i..].to_vec();
            break;
        }
        let start = i;
        while i < b.len() && b[i] == 0xFF {
            i += 1;
        }
        let Some(&marker) = b.get(i) else {
            tail = b[start..].to_vec();
            break;
        };
        i += 1;
        if standalone(marker) {
            segments.push(Segment {
                marker,
                payload: Vec::new(),
                scan: Vec::new(),
            });
            if marker == 0xD9 {
                tail = b[i..].to_vec();
                break;
            }
            continue;
        }
        let Some(len) = b
            .get(i..i + 2)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            tail = b[start..].to_vec();
            break;
        };
        if len < 2 || i + len > b.len() {
            tail = b[start..].to_vec();
            break;
        }
        let payload = b[i + 2..i + len].to_vec();
        i += len;
        let mut scan = Vec::new();
        if marker == 0xDA {
            let begin = i;
            while i + 1 < b.len()
                && !(b[i] == 0xFF && b[i + 1] != 0 && !(0xD0..=0xD7).contains(&b[i + 1]))
            {
                i += 1;
            }
            if i + 1 >= b.len() {
                i = b.len();
            }
            scan = b[begin..i].to_vec();
        }
        segments.push(Segment {
            marker,
            payload,
            scan,
        });
    }
    Some(Jpeg { segments, tail })
}

fn write_jpeg(j: &Jpeg) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    for s in &j.segments {
        out.extend_from_slice(&[0xFF, s.marker]);
        if !standalone(s.marker) {
            let payload = &s.payload[..s.payload.len().min(65_533)];
            out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
            out.extend_from_slice(payload);
            out.extend_from_slice(&s.scan);
        }
    }
    out.extend_from_slice(&j.tail);
    out
}

fn is_sof(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

// ---------------------------------------------------------------------------------------------
// EXIF (TIFF) entries: the orientation and any entry's type, count and offset.

/// The offsets of IFD0's entries and the byte order (true: little-endian).
fn ifd0_entries(tiff: &[u8]) -> Option<(bool, Vec<usize>)> {
    let le = match tiff.get(..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |i: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(i..i + 2)?.try_into().ok()?;
        Some(if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let b: [u8; 4] = tiff.get(4..8)?.try_into().ok()?;
    let ifd = if le {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    } as usize;
    let n = usize::from(u16_at(ifd)?);
    let entries = (0..n)
        .map(|k| ifd + 2 + 12 * k)
        .take_while(|&e| e + 12 <= tiff.len())
        .collect();
    Some((le, entries))
}

fn put_u16(buf: &mut [u8], at: usize, v: u16, le: bool) {
    if let Some(dst) = buf.get_mut(at..at + 2) {
        dst.copy_from_slice(&if le { v.to_le_bytes() } else { v.to_be_bytes() });
    }
}

fn put_u32(buf: &mut [u8], at: usize, v: u32, le: bool) {
    if let Some(dst) = buf.get_mut(at..at + 4) {
        dst.copy_from_slice(&if le { v.to_le_bytes() } else { v.to_be_bytes() });
    }
}

/// Sets the orientation entry (tag 0x0112) of IFD0, if there is one.
fn set_orientation(tiff: &mut [u8], value: u16) -> bool {
    let Some((le, entries)) = ifd0_entries(tiff) else {
        return false;
    };
    for e in entries {
        let tag = if le {
            u16::from_le_bytes([tiff[e], tiff[e + 1]])
        } else {
            u16::from_be_bytes([tiff[e], tiff[e + 1]])
        };
        if tag == 0x0112 {
            put_u16(tiff, e + 8, value, le);
            return true;
        }
    }
    false
}

/// Breaks one entry of IFD0: its tag, type, count or value offset.
fn corrupt_entry(tiff: &mut [u8], tape: &mut Tape) {
    let Some((le, entries)) = ifd0_entries(tiff) else {
        return;
    };
    if entries.is_empty() {
        return;
    }
    let e = *tape.pick(&entries);
    match tape.below(4) {
        0 => put_u16(
            tiff,
            e,
            *tape.pick(&[0x0112, 0x010F, 0x8769, 0x8825, 0xA005, 0x927C]),
            le,
        ),
        1 => put_u16(tiff, e + 2, tape.u16() % 16, le),
        2 => put_u32(
            tiff,
            e + 4,
            *tape.pick(&[
                0,
                1,
                2,
                0xFFFF,
                0x7FFF_FFFF,
                0xFFFF_FFFF,
                tape_len_hint(tiff),
            ]),
            le,
        ),
        _ => put_u32(
            tiff,
            e + 8,
            *tape.pick(&[0, 8, 0xFFFF, 0xFFFF_FFFF, tape_len_hint(tiff), 0x10]),
            le,
        ),
    }
}

fn tape_len_hint(tiff: &[u8]) -> u32 {
    tiff.len() as u32
}

/// The TIFF part of the EXIF block of a real phone JPEG.
fn real_exif() -> &'static [u8] {
    static EXIF: OnceLock<Vec<u8>> = OnceLock::new();
    EXIF.get_or_init(|| {
        let j = parse_jpeg(&fuzz::data_file("photos/phone_1080p.jpg")).unwrap();
        let app1 = j
            .segments
            .iter()
            .find(|s| s.marker == 0xE1 && s.payload.starts_with(b"Exif\0\0"))
            .expect("the phone JPEG has EXIF");
        app1.payload[6..].to_vec()
    })
}

fn exif_with_orientation(o: u16) -> Vec<u8> {
    let mut tiff = real_exif().to_vec();
    assert!(
        set_orientation(&mut tiff, o),
        "the phone EXIF has an orientation"
    );
    tiff
}

// ---------------------------------------------------------------------------------------------
// Seeds.

struct Seeds {
    /// Small pictures made from the real photos (the million-case run).
    small: Vec<Vec<u8>>,
    /// The real photos and ID cards as they are (up to 12 megapixels).
    real: Vec<Vec<u8>>,
}

fn pictures() -> Vec<RgbImage> {
    let limits = DecodeLimits::default();
    let sources = [
        "photos/real/r_plain_wall.jpg",
        "photos/real/r_earrings.jpg",
        "photos/real/r_sunglasses.jpg",
        "photos/astronaut.png",
        "idcards/idcard_astronaut_photo.jpg",
    ];
    let sizes = [
        (1, 1),
        (8, 8),
        (16, 12),
        (13, 21),
        (33, 17),
        (48, 64),
        (7, 3),
    ];
    let mut out = Vec::new();
    for (i, src) in sources.iter().enumerate() {
        let full = decode_reduced(&fuzz::data_file(src), limits, 4)
            .unwrap()
            .rgb;
        for (w, h) in sizes.iter().skip(i % 2).step_by(2) {
            out.push(image::imageops::resize(
                &full,
                *w,
                *h,
                image::imageops::FilterType::Triangle,
            ));
        }
    }
    out
}

#[derive(Clone, Copy)]
struct JpegStyle {
    quality: u8,
    progressive: bool,
    sampling: SamplingFactor,
    restart: u16,
    colour: ColorType,
    orientation: Option<u16>,
}

fn encode_jpeg(img: &RgbImage, style: JpegStyle) -> Vec<u8> {
    let (w, h) = img.dimensions();
    let data: Vec<u8> = match style.colour {
        ColorType::Luma => img.pixels().map(|p| p[1]).collect(),
        ColorType::Cmyk | ColorType::CmykAsYcck => img
            .pixels()
            .flat_map(|p| [255 - p[0], 255 - p[1], 255 - p[2], 40])
            .collect(),
        _ => img.as_raw().clone(),
    };
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, style.quality);
    enc.set_progressive(style.progressive);
    enc.set_sampling_factor(style.sampling);
    if style.restart > 0 {
        enc.set_restart_interval(style.restart);
    }
    if let Some(o) = style.orientation {
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&exif_with_orientation(o));
        enc.add_app_segment(1, &app1).unwrap();
    }
    enc.encode(&data, w as u16, h as u16, style.colour).unwrap();
    buf
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let pictures = pictures();
        let s = |quality, progressive, sampling, restart, colour, orientation| JpegStyle {
            quality,
            progressive,
            sampling,
            restart,
            colour,
            orientation,
        };
        let styles = [
            s(85, false, SamplingFactor::F_2_2, 0, ColorType::Rgb, Some(1)),
            s(90, true, SamplingFactor::F_1_1, 0, ColorType::Rgb, Some(6)),
            s(70, false, SamplingFactor::F_2_1, 2, ColorType::Rgb, Some(3)),
            s(95, true, SamplingFactor::F_2_2, 1, ColorType::Rgb, Some(8)),
            s(80, false, SamplingFactor::F_1_1, 0, ColorType::Luma, None),
            s(60, true, SamplingFactor::F_1_1, 3, ColorType::Luma, Some(5)),
            s(85, false, SamplingFactor::F_1_1, 0, ColorType::Cmyk, None),
            s(
                85,
                false,
                SamplingFactor::F_2_2,
                0,
                ColorType::CmykAsYcck,
                Some(2),
            ),
            s(50, false, SamplingFactor::F_4_1, 0, ColorType::Rgb, Some(7)),
            s(75, true, SamplingFactor::F_1_2, 4, ColorType::Rgb, Some(4)),
        ];
        let png_styles: [(u8, u8); 15] = [
            (0, 1),
            (0, 2),
            (0, 4),
            (0, 8),
            (0, 16),
            (2, 8),
            (2, 16),
            (3, 1),
            (3, 2),
            (3, 4),
            (3, 8),
            (4, 8),
            (4, 16),
            (6, 8),
            (6, 16),
        ];
        let mut small = Vec::new();
        for (i, img) in pictures.iter().enumerate() {
            small.push(encode_jpeg(img, styles[i % styles.len()]));
            let (color, depth) = png_styles[i % png_styles.len()];
            let exif = if i % 3 == 0 {
                vec![chunk(b"eXIf", exif_with_orientation((i % 8 + 1) as u16))]
            } else {
                Vec::new()
            };
            small.push(encode_png(img, color, depth, i % 4 == 1, &exif));
        }
        // The product's own encoders' output, as real uploads carry it.
        for img in pictures.iter().take(3) {
            for format in [image::ImageFormat::Jpeg, image::ImageFormat::Png] {
                let mut out = std::io::Cursor::new(Vec::new());
                img.write_to(&mut out, format).unwrap();
                small.push(out.into_inner());
            }
        }
        let real = [
            "photos/real/r_tight_top.jpg",
            "photos/real/r_no_room_below.jpg",
            "photos/real/r_plain_wall.jpg",
            "photos/real/r_earrings.jpg",
            "photos/real/r_fringe.jpg",
            "photos/phone_1080p.jpg",
            "photos/phone_12mp.jpg",
            "photos/solvay_conference_1927.jpg",
            "photos/id_card_text.png",
            "photos/newton.png",
            "idcards/idcard_astronaut_photo.jpg",
            "idcards/idcard_gauss.png",
        ]
        .iter()
        .map(|f| fuzz::data_file(f))
        .collect();
        Seeds { small, real }
    })
}

// ---------------------------------------------------------------------------------------------
// Mutations.

const DIMENSIONS_16: [u16; 19] = [
    0, 1, 2, 7, 8, 9, 15, 16, 17, 255, 256, 1000, 4096, 7071, 7072, 8192, 32767, 32768, 65535,
];
const DIMENSIONS_32: [u32; 12] = [
    0,
    1,
    3,
    16,
    255,
    7071,
    7072,
    65535,
    65536,
    1_000_000,
    0x7FFF_FFFF,
    0xFFFF_FFFF,
];

fn dimension_16(tape: &mut Tape) -> u16 {
    if tape.chance(70) {
        *tape.pick(&DIMENSIONS_16)
    } else {
        tape.u16()
    }
}

fn mutate_jpeg(j: &mut Jpeg, tape: &mut Tape, donors: &[Jpeg]) {
    for _ in 0..tape.below(6) {
        let n = j.segments.len();
        if n == 0 {
            return;
        }
        let pick_marker = |j: &Jpeg, tape: &mut Tape, want: &dyn Fn(u8) -> bool| {
            let found: Vec<usize> = (0..j.segments.len())
                .filter(|&k| want(j.segments[k].marker))
                .collect();
            (!found.is_empty()).then(|| *tape.pick(&found))
        };
        match tape.below(17) {
            0 | 1 => {
                if let Some(k) = pick_marker(j, tape, &is_sof) {
                    let p = &mut j.segments[k].payload;
                    let at = if tape.chance(50) { 1 } else { 3 };
                    let v = dimension_16(tape);
                    if p.len() >= at + 2 {
                        p[at..at + 2].copy_from_slice(&v.to_be_bytes());
                    }
                }
            }
            2 => {
                if let Some(k) = pick_marker(j, tape, &is_sof) {
                    let p = &mut j.segments[k].payload;
                    match tape.below(4) {
                        0 if !p.is_empty() => p[0] = *tape.pick(&[8, 12, 16, 0, 255]),
                        1 if p.len() > 5 => p[5] = *tape.pick(&[1, 3, 4, 0, 2, 5, 255]),
                        2 => {
                            let cut = tape.below(p.len() + 1);
                            p.truncate(cut);
                        }
                        _ => p.extend(tape.bytes(9)),
                    }
                }
            }
            3 => {
                if let Some(k) = pick_marker(j, tape, &is_sof) {
                    let p = &mut j.segments[k].payload;
                    let comps = p.len().saturating_sub(6) / 3;
                    if comps > 0 {
                        let c = tape.below(comps);
                        let at = 6 + 3 * c + tape.below(3);
                        p[at] = match at % 3 {
                            1 => *tape.pick(&[
                                0x11, 0x21, 0x12, 0x22, 0x41, 0x14, 0x44, 0x00, 0x0F, 0xF0, 0xFF,
                                0x31, 0x13,
                            ]),
                            2 => *tape.pick(&[0, 1, 2, 3, 4, 255]),
                            _ => *tape.pick(&[0, 1, 2, 3, 4, 82, 71, 66, 255]),
                        };
                    }
                }
            }
            4 => {
                if let Some(k) = pick_marker(j, tape, &is_sof) {
                    let markers = [
                        0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
                        0xCF,
                    ];
                    j.segments[k].marker = *tape.pick(&markers);
                }
            }
            5 => {
                if let Some(k) = pick_marker(j, tape, &|m| m == 0xDB || m == 0xC4) {
                    let p = &mut j.segments[k].payload;
                    if !p.is_empty() {
                        let at = if tape.chance(50) {
                            0
                        } else {
                            tape.below(p.len().min(17))
                        };
                        p[at] = match tape.below(3) {
                            0 => *tape.pick(&[0, 1, 2, 3, 0x10, 0x11, 0x13, 0x14, 0xFF]),
                            1 => tape.byte(),
                            _ => p[at].wrapping_add(1),
                        };
                    }
                }
            }
            6 => {
                if let Some(k) = pick_marker(j, tape, &|m| m == 0xDA) {
                    let p = &mut j.segments[k].payload;
                    if !p.is_empty() {
                        let at = match tape.below(4) {
                            0 => 0,
                            1 => p.len().saturating_sub(3) + tape.below(3),
                            _ => tape.below(p.len()),
                        };
                        if at < p.len() {
                            p[at] = if tape.chance(50) {
                                *tape.pick(&[0, 1, 2, 3, 4, 5, 63, 64, 0x10, 0x11, 0x21, 0xFF])
                            } else {
                                tape.byte()
                            };
                        }
                    }
                }
            }
            7 => {
                let interval = *tape.pick(&[0u16, 1, 2, 3, 0xFFFF, 100]);
                let dri = Segment {
                    marker: 0xDD,
                    payload: interval.to_be_bytes().to_vec(),
                    scan: Vec::new(),
                };
                match pick_marker(j, tape, &|m| m == 0xDD) {
                    Some(k) => j.segments[k] = dri,
                    None => {
                        let at = tape.below(n + 1);
                        j.segments.insert(at, dri);
                    }
                }
            }
            8 => {
                let k = pick_marker(j, tape, &|m| m == 0xE1);
                match k {
                    Some(k) if j.segments[k].payload.starts_with(b"Exif\0\0") => {
                        let tiff = &mut j.segments[k].payload[6..];
                        if tape.chance(50) {
                            let o = *tape.pick(&[0u16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xFFFF]);
                            set_orientation(tiff, o);
                        } else {
                            corrupt_entry(tiff, tape);
                        }
                    }
                    _ => {
                        let mut app1 = b"Exif\0\0".to_vec();
                        app1.extend_from_slice(&exif_with_orientation(1 + tape.below(8) as u16));
                        j.segments.insert(
                            0,
                            Segment {
                                marker: 0xE1,
                                payload: app1,
                                scan: Vec::new(),
                            },
                        );
                    }
                }
            }
            9 | 10 => {
                if let Some(k) = pick_marker(j, tape, &|m| m == 0xDA) {
                    let scan = &mut j.segments[k].scan;
                    let len = scan.len();
                    let at = tape.below(len + 1);
                    match tape.below(5) {
                        0 if len > 0 => scan[at.min(len - 1)] ^= 1 << tape.below(8),
                        1 => {
                            let m = *tape.pick(&[0xD0, 0xD1, 0xD7, 0xD9, 0xDA, 0xC4, 0x00, 0xFF]);
                            scan.splice(at..at, [0xFF, m]);
                        }
                        2 => scan.truncate(at),
                        3 if len > 0 => {
                            let end = (at + 1 + tape.below(64)).min(len);
                            let v = tape.byte();
                            scan[at.min(len - 1)..end].fill(v);
                        }
                        _ => {
                            let block = scan[at..(at + tape.below(128)).min(len)].to_vec();
                            let to = tape.below(len + 1);
                            scan.splice(to..to, block);
                        }
                    }
                }
            }
            11 => {
                let k = tape.below(n);
                j.segments.remove(k);
            }
            12 => {
                let k = tape.below(n);
                let copy = j.segments[k].clone();
                let to = tape.below(n + 1);
                j.segments.insert(to, copy);
            }
            13 if !donors.is_empty() => {
                let donor = tape.pick(donors);
                if !donor.segments.is_empty() {
                    let s = donor.segments[tape.below(donor.segments.len())].clone();
                    let to = tape.below(n + 1);
                    if tape.chance(50) && to < n {
                        j.segments[to] = s;
                    } else {
                        j.segments.insert(to, s);
                    }
                }
            }
            14 if n > 1 => {
                let (a, b) = (tape.below(n), tape.below(n));
                j.segments.swap(a, b);
            }
            15 => {
                let keep = tape.below(n + 1);
                j.segments.truncate(keep);
                j.tail = tape.bytes(8);
            }
            _ => {
                // A segment with a random marker and payload.
                let marker = tape.byte();
                let payload = tape.bytes(24);
                let to = tape.below(n + 1);
                j.segments.insert(
                    to,
                    Segment {
                        marker,
                        payload,
                        scan: Vec::new(),
                    },
                );
            }
        }
    }
}

/// Runs of a decompression bomb: mostly a few kilobytes, sometimes up to 64 MiB inflated.
fn bomb_runs(tape: &mut Tape) -> usize {
    1 + if tape.chance(5) {
        tape.below(260_000)
    } else {
        tape.below(2_000)
    }
}

fn ihdr_mut(p: &mut Png) -> Option<&mut Vec<u8>> {
    p.chunks
        .iter_mut()
        .find(|c| &c.kind == b"IHDR")
        .map(|c| &mut c.data)
}

fn mutate_png(p: &mut Png, tape: &mut Tape, donors: &[Png]) {
    for _ in 0..tape.below(6) {
        let n = p.chunks.len();
        match tape.below(16) {
            0 | 1 => {
                let v = if tape.chance(70) {
                    *tape.pick(&DIMENSIONS_32)
                } else {
                    tape.u32() >> tape.below(32)
                };
                let at = if tape.chance(50) { 0 } else { 4 };
                if let Some(d) = ihdr_mut(p) {
                    if d.len() >= at + 4 {
                        d[at..at + 4].copy_from_slice(&v.to_be_bytes());
                    }
                }
            }
            2 => {
                let (at, v) = match tape.below(5) {
                    0 => (8, *tape.pick(&[1, 2, 4, 8, 16, 0, 3, 32])),
                    1 => (9, *tape.pick(&[0, 2, 3, 4, 6, 1, 5, 7])),
                    2 => (10, *tape.pick(&[0, 1])),
                    3 => (11, *tape.pick(&[0, 1])),
                    _ => (12, *tape.pick(&[0, 1, 2])),
                };
                if let Some(d) = ihdr_mut(p) {
                    if let Some(b) = d.get_mut(at) {
                        *b = v;
                    }
                }
            }
            3 | 4 => {
                let idats: Vec<usize> = (0..n).filter(|&k| &p.chunks[k].kind == b"IDAT").collect();
                if idats.is_empty() {
                    continue;
                }
                let k = *tape.pick(&idats);
                let data = &mut p.chunks[k].data;
                match unstored(data) {
                    Some(mut raw) => {
                        let len = raw.len();
                        let at = tape.below(len + 1);
                        match tape.below(4) {
                            0 if len > 0 => {
                                raw[at.min(len - 1)] = *tape.pick(&[0, 1, 2, 3, 4, 5, 255])
                            }
                            1 if len > 0 => raw[at.min(len - 1)] ^= 1 << tape.below(8),
                            2 => raw.truncate(at),
                            _ => raw.extend(tape.bytes(64)),
                        }
                        *data = zlib_stored(&raw);
                    }
                    None if !data.is_empty() => {
                        let at = tape.below(data.len());
                        data[at] ^= 1 << tape.below(8);
                    }
                    None => {}
                }
            }
            5 if n > 0 => {
                // Split a chunk's data in two chunks of the same type.
                let k = tape.below(n);
                let cut = tape.below(p.chunks[k].data.len() + 1);
                let rest = p.chunks[k].data.split_off(cut);
                let kind = p.chunks[k].kind;
                p.chunks.insert(k + 1, chunk(&kind, rest));
            }
            6 if n > 0 => {
                let k = tape.below(n);
                p.chunks.remove(k);
            }
            7 if n > 0 => {
                let k = tape.below(n);
                let c = p.chunks[k].clone();
                p.chunks.insert(tape.below(n + 1), c);
            }
            8 if n > 1 => {
                let (a, b) = (tape.below(n), tape.below(n));
                p.chunks.swap(a, b);
            }
            9 | 10 => {
                let c = match tape.below(12) {
                    0 => chunk(b"PLTE", tape.bytes(48)),
                    1 => chunk(b"tRNS", tape.bytes(20)),
                    2 => {
                        let mut tiff = exif_with_orientation(1);
                        if tape.chance(50) {
                            set_orientation(&mut tiff, tape.u16() % 12);
                        } else {
                            corrupt_entry(&mut tiff, tape);
                        }
                        chunk(b"eXIf", tiff)
                    }
                    3 => chunk(b"gAMA", 45_455u32.to_be_bytes().to_vec()),
                    4 => chunk(b"sRGB", vec![tape.byte() % 5]),
                    5 => {
                        // An ICC profile that inflates to up to 64 MiB.
                        let mut d = b"icc\0\0".to_vec();
                        d.extend(zlib_zeros(bomb_runs(tape)));
                        chunk(b"iCCP", d)
                    }
                    6 => {
                        let mut d = b"Comment\0\0".to_vec();
                        d.extend(zlib_zeros(bomb_runs(tape)));
                        chunk(b"zTXt", d)
                    }
                    7 => {
                        let mut d = b"Comment\0\x01\0en\0\0".to_vec();
                        d.extend(zlib_zeros(1 + tape.below(4_000)));
                        chunk(b"iTXt", d)
                    }
                    8 => chunk(
                        b"acTL",
                        [1u32, 0].iter().flat_map(|v| v.to_be_bytes()).collect(),
                    ),
                    9 => chunk(b"fcTL", tape.bytes(26)),
                    10 => chunk(b"tEXt", b"Software\0gradphoto".to_vec()),
                    _ => Chunk {
                        kind: [tape.byte(), tape.byte(), tape.byte(), tape.byte()],
                        data: tape.bytes(16),
                        bad_crc: false,
                    },
                };
                let at = tape.below(n + 1).max(usize::from(n > 0));
                p.chunks.insert(at, c);
            }
            11 => {
                // Data that inflates far past what the header announces.
                let idat = chunk(b"IDAT", zlib_zeros(bomb_runs(tape)));
                match p.chunks.iter().position(|c| &c.kind == b"IDAT") {
                    Some(k) => p.chunks[k] = idat,
                    None => p.chunks.insert(n.saturating_sub(1), idat),
                }
            }
            12 if n > 0 => {
                let k = tape.below(n);
                p.chunks[k].bad_crc = true;
            }
            13 => {
                if let Some(c) = p.chunks.iter_mut().find(|c| &c.kind == b"eXIf") {
                    set_orientation(&mut c.data, *tape.pick(&[0u16, 1, 3, 5, 6, 8, 9, 0xFFFF]));
                }
            }
            14 if !donors.is_empty() => {
                let donor = tape.pick(donors);
                if !donor.chunks.is_empty() {
                    let c = donor.chunks[tape.below(donor.chunks.len())].clone();
                    p.chunks.insert(tape.below(n + 1), c);
                }
            }
            15 if n > 0 => {
                let k = tape.below(n);
                let cut = tape.below(p.chunks[k].data.len() + 1);
                p.chunks[k].data.truncate(cut);
            }
            _ => {}
        }
    }
}

const MAGICS: [&[u8]; 10] = [
    b"\xFF\xD8\xFF",
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"RIFF\0\0\0\0WEBPVP8 ",
    b"\0\0\0\x18ftypheic",
    b"\0\0\0\x18ftypavif",
    b"\0\0\0\x18ftypisom",
    b"BM",
    b"II*\0",
    b"MM\0*",
];

/// The bytes of a case: a seed mutated by structure, then maybe blindly; or, sometimes, a
/// known magic number followed by random bytes (for `sniff`).
fn mutated(seeds: &[Vec<u8>], index: usize, tape: &Tape) -> Vec<u8> {
    let mut tape = tape.clone();
    for _ in 0..DECODE_CHOICES {
        tape.byte();
    }
    if tape.chance(3) {
        let mut b = tape.pick(&MAGICS).to_vec();
        b.extend(tape.bytes(40));
        return b;
    }
    let seed = &seeds[index];
    let mut bytes = if let Some(mut j) = parse_jpeg(seed) {
        let donors: Vec<Jpeg> = (0..2)
            .filter_map(|_| parse_jpeg(&seeds[tape.below(seeds.len())]))
            .collect();
        mutate_jpeg(&mut j, &mut tape, &donors);
        write_jpeg(&j)
    } else if let Some(mut p) = parse_png(seed) {
        let donors: Vec<Png> = (0..2)
            .filter_map(|_| parse_png(&seeds[tape.below(seeds.len())]))
            .collect();
        mutate_png(&mut p, &mut tape, &donors);
        write_png(&p)
    } else {
        seed.clone()
    };
    let dict: &[&[u8]] = &[
        b"\xFF\xD8",
        b"\xFF\xD9",
        b"\xFF\xC0\x00\x11\x08",
        b"\xFF\xDA",
        b"IDAT",
        b"IEND",
        b"Exif\0\0",
        b"MM\0*",
    ];
    let other = &seeds[tape.below(seeds.len())];
    fuzz::havoc(&mut bytes, &mut tape, 3, dict, &[other]);
    bytes
}

// ---------------------------------------------------------------------------------------------
// The properties.

/// What a decode may allocate: forty bytes a pixel of the limit (16-bit RGBA decoded, converted
/// to 8 bits and composited on white; progressive coefficients; the rotated copy), a little more
/// than the file itself, and 64 MiB for tables and buffers of fixed size.
fn budget(limits: DecodeLimits, len: usize) -> usize {
    let pixels = usize::try_from(limits.max_pixels).unwrap_or(usize::MAX);
    pixels
        .saturating_mul(40)
        .saturating_add(len.saturating_mul(64))
        .saturating_add(64 << 20)
}

/// Caps the allocator at `budget` more bytes until dropped (also when a decoder panics).
struct Capped;

impl Capped {
    fn new(budget: usize) -> Capped {
        let _ = ALLOC.set_limit(ALLOC.allocated().saturating_add(budget));
        Capped
    }
}

impl Drop for Capped {
    fn drop(&mut self) {
        let _ = ALLOC.set_limit(usize::MAX);
    }
}

const LIMITS: [u64; 3] = [1 << 16, 1 << 20, 50_000_000];
const REDUCTIONS: [u32; 8] = [1, 2, 4, 8, 0, 3, 16, u32::MAX];

fn decode_case(bytes: &[u8], limits: DecodeLimits, max_reduction: Option<u32>) -> TestCaseResult {
    let sniffed = sniff(bytes);
    match &sniffed {
        Ok(ImageFormat::Jpeg) => check(bytes.starts_with(&[0xFF, 0xD8, 0xFF]), || {
            "sniffed as JPEG without its magic".into()
        })?,
        Ok(ImageFormat::Png) => check(bytes.starts_with(PNG_SIGNATURE), || {
            "sniffed as PNG without its signature".into()
        })?,
        Err(e) => check(
            !e.message_en().is_empty() && !e.message_zh().is_empty(),
            || format!("{e:?} has no message"),
        )?,
    }
    let (header, reduction, decoded) = {
        let _cap = Capped::new(budget(limits, bytes.len()));
        let header = header_size(bytes);
        let reduction = match max_reduction {
            Some(r) => r,
            None => working_reduction(bytes).unwrap_or(1),
        };
        (header, reduction, decode_reduced(bytes, limits, reduction))
    };
    let over = |(w, h): (u32, u32)| u64::from(w) * u64::from(h) > limits.max_pixels;
    OUTCOMES[match &decoded {
        Ok(_) => 0,
        Err(VisionError::TooManyPixels { .. }) => 1,
        Err(VisionError::UnsupportedFormat(_)) => 2,
        Err(_) => 3,
    }]
    .fetch_add(1, Ordering::Relaxed);
    match decoded {
        Ok(d) => {
            let (w, h) = d.original_size;
            let r = d.reduction;
            check(matches!(r, 1 | 2 | 4 | 8) && r <= reduction.max(1), || {
                format!("reduced by {r} when asked for at most {reduction}")
            })?;
            check(w > 0 && h > 0 && !over((w, h)), || {
                format!("decoded {w}×{h} with a limit of {}", limits.max_pixels)
            })?;
            check(d.rgb.dimensions() == (w.div_ceil(r), h.div_ceil(r)), || {
                format!("{:?} pixels for {w}×{h} reduced by {r}", d.rgb.dimensions())
            })?;
            check(sniffed.as_ref().ok() == Some(&d.format), || {
                format!("decoded as {:?}, sniffed as {sniffed:?}", d.format)
            })?;
            let o = d.exif.orientation;
            check((1..=8).contains(&o), || format!("orientation {o}"))?;
            if let Ok((hw, hh)) = header {
                let upright = if o >= 5 { (hh, hw) } else { (hw, hh) };
                check((w, h) == upright, || {
                    format!("decoded {w}×{h}, the header says {hw}×{hh} (orientation {o})")
                })?;
            }
            Ok(())
        }
        Err(e) => {
            if let Ok(size) = header {
                check(
                    !over(size) || matches!(e, VisionError::TooManyPixels { .. }),
                    || format!("{size:?} over the limit refused as {e:?}"),
                )?;
            }
            check(!e.message_en().is_empty(), || {
                format!("{e:?} has no message")
            })
        }
    }
}

/// The tape's first bytes choose the decode call: the pixel limit and the largest reduction
/// (or, as the server does, `working_reduction`).
const DECODE_CHOICES: usize = 3;

fn decode_choices(tape: &Tape, limits: &[u64]) -> (DecodeLimits, Option<u32>) {
    let mut t = tape.clone();
    let limits = DecodeLimits {
        max_pixels: *t.pick(limits),
    };
    let reduction = if t.chance(30) {
        None
    } else {
        Some(*t.pick(&REDUCTIONS))
    };
    (limits, reduction)
}

/// How the cases of a run ended: decoded, over the pixel limit, unsupported, unreadable.
static OUTCOMES: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

fn run(target: &str, seeds: &'static [Vec<u8>], cases: u32, limits: &'static [u64]) {
    for o in &OUTCOMES {
        o.store(0, Ordering::Relaxed);
    }
    fuzz::run(
        target,
        cases,
        fuzz::case(seeds.len(), 96),
        |(i, tape)| mutated(seeds, *i, tape),
        |(i, tape)| {
            let bytes = mutated(seeds, i, &tape);
            let (limits, reduction) = decode_choices(&tape, limits);
            decode_case(&bytes, limits, reduction)
        },
    );
    let [ok, over, unsupported, unreadable] =
        OUTCOMES.each_ref().map(|o| o.load(Ordering::Relaxed));
    eprintln!(
        "fuzz {target}: {ok} decoded, {over} over the pixel limit, {unsupported} unsupported, \
         {unreadable} unreadable"
    );
}

/// One test, so the allocator cap of one decode never meets another test's allocations.
#[test]
fn decoding_uploads_never_panics_and_stays_within_the_pixel_limit() {
    let seeds = seeds();
    for (i, s) in seeds.small.iter().enumerate() {
        let d = decode_reduced(s, DecodeLimits::default(), 1);
        assert!(d.is_ok(), "small seed {i} does not decode: {d:?}");
    }
    let cases = fuzz::cases(2000);
    run("decode", &seeds.small, cases, &LIMITS);
    run(
        "decode_real",
        &seeds.real,
        fuzz::scaled(cases, 200, 24),
        &LIMITS[1..],
    );
    // Unmutated, every seed is written back byte for byte.
    for s in seeds.small.iter().chain(&seeds.real) {
        let again = match (parse_jpeg(s), parse_png(s)) {
            (Some(j), _) => write_jpeg(&j),
            (_, Some(p)) => write_png(&p),
            _ => panic!("a seed is neither JPEG nor PNG"),
        };
        assert!(again == *s, "a seed is not written back as it was");
    }
    // The bombs are valid zlib streams: as the data of a 257×h grey PNG they inflate to black.
    let h = 40;
    let mut p = parse_png(&encode_png(&RgbImage::new(257, h), 0, 8, false, &[])).unwrap();
    let idat = p.chunks.iter_mut().find(|c| &c.kind == b"IDAT").unwrap();
    idat.data = zlib_zeros(h as usize);
    let black = decode_reduced(&write_png(&p), DecodeLimits::default(), 1).unwrap();
    assert!(black.rgb.pixels().all(|p| p.0 == [0, 0, 0]));
    // Headers announcing far more pixels than allowed are refused before any pixel buffer
    // exists, within a budget of a few megabytes.
    for (w, h) in [(65_535u16, 65_535u16), (7072, 7072), (1, 65_535)] {
        let mut j = parse_jpeg(&seeds.small[0]).unwrap();
        let sof = j.segments.iter_mut().find(|s| is_sof(s.marker)).unwrap();
        sof.payload[1..3].copy_from_slice(&h.to_be_bytes());
        sof.payload[3..5].copy_from_slice(&w.to_be_bytes());
        let bytes = write_jpeg(&j);
        let _cap = Capped::new(8 << 20);
        let err = decode_reduced(&bytes, DecodeLimits { max_pixels: 60_000 }, 1).unwrap_err();
        assert!(matches!(err, VisionError::TooManyPixels { .. }), "{err:?}");
    }
    let mut p = parse_png(&seeds.small[1]).unwrap();
    ihdr_mut(&mut p).unwrap()[..8]
        .copy_from_slice(&[0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF]);
    let bytes = write_png(&p);
    let _cap = Capped::new(8 << 20);
    let err = decode_reduced(&bytes, DecodeLimits::default(), 1).unwrap_err();
    assert!(matches!(err, VisionError::TooManyPixels { .. }), "{err:?}");
}
