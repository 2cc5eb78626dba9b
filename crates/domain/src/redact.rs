//! How a student appears in overviews that do not need to identify them (statistics' breach
//! lists): enough for staff who know the student to recognise them, not enough for anyone
//! else. The full record is one click away, in the audited timeline.

/// The family name kept, the given name starred: `张三` → `张*`, `欧阳娜娜` → `欧***`.
/// A single character (or an empty name) is starred whole.
pub fn name(full: &str) -> String {
    let full = full.trim();
    let n = full.chars().count();
    match full.chars().next() {
        Some(first) if n > 1 => std::iter::once(first)
            .chain(std::iter::repeat_n('*', n - 1))
            .collect(),
        _ => "*".repeat(n.max(1)),
    }
}

/// The first two and last two characters of a student number kept, the rest starred
/// (`2021001234` → `20******34`); numbers of four characters or fewer are starred whole.
pub fn student_no(no: &str) -> String {
    let chars: Vec<char> = no.trim().chars().collect();
    let n = chars.len();
    if n <= 4 {
        return "*".repeat(n.max(1));
    }
    chars[..2]
        .iter()
        .copied()
        .chain(std::iter::repeat_n('*', n - 4))
        .chain(chars[n - 2..].iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_the_family_name() {
        assert_eq!(name("张三"), "张*");
        assert_eq!(name(" 欧阳娜娜 "), "欧***");
        assert_eq!(name("李"), "*");
        assert_eq!(name(""), "*");
        assert_eq!(name("Ann Lee"), "A******");
    }

    #[test]
    fn student_numbers_keep_their_ends() {
        assert_eq!(student_no("2021001234"), "20******34");
        assert_eq!(student_no("12345"), "12*45");
        assert_eq!(student_no("1234"), "****");
        assert_eq!(student_no(""), "*");
    }
}
