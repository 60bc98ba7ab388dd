//! What counts as blank in text people type. `char::is_whitespace` misses the format characters
//! that render as nothing (zero-width spaces and joiners, the byte-order mark, the soft hyphen),
//! so a title of only those would look empty everywhere it is shown yet pass a `trim()` check.

/// Characters that take no space on screen and are not whitespace to Rust.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
    )
}

/// `raw` without the whitespace and invisible characters around it.
pub fn trim(raw: &str) -> &str {
    raw.trim_matches(|c: char| c.is_whitespace() || is_invisible(c))
}

/// Words of `raw` joined by single spaces, invisible characters between them dropped as well.
pub fn squash(raw: &str) -> String {
    raw.split(|c: char| c.is_whitespace() || is_invisible(c))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_width_spaces_and_the_bom_are_blank() {
        assert_eq!(trim("\u{200B}\u{FEFF} \u{2060}"), "");
        assert_eq!(squash("\u{200B}\u{200B}"), "");
        assert_eq!(trim("\u{200B} db down \u{FEFF}"), "db down");
        assert_eq!(squash(" db\u{200B}  down\t"), "db down");
    }

    #[test]
    fn visible_text_is_kept_as_written() {
        assert_eq!(trim("naïve café ☕"), "naïve café ☕");
        assert_eq!(squash("日本 語"), "日本 語");
    }
}
