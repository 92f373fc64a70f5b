//! Text encodings of chart exports: UTF-8 (with or without a BOM) and CP932, Windows'
//! Shift_JIS with the NEC and IBM extensions.
//!
//! `encoding_rs`'s Shift_JIS is WHATWG's, whose JIS X 0208 index is the Windows one: 0x8160
//! decodes to U+FF5E (fullwidth tilde, as Windows shows the wave dash), 0x815F to U+FF3C,
//! 0x8161 to U+2225, 0x817C to U+FF0D, 0x8191/0x8192/0x81CA to U+FFE0/U+FFE1/U+FFE2, and
//! the NEC row 13 and both IBM extension areas decode too. The tests pin each of these.
//! Text that came through a JIS-minded system (U+301C wave dash and friends) is folded to the
//! Windows characters by [`fold_jis_variants`], so both spell one diagnosis the same way.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::Path;

/// The encoding a file is read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    Utf8,
    /// UTF-8 that starts with a byte-order mark (Excel's "CSV UTF-8").
    Utf8Bom,
    Cp932,
}

impl TextEncoding {
    pub const ALL: [TextEncoding; 3] = [TextEncoding::Utf8, TextEncoding::Utf8Bom, TextEncoding::Cp932];

    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf_8",
            TextEncoding::Utf8Bom => "utf_8_bom",
            TextEncoding::Cp932 => "cp932",
        }
    }

    pub fn parse(s: &str) -> Option<TextEncoding> {
        TextEncoding::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// What the person chose: detect, or insist on one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncodingChoice {
    #[default]
    Auto,
    Utf8,
    Cp932,
}

impl EncodingChoice {
    pub const ALL: [EncodingChoice; 3] = [EncodingChoice::Auto, EncodingChoice::Utf8, EncodingChoice::Cp932];

    pub fn as_str(self) -> &'static str {
        match self {
            EncodingChoice::Auto => "auto",
            EncodingChoice::Utf8 => "utf_8",
            EncodingChoice::Cp932 => "cp932",
        }
    }

    pub fn parse(s: &str) -> Option<EncodingChoice> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        match s.as_str() {
            "utf8" => Some(EncodingChoice::Utf8),
            "shift_jis" | "sjis" | "windows_31j" => Some(EncodingChoice::Cp932),
            _ => EncodingChoice::ALL.into_iter().find(|e| e.as_str() == s),
        }
    }
}

/// What one pass over the file found: its BLAKE3 hash, whether it starts with a UTF-8 BOM,
/// and whether every byte is valid UTF-8.
#[derive(Clone, Debug)]
pub struct FileScan {
    pub hash: String,
    pub bytes: u64,
    pub bom: bool,
    pub valid_utf8: bool,
}

/// Hashes the file and checks it as UTF-8 in one streaming pass (memory stays flat).
pub fn scan_file(path: &Path) -> Result<FileScan> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io("cannot open the chart file", e, path))?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    // Bytes of a UTF-8 sequence cut by the chunk boundary, carried to the next chunk.
    let mut carry: Vec<u8> = Vec::new();
    let (mut valid, mut total, mut first) = (true, 0u64, Vec::new());
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io("cannot read the chart file", e, path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        if first.len() < 3 {
            first.extend_from_slice(&buf[..n.min(3 - first.len())]);
        }
        total += n as u64;
        if valid {
            carry.extend_from_slice(&buf[..n]);
            match std::str::from_utf8(&carry) {
                Ok(_) => carry.clear(),
                Err(e) if e.error_len().is_none() => {
                    let keep = carry.split_off(e.valid_up_to());
                    carry = keep;
                }
                Err(_) => valid = false,
            }
        }
    }
    Ok(FileScan {
        hash: hasher.finalize().to_hex().to_string(),
        bytes: total,
        bom: first == [0xEF, 0xBB, 0xBF],
        valid_utf8: valid && carry.is_empty(),
    })
}

/// The encoding to read the file in: a BOM means UTF-8; valid UTF-8 means UTF-8 (plain ASCII
/// is the same in both); anything else is CP932. A chosen UTF-8 that is not valid is refused.
pub fn decide(choice: EncodingChoice, scan: &FileScan, path: &Path) -> Result<TextEncoding> {
    let utf8 = if scan.bom { TextEncoding::Utf8Bom } else { TextEncoding::Utf8 };
    match choice {
        EncodingChoice::Auto if scan.bom || scan.valid_utf8 => Ok(utf8),
        EncodingChoice::Auto | EncodingChoice::Cp932 => Ok(TextEncoding::Cp932),
        EncodingChoice::Utf8 if scan.valid_utf8 => Ok(utf8),
        EncodingChoice::Utf8 => Err(Error::Invalid(format!(
            "the file is not valid UTF-8 (try --encoding cp932 or auto): {}",
            path.display()
        ))),
    }
}

