//! Interim: header reading only. The DC-only decoder replaces this file.

#[derive(Debug)]
pub enum DcError {
    Unsupported(&'static str),
    Truncated(String),
    Corrupt(String),
    TooLarge { width: u32, height: u32 },
}

impl std::fmt::Display for DcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DcError::Unsupported(s) => write!(f, "unsupported JPEG: {s}"),
            DcError::Truncated(s) => write!(f, "truncated JPEG: {s}"),
            DcError::Corrupt(s) => write!(f, "corrupt JPEG: {s}"),
            DcError::TooLarge { width, height } => write!(f, "JPEG too large: {width}x{height}"),
        }
    }
}
impl std::error::Error for DcError {}

pub struct DcImage {
    pub width: u32,
    pub height: u32,
    pub dc_width: u32,
    pub dc_height: u32,
    pub rgb: Vec<u8>,
    pub progressive: bool,
}

pub fn read_header(data: &[u8]) -> Result<(u32, u32, bool), DcError> {
    if data.len() < 4 || data[0] != 0xFF || data[1] != 0xD8 {
        return Err(DcError::Corrupt("no SOI".into()));
    }
    let mut i = 2;
    loop {
        while i < data.len() && data[i] == 0xFF {
            i += 1;
        }
        if i >= data.len() {
            return Err(DcError::Truncated("no SOF".into()));
        }
        let m = data[i];
        i += 1;
        if (0xD0..=0xD9).contains(&m) || m == 0x01 {
            continue;
        }
        if i + 2 > data.len() {
            return Err(DcError::Truncated("marker length".into()));
        }
        let len = u16::from_be_bytes([data[i], data[i + 1]]) as usize;
        if matches!(m, 0xC0..=0xCF) && m != 0xC4 && m != 0xC8 && m != 0xCC {
            if i + 7 > data.len() {
                return Err(DcError::Truncated("SOF".into()));
            }
            let h = u16::from_be_bytes([data[i + 3], data[i + 4]]) as u32;
            let w = u16::from_be_bytes([data[i + 5], data[i + 6]]) as u32;
            return Ok((w, h, m == 0xC2));
        }
        i += len;
    }
}

pub fn decode_dc(_data: &[u8], _max_pixels: u64) -> Result<DcImage, DcError> {
    Err(DcError::Unsupported("interim"))
}
