//! The scan every message passes before it is parsed: one streaming pass that refuses
//! oversized, malformed, too deep or too wide input, DTDs and entity references, and names
//! the root element.

use crate::Error;
use quick_xml::events::Event;

/// Hard limits of the intake.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest message, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of elements (GuestRequests need about 12).
    pub max_depth: usize,
    /// Most elements in one message.
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 5 * 1024 * 1024,
            max_depth: 48,
            max_elements: 200_000,
        }
    }
}

impl Limits {
    /// Scans `xml` and answers its root element's local name.
    pub fn scan(&self, xml: &str) -> Result<String, Error> {
        if xml.len() > self.max_bytes {
            return Err(Error::TooLarge {
                size: xml.len(),
                limit: self.max_bytes,
            });
        }
        let mut reader = quick_xml::Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        let mut depth = 0usize;
        let mut elements = 0usize;
        let mut root: Option<String> = None;
        let mut closed = false;
        loop {
            let event = reader.read_event().map_err(|e| {
                Error::Malformed(format!("at byte {}: {e}", reader.error_position()))
            })?;
            let opened = match &event {
                Event::Start(e) | Event::Empty(e) => {
                    Some(AsRef::<str>::as_ref(&e.local_name()).to_owned())
                }
                _ => None,
            };
            if let Some(name) = opened {
                if closed {
                    return Err(Error::Malformed("content after the root element".into()));
                }
                elements += 1;
                if elements > self.max_elements {
                    return Err(Error::TooManyElements(self.max_elements));
                }
                if root.is_none() {
                    root = Some(name);
                }
            }
            match event {
                Event::Start(_) => {
                    depth += 1;
                    if depth > self.max_depth {
                        return Err(Error::TooDeep(self.max_depth));
                    }
                }
                Event::Empty(_) if depth == 0 => closed = true,
                Event::End(_) => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        closed = true;
                    }
                }
                Event::DocType(_) => return Err(Error::Forbidden("a DOCTYPE")),
                Event::GeneralRef(r) => {
                    // The five predefined entities and character references are text; any
                    // other name would need a DTD.
                    let name: &str = AsRef::<str>::as_ref(&*r);
                    let predefined = matches!(name, "lt" | "gt" | "amp" | "apos" | "quot")
                        || name.starts_with('#');
                    if !predefined {
                        return Err(Error::Forbidden("an entity reference"));
                    }
                }
                Event::Text(ref t)
                    if depth == 0
                        && !AsRef::<str>::as_ref(&**t)
                            .chars()
                            .all(|c| c.is_ascii_whitespace()) =>
                {
                    return Err(Error::Malformed("text outside the root element".into()));
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if depth != 0 {
            return Err(Error::Malformed(
                "the document ends inside an element".into(),
            ));
        }
        root.ok_or_else(|| Error::Malformed("no root element".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bombs_and_oddities_are_refused_before_parsing() {
        let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
        let wide = format!("<r>{}</r>", "<a/>".repeat(300_000));
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>"#;
        let xxe = r#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
        let undeclared = "<r>&lol;</r>";
        let cases: [(&str, &str); 8] = [
            (&deep, "nested"),
            (&wide, "elements"),
            (laughs, "DOCTYPE"),
            (xxe, "DOCTYPE"),
            (undeclared, "entity"),
            ("<r><a></r>", "XML"),
            ("<r/><r/>", "after the root"),
            ("", "no root"),
        ];
        for (xml, expected) in cases {
            let started = std::time::Instant::now();
            let err = Limits::default().scan(xml).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
            assert!(started.elapsed().as_secs_f64() < 1.0);
        }
        let big = "x".repeat(6 * 1024 * 1024);
        assert!(matches!(
            Limits::default().scan(&big),
            Err(Error::TooLarge { .. })
        ));
        assert_eq!(
            Limits::default()
                .scan("<?xml version=\"1.0\"?><!-- c --><a:R xmlns:a=\"u\">&amp;&#65;</a:R>")
                .unwrap(),
            "R"
        );
    }
}
