//! The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1).
//!
//! Only the character sets matter here: which characters cost one septet (the basic table),
//! which cost two (ESC + a code from the extension table), and which are not GSM at all and
//! force the whole message into UCS-2. The gateways do the bit packing.

/// The basic table in code order (0x00–0x7F); 0x1B is the escape to the extension table and is
/// never a character of its own.
const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table: each costs ESC plus one code, two septets. (1B 0D and 1B 1B are
/// reserved and never produced.)
const EXTENSION: [char; 10] = ['\u{0C}', '^', '{', '}', '\\', '[', '~', ']', '|', '€'];

/// Septets per ASCII code point: 0 where the character is not GSM.
const ASCII_SEPTETS: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut i = 0;
    while i < BASIC.len() {
        let c = BASIC[i] as u32;
        if c < 128 && c != 0x1B {
            table[c as usize] = 1;
        }
        i += 1;
    }
    let mut i = 0;
    while i < EXTENSION.len() {
        let c = EXTENSION[i] as u32;
        if c < 128 {
            table[c as usize] = 2;
        }
        i += 1;
    }
    table
};

/// Septets a character costs in GSM-7: 1 (basic table), 2 (extension table), or `None` when
/// it is not a GSM character. A raw ESC is not a character: it would start an escape pair.
pub fn septets(c: char) -> Option<u8> {
    if c.is_ascii() {
        return match ASCII_SEPTETS[c as usize] {
            0 => None,
            n => Some(n),
        };
    }
    if c == '€' {
        Some(2)
    } else if (c as u32) <= 0x3A9 && BASIC.contains(&c) {
        Some(1)
    } else {
        None
    }
}

/// Whether `c` can be sent in GSM-7.
pub fn is_gsm(c: char) -> bool {
    septets(c).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_outside_the_basic_table_costs_two_septets_or_is_not_gsm() {
        for c in ['[', '\\', ']', '^', '{', '|', '}', '~', '€', '\u{0C}'] {
            assert_eq!(septets(c), Some(2), "{c:?}");
        }
        assert_eq!(septets('`'), None, "the grave accent is not GSM at all");
        assert_eq!(septets('$'), Some(1));
        assert_eq!(septets('@'), Some(1));
        assert_eq!(septets('\u{1B}'), None);
    }

    #[test]
    fn capital_c_cedilla_is_gsm_and_small_is_not() {
        assert_eq!(septets('Ç'), Some(1));
        assert_eq!(septets('ç'), None);
    }

    #[test]
    fn every_printable_ascii_character_but_the_grave_accent_is_gsm() {
        for c in (0x20u8..0x7F).map(char::from) {
            assert_eq!(is_gsm(c), c != '`', "{c:?}");
        }
        for c in "äöüÄÖÜßéèùìòÅåÆæØøÑñ£¥§¿¡ΔΦΓΛΩΠΨΣΘΞ¤".chars()
        {
            assert_eq!(septets(c), Some(1), "{c:?}");
        }
        for c in "áíóúÁÍÓÚâêîôûçœ😀“”’–…".chars() {
            assert!(!is_gsm(c), "{c:?}");
        }
    }
}
