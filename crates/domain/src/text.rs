//! Text hygiene for values that end up in headers and HTML.

/// Text made safe to place in HTML, in element content or a quoted attribute.
pub fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Folds a value into one safe header line: control characters (CR, LF, TAB, ...) become
/// spaces, runs of spaces collapse, and the ends are trimmed. A guest named
/// "Anna\r\nBcc: x@evil" cannot add a header.
pub fn single_line(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut last_space = true;
    for c in value.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    out.truncate(out.trim_end().len());
    out
}

#[cfg(test)]
mod tests {
    use super::single_line;

    #[test]
    fn header_values_cannot_break_lines() {
        assert_eq!(
            single_line("Anna\r\nBcc: x@evil.test"),
            "Anna Bcc: x@evil.test"
        );
        assert_eq!(single_line("  Ihre  Buchung\t"), "Ihre Buchung");
        assert_eq!(single_line("Grüße\u{0}"), "Grüße");
    }
}
