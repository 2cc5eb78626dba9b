//! Printable sheets of students' codes: an A4 PDF, twelve cards a page, each with the code's
//! link as a QR code, the student's name, student number and college, and what to do with it.
//!
//! Chinese text is set in the PDF's standard Chinese font (`STSong-Light`, Adobe-GB1, through
//! the predefined `UniGB-UTF16-H` encoding): every PDF reader carries or substitutes it, so
//! the sheet embeds no font and stays a few kilobytes a page. Links are ASCII, set in
//! Helvetica. The file is written by hand: a dozen kinds of object, with their offsets.

use std::fmt::Write as _;

use qrcode::{Color, QrCode};

/// One card of the sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetCard {
    pub name: String,
    pub student_no: String,
    pub college: String,
    pub link: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("a link does not fit in a QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
}

// A4 in points, the card grid and the card's parts.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 28.0;
const HEADER: f32 = 22.0;
const COLS: usize = 3;
const ROWS: usize = 4;
pub const CARDS_PER_PAGE: usize = COLS * ROWS;
const QR_SIZE: f32 = 104.0;

const INSTRUCTIONS_ZH: [&str; 2] = [
    "请用手机扫码（微信或浏览器），",
    "按提示核验身份、拍摄学历照片。",
];
const PERSONAL_ZH: &str = "本码仅限本人使用，请勿转发。";
const INSTRUCTIONS_EN: &str = "Scan to take your graduation photo. Personal: do not share.";

/// The PDF of `cards`, titled with the school's name.
pub fn codes_pdf(school: &str, cards: &[SheetCard]) -> Result<Vec<u8>, SheetError> {
    let pages: Vec<&[SheetCard]> = if cards.is_empty() {
        vec![&[]]
    } else {
        cards.chunks(CARDS_PER_PAGE).collect()
    };
    let mut contents = Vec::with_capacity(pages.len());
    for (i, page) in pages.iter().enumerate() {
        contents.push(page_content(school, i + 1, pages.len(), page)?);
    }
    Ok(assemble(&contents))
}

/// Width of `text` in the Chinese font at `size`: ideographs a full em, ASCII half.
fn cjk_width(text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.5 } else { 1.0 })
        .sum::<f32>()
        * size
}

/// `text` as the Chinese font's hex string (UTF-16BE).
fn cjk_hex(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 4 + 2);
    out.push('<');
    for unit in text.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

/// `text` as a literal string for Helvetica: printable ASCII, the delimiters escaped.
fn latin_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('(');
    for c in text.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out.push(')');
    out
}