/// A reader that turns a file's bytes into UTF-8 as it goes (the BOM dropped), so a
/// million-row export never sits in memory whole.
pub struct Utf8Reader<R: Read> {
    inner: R,
    decoder: Option<encoding_rs::Decoder>,
    raw: Vec<u8>,
    raw_len: usize,
    out: Vec<u8>,
    out_pos: usize,
    out_len: usize,
    eof: bool,
    bom_checked: bool,
}

impl<R: Read> Utf8Reader<R> {
    pub fn new(inner: R, encoding: TextEncoding) -> Self {
        let decoder = match encoding {
            TextEncoding::Cp932 => Some(encoding_rs::SHIFT_JIS.new_decoder_without_bom_handling()),
            _ => None,
        };
        Utf8Reader {
            inner,
            decoder,
            raw: vec![0; 1 << 16],
            raw_len: 0,
            out: vec![0; (1 << 17) + 16],
            out_pos: 0,
            out_len: 0,
            eof: false,
            bom_checked: encoding != TextEncoding::Utf8Bom,
        }
    }

    fn fill(&mut self) -> std::io::Result<()> {
        while self.out_pos == self.out_len && !(self.eof && self.raw_len == 0) {
            if !self.eof && self.raw_len < self.raw.len() {
                let n = self.inner.read(&mut self.raw[self.raw_len..])?;
                if n == 0 {
                    self.eof = true;
                }
                self.raw_len += n;
            }
            if !self.bom_checked {
                if self.raw_len < 3 && !self.eof {
                    continue;
                }
                self.bom_checked = true;
                if self.raw[..self.raw_len].starts_with(&[0xEF, 0xBB, 0xBF]) {
                    self.raw.copy_within(3..self.raw_len, 0);
                    self.raw_len -= 3;
                }
            }
            self.out_pos = 0;
            match &mut self.decoder {
                None => {
                    // Already UTF-8 (checked by `scan_file`): pass through.
                    self.out[..self.raw_len].copy_from_slice(&self.raw[..self.raw_len]);
                    self.out_len = self.raw_len;
                    self.raw_len = 0;
                }
                Some(d) => {
                    let last = self.eof;
                    let (_, read, written, _) = d.decode_to_utf8(&self.raw[..self.raw_len], &mut self.out, last);
                    self.raw.copy_within(read..self.raw_len, 0);
                    self.raw_len -= read;
                    self.out_len = written;
                    if last && self.raw_len == 0 {
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Utf8Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.out_pos == self.out_len {
            self.fill()?;
        }
        let n = (self.out_len - self.out_pos).min(buf.len());
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

/// Decodes a whole byte string (HL7 messages and small files).
pub fn decode_bytes(bytes: &[u8], encoding: TextEncoding) -> String {
    match encoding {
        TextEncoding::Cp932 => encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes).0.into_owned(),
        _ => {
            let b = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
            String::from_utf8_lossy(b).into_owned()
        }
    }
}

/// Decodes ISO-2022-JP (HL7 messages in SS-MIX2 storage; `MSH-18` = `~ISO IR87`).
pub fn decode_iso2022jp(bytes: &[u8]) -> String {
    encoding_rs::ISO_2022_JP.decode_without_bom_handling(bytes).0.into_owned()
}

/// Folds the JIS-flavoured code points that CP932 spells differently into the Windows ones
/// (U+301C wave dash to U+FF5E, U+2016 to U+2225, U+2212 to U+FF0D, and the cent, pound and
/// not signs to their fullwidth forms), so text from either kind of system compares equal
/// and encodes to CP932.
pub fn fold_jis_variants(s: &str) -> std::borrow::Cow<'_, str> {
    const PAIRS: [(char, char); 6] = [
        ('\u{301C}', '\u{FF5E}'),
        ('\u{2016}', '\u{2225}'),
        ('\u{2212}', '\u{FF0D}'),
        ('\u{00A2}', '\u{FFE0}'),
        ('\u{00A3}', '\u{FFE1}'),
        ('\u{00AC}', '\u{FFE2}'),
    ];
    if !s.chars().any(|c| PAIRS.iter().any(|p| p.0 == c)) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(s.chars().map(|c| PAIRS.iter().find(|p| p.0 == c).map_or(c, |p| p.1)).collect())
}

/// Encodes text as CP932 (for the invented-chart generator). Characters CP932 cannot hold are
/// an error, never a silent `?`.
pub fn encode_cp932(s: &str) -> Result<Vec<u8>> {
    let folded = fold_jis_variants(s);
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&folded);
    if unmappable {
        let bad: String = folded.chars().filter(|c| encoding_rs::SHIFT_JIS.encode(&c.to_string()).2).take(5).collect();
        return Err(Error::Invalid(format!("characters CP932 cannot hold: {bad}")));
    }
    Ok(bytes.into_owned())
}

/// Encodes text as ISO-2022-JP (for the invented SS-MIX2 messages).
pub fn encode_iso2022jp(s: &str) -> Result<Vec<u8>> {
    let folded = fold_jis_variants(s);
    let (bytes, _, unmappable) = encoding_rs::ISO_2022_JP.encode(&folded);
    if unmappable {
        return Err(Error::Invalid(format!("text ISO-2022-JP cannot hold: {folded}")));
    }
    Ok(bytes.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp932(bytes: &[u8]) -> String {
        decode_bytes(bytes, TextEncoding::Cp932)
    }

    #[test]
    fn cp932_differences_from_jis_decode_as_windows_does() {
        // Microsoft's CP932.TXT: the seven codes where CP932 and JIS X 0208 disagree.
        let table = [
            (0x815F, '\u{FF3C}'),
            (0x8160, '\u{FF5E}'),
            (0x8161, '\u{2225}'),
            (0x817C, '\u{FF0D}'),
            (0x8191, '\u{FFE0}'),
            (0x8192, '\u{FFE1}'),
            (0x81CA, '\u{FFE2}'),
        ];
        for (code, want) in table {
            let got = cp932(&[(code >> 8) as u8, code as u8]);
            assert_eq!(got, want.to_string(), "0x{code:04X}");
        }
    }

    #[test]
    fn nec_and_ibm_extensions_decode() {
        assert_eq!(cp932(&[0x87, 0x40]), "①"); // NEC row 13
        assert_eq!(cp932(&[0x87, 0x82]), "№");
        assert_eq!(cp932(&[0xED, 0x40]), "纊"); // NEC-selected IBM extension
        assert_eq!(cp932(&[0xFA, 0x40]), "ⅰ"); // IBM extension
        assert_eq!(cp932(&[0xFB, 0xFC]), "髙"); // the hashigo-daka in surnames
        assert_eq!(cp932(&[0x5C, 0x7E]), "\\~"); // single bytes stay ASCII, as Windows reads them
    }

    #[test]
    fn jis_variants_fold_and_round_trip() {
        let text = "〜‖−¢£¬ 悪性黒色腫 ①髙";
        let bytes = encode_cp932(text).unwrap();
        assert_eq!(cp932(&bytes), "～∥－￠￡￢ 悪性黒色腫 ①髙");
        assert!(encode_cp932("😀").is_err());
        let iso = encode_iso2022jp("基底細胞癌 〜").unwrap();
        assert!(iso.iter().all(|b| *b < 0x80), "ISO-2022-JP is 7-bit");
        assert_eq!(decode_iso2022jp(&iso), "基底細胞癌 ～");
    }

    #[test]
    fn streaming_reader_matches_whole_decode_across_chunk_edges() {
        // Long enough to cross the reader's 64 KiB chunks at every byte offset of a pair.
        let line = "患者ID,受診日,病名\r\n０１２３４５,平成15年1月20日,脂漏性角化症～\r\n";
        let text = line.repeat(5000);
        let bytes = encode_cp932(&text).unwrap();
        let mut out = String::new();
        Utf8Reader::new(&bytes[..], TextEncoding::Cp932).read_to_string(&mut out).unwrap();
        assert_eq!(out, text);
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        let mut out = String::new();
        Utf8Reader::new(&bom[..], TextEncoding::Utf8Bom).read_to_string(&mut out).unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn detection() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        let cases: [(&[u8], TextEncoding); 4] = [
            (b"\xEF\xBB\xBFa,b\n", TextEncoding::Utf8Bom),
            ("患者ID\n".as_bytes(), TextEncoding::Utf8),
            (b"\x8a\xb3\x8e\xd2ID\n", TextEncoding::Cp932),
            (b"id,date\n", TextEncoding::Utf8),
        ];
        for (bytes, want) in cases {
            std::fs::write(&p, bytes).unwrap();
            let scan = scan_file(&p).unwrap();
            assert_eq!(decide(EncodingChoice::Auto, &scan, &p).unwrap(), want, "{bytes:?}");
        }
        std::fs::write(&p, b"\x8a\xb3\x8e\xd2ID\n").unwrap();
        let scan = scan_file(&p).unwrap();
        let err = decide(EncodingChoice::Utf8, &scan, &p).unwrap_err().to_string();
        assert!(err.contains("not valid UTF-8") && err.ends_with("a.csv"), "{err}");
    }
}