/// Cuts `text` to at most `max` points wide in the Chinese font, with an ellipsis.
fn fit(text: &str, size: f32, max: f32) -> String {
    if cjk_width(text, size) <= max {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if cjk_width(&out, size) + cjk_width(&c.to_string(), size) + size > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

fn cjk_line(out: &mut String, text: &str, size: f32, center_x: f32, y: f32) {
    let x = center_x - cjk_width(text, size) / 2.0;
    let _ = writeln!(
        out,
        "BT /F1 {size:.1} Tf {x:.2} {y:.2} Td {} Tj ET",
        cjk_hex(text)
    );
}

fn latin_line(out: &mut String, text: &str, size: f32, center_x: f32, y: f32) {
    // Helvetica's digits and lower case average a little over half an em.
    let x = center_x - text.len() as f32 * size * 0.52 / 2.0;
    let _ = writeln!(
        out,
        "BT /F2 {size:.1} Tf {x:.2} {y:.2} Td {} Tj ET",
        latin_literal(text)
    );
}

fn page_content(
    school: &str,
    page: usize,
    pages: usize,
    cards: &[SheetCard],
) -> Result<String, SheetError> {
    let mut out = String::new();
    let title = format!("{school} · 学历照片采集码 · 第 {page}/{pages} 页");
    cjk_line(&mut out, &title, 10.0, PAGE_W / 2.0, PAGE_H - MARGIN - 10.0);
    let cell_w = (PAGE_W - 2.0 * MARGIN) / COLS as f32;
    let cell_h = (PAGE_H - 2.0 * MARGIN - HEADER) / ROWS as f32;
    let top = PAGE_H - MARGIN - HEADER;
    // Dashed cut lines between the cards.
    out.push_str("q 0.6 G 0.5 w [3 3] 0 d\n");
    for c in 0..=COLS {
        let x = MARGIN + c as f32 * cell_w;
        let _ = writeln!(out, "{x:.2} {:.2} m {x:.2} {top:.2} l S", MARGIN);
    }
    for r in 0..=ROWS {
        let y = top - r as f32 * cell_h;
        let _ = writeln!(
            out,
            "{MARGIN:.2} {y:.2} m {:.2} {y:.2} l S",
            PAGE_W - MARGIN
        );
    }
    out.push_str("Q\n");
    for (i, card) in cards.iter().enumerate() {
        let (col, row) = (i % COLS, i / COLS);
        let x0 = MARGIN + col as f32 * cell_w;
        let y_top = top - row as f32 * cell_h;
        let cx = x0 + cell_w / 2.0;
        qr(
            &mut out,
            &card.link,
            cx - QR_SIZE / 2.0,
            y_top - 8.0 - QR_SIZE,
        )?;
        let mut y = y_top - 8.0 - QR_SIZE - 16.0;
        cjk_line(&mut out, &fit(&card.name, 13.0, cell_w - 12.0), 13.0, cx, y);
        y -= 12.0;
        let who = format!("{} · {}", card.student_no, card.college);
        cjk_line(&mut out, &fit(&who, 8.0, cell_w - 12.0), 8.0, cx, y);
        y -= 12.0;
        for line in INSTRUCTIONS_ZH {
            cjk_line(&mut out, line, 7.5, cx, y);
            y -= 9.5;
        }
        cjk_line(&mut out, PERSONAL_ZH, 7.5, cx, y);
        y -= 9.0;
        latin_line(&mut out, INSTRUCTIONS_EN, 5.0, cx, y);
        y -= 7.0;
        latin_line(&mut out, &card.link, 5.2, cx, y);
    }
    Ok(out)
}

/// Draws the QR code of `text` as filled squares, `QR_SIZE` wide with its quiet zone, its
/// lower left corner at (`x`, `y`). Runs of dark modules in a row are one rectangle.
fn qr(out: &mut String, text: &str, x: f32, y: f32) -> Result<(), SheetError> {
    let code = QrCode::new(text.as_bytes())?;
    let width = code.width();
    let colors = code.to_colors();
    let quiet = 2usize;
    let module = QR_SIZE / (width + 2 * quiet) as f32;
    out.push_str("q 0 g\n");
    for row in 0..width {
        let mut col = 0;
        while col < width {
            if colors.get(row * width + col) != Some(&Color::Dark) {
                col += 1;
                continue;
            }
            let start = col;
            while col < width && colors.get(row * width + col) == Some(&Color::Dark) {
                col += 1;
            }
            let rx = x + (quiet + start) as f32 * module;
            // Rows run downwards from the top of the square.
            let ry = y + QR_SIZE - (quiet + row + 1) as f32 * module;
            let _ = writeln!(
                out,
                "{rx:.3} {ry:.3} {:.3} {module:.3} re",
                (col - start) as f32 * module
            );
        }
    }
    out.push_str("f Q\n");
    Ok(())
}

/// The whole file: catalog, pages, the two fonts, one content stream per page, the
/// cross-reference table and trailer.
fn assemble(contents: &[String]) -> Vec<u8> {
    // Objects 1–6 are fixed; each page then takes two (the page, its content).
    let n_pages = contents.len();
    let page_obj = |i: usize| 7 + 2 * i;
    let mut objects: Vec<String> = Vec::with_capacity(6 + 2 * n_pages);
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    let kids: Vec<String> = (0..n_pages)
        .map(|i| format!("{} 0 R", page_obj(i)))
        .collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {n_pages} >>",
        kids.join(" ")
    ));
    objects.push(
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light-UniGB-UTF16-H \
         /Encoding /UniGB-UTF16-H /DescendantFonts [4 0 R] >>"
            .into(),
    );
    objects.push(
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light \
         /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> \
         /FontDescriptor 5 0 R /DW 1000 /W [1 95 500] >>"
            .into(),
    );
    objects.push(
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 \
         /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 \
         /CapHeight 880 /StemV 93 >>"
            .into(),
    );
    objects.push(
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
    );
    for (i, content) in contents.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] \
             /Resources << /Font << /F1 3 0 R /F2 6 0 R >> >> /Contents {} 0 R >>",
            page_obj(i) + 1
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ));
    }
    let mut pdf: Vec<u8> = b"%PDF-1.5\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for off in offsets {
        // Each entry is exactly 20 bytes: the space before the newline belongs to it.
        let _ = writeln!(table, "{off:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    pdf.extend_from_slice(table.as_bytes());
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(i: usize) -> SheetCard {
        SheetCard {
            name: format!("王芳{i}"),
            student_no: format!("2021{i:05}"),
            college: "计算机学院".into(),
            link: format!("https://photo.example.edu.cn/c/ABCD{i:08}"),
        }
    }

    fn count(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len()).filter(|w| *w == needle).count()
    }

    #[test]
    fn twelve_cards_a_page_and_every_name_is_on_it() {
        let cards: Vec<SheetCard> = (0..25).map(card).collect();
        let pdf = codes_pdf("示范大学", &cards).unwrap();
        assert!(pdf.starts_with(b"%PDF-1.5"));
        assert_eq!(count(&pdf, b"/Type /Page "), 3);
        assert!(String::from_utf8_lossy(&pdf).contains("/Count 3"));
        for c in &cards {
            assert_eq!(count(&pdf, cjk_hex(&c.name).as_bytes()), 1, "{}", c.name);
            assert_eq!(count(&pdf, latin_literal(&c.link).as_bytes()), 1);
        }
    }

    #[test]
    fn the_cross_reference_table_points_at_every_object() {
        let pdf = codes_pdf("示范大学", &[card(1)]).unwrap();
        let text = String::from_utf8_lossy(&pdf).into_owned();
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(pdf[start..].starts_with(b"xref\n"));
        let offsets: Vec<usize> = text[text.find("xref\n").unwrap()..]
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .map(|l| l[..10].parse().unwrap())
            .collect();
        assert_eq!(offsets.len(), 8);
        for (i, off) in offsets.iter().enumerate() {
            assert!(pdf[*off..].starts_with(format!("{} 0 obj", i + 1).as_bytes()));
        }
    }

    #[test]
    fn long_names_are_cut_and_odd_characters_stay_in_their_strings() {
        assert_eq!(fit("王芳", 13.0, 100.0), "王芳");
        let cut = fit(&"张".repeat(40), 13.0, 100.0);
        assert!(cut.ends_with('…') && cjk_width(&cut, 13.0) <= 100.0 + 13.0);
        assert_eq!(latin_literal("a(b)c\\d é"), "(a\\(b\\)c\\\\d ?)");
        // A character outside the BMP is a surrogate pair in UTF-16.
        assert_eq!(cjk_hex("𠮷"), "<D842DFB7>");
    }

    #[test]
    fn an_empty_selection_prints_one_titled_page() {
        let pdf = codes_pdf("示范大学", &[]).unwrap();
        assert_eq!(count(&pdf, b"/Type /Page "), 1);
    }
}
