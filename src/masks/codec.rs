//! Lossless mask codecs.
//!
//! - The stored form ("DMK1"): each row is the list of x positions where the value flips
//!   (a run-length code), written as varints; a row with as many flips as the row above is
//!   written as small signed differences from that row's flips, and a row equal to the one
//!   above costs one byte. Lesion outlines move a pixel or two from row to row, so most rows
//!   take 3 bytes whatever the image width.
//! - COCO RLE: column-major run counts, starting with background, in pycocotools' compressed
//!   string form (and its plain list form on import).
//! - PNG: binary (1-bit) masks and indexed label images, through the `png` crate.

use super::mask::{Mask, PixelRect};
use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"DMK1";

fn damaged(what: &str) -> Error {
    Error::Invalid(format!("the stored mask is damaged ({what})"))
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &[u8], pos: &mut usize) -> Result<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or_else(|| damaged("it ends early"))?;
        *pos += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(damaged("a number is too long"))
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// The positions where a row of 0/1 bytes flips value, starting from 0 (off).
fn flips(row: &[u8], out: &mut Vec<u32>) {
    out.clear();
    let mut cur = 0u8;
    // Scan 8 bytes at a time over long uniform stretches (most of a 6000-px row).
    let mut x = 0usize;
    while x < row.len() {
        if x + 8 <= row.len() {
            let word = u64::from_ne_bytes(row[x..x + 8].try_into().unwrap_or([0; 8]));
            let uniform = if cur == 0 { 0 } else { 0x0101_0101_0101_0101 };
            if word == uniform {
                x += 8;
                continue;
            }
        }
        if row[x] != cur {
            out.push(x as u32);
            cur = row[x];
        }
        x += 1;
    }
}

/// Encodes a mask (or any 0/1 byte grid) into the stored form.
pub fn encode_bits(width: u32, height: u32, bits: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + height as usize * 3);
    out.extend_from_slice(MAGIC);
    put_varint(&mut out, width as u64);
    put_varint(&mut out, height as u64);
    let (mut prev, mut cur) = (Vec::new(), Vec::new());
    let w = width as usize;
    for y in 0..height as usize {
        flips(&bits[y * w..(y + 1) * w], &mut cur);
        put_row(&mut out, &cur, &prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    out
}

/// One row's flips: empty, the same as the row above, as differences from the row above
/// (same number of flips), or as gaps.
fn put_row(out: &mut Vec<u8>, cur: &[u32], prev: &[u32]) {
    if cur.is_empty() {
        put_varint(out, 0);
    } else if cur == prev {
        put_varint(out, 1);
    } else if cur.len() == prev.len() {
        put_varint(out, ((cur.len() as u64) << 1) | 1);
        for (a, b) in cur.iter().zip(prev) {
            put_varint(out, zigzag(*a as i64 - *b as i64));
        }
    } else {
        put_varint(out, (cur.len() as u64) << 1);
        let mut last = 0u32;
        for &x in cur {
            put_varint(out, (x - last) as u64);
            last = x;
        }
    }
}

pub fn encode(mask: &Mask) -> Vec<u8> {
    encode_bits(mask.width(), mask.height(), mask.data())
}

/// The width and height a stored mask says it has, without decoding it.
pub fn stored_size(buf: &[u8]) -> Result<(u32, u32)> {
    if buf.len() < 4 || &buf[..4] != MAGIC {
        return Err(damaged("not a dermdesk mask"));
    }
    let mut pos = 4;
    let w = get_varint(buf, &mut pos)?;
    let h = get_varint(buf, &mut pos)?;
    if w == 0 || h == 0 || w > u32::MAX as u64 || h > u32::MAX as u64 || w * h > crate::masks::MAX_PIXELS {
        return Err(damaged("impossible size"));
    }
    Ok((w as u32, h as u32))
}

/// Walks a stored mask row by row, handing each row's flip positions (sorted, each at most
/// the width; pairs are `[start, end)` runs of lesion, a last odd one runs to the row's end)
/// to `each`, checking every value (a damaged blob is an error, never a wrong mask).
pub fn for_each_row(buf: &[u8], mut each: impl FnMut(u32, &[u32])) -> Result<(u32, u32)> {
    let (w, h) = stored_size(buf)?;
    let mut pos = 4;
    get_varint(buf, &mut pos)?;
    get_varint(buf, &mut pos)?;
    let (mut prev, mut cur): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
    for y in 0..h {
        let head = get_varint(buf, &mut pos)?;
        match head {
            0 => cur.clear(),
            1 => cur.clone_from(&prev),
            _ => {
                let n = (head >> 1) as usize;
                if n > w as usize + 1 {
                    return Err(damaged("too many runs in a row"));
                }
                cur.clear();
                if head & 1 == 1 {
                    if n != prev.len() {
                        return Err(damaged("a row refers to a different row above"));
                    }
                    for &p in &prev {
                        let x = p as i64 + unzigzag(get_varint(buf, &mut pos)?);
                        if !(0..=w as i64).contains(&x) {
                            return Err(damaged("a run leaves the row"));
                        }
                        cur.push(x as u32);
                    }
                } else {
                    let mut x = 0u64;
                    for _ in 0..n {
                        x += get_varint(buf, &mut pos)?;
                        if x > w as u64 {
                            return Err(damaged("a run leaves the row"));
                        }
                        cur.push(x as u32);
                    }
                }
            }
        }
        if cur.windows(2).any(|p| p[0] >= p[1]) {
            return Err(damaged("runs out of order"));
        }
        each(y, &cur);
        std::mem::swap(&mut prev, &mut cur);
    }
    if pos != buf.len() {
        return Err(damaged("bytes left over"));
    }
    Ok((w, h))
}

/// The `[start, end)` lesion runs of one row's flip list.
pub fn runs(flips: &[u32], width: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
    flips.chunks(2).map(move |p| (p[0], p.get(1).copied().unwrap_or(width)))
}

/// Decodes the stored form into 0/1 bytes.
pub fn decode_bits(buf: &[u8]) -> Result<(u32, u32, Vec<u8>)> {
    let (w, h) = stored_size(buf)?;
    let width = w as usize;
    let mut bits = vec![0u8; width * h as usize];
    for_each_row(buf, |y, flips| {
        let row = &mut bits[y as usize * width..(y as usize + 1) * width];
        for (a, b) in runs(flips, w) {
            row[a as usize..b as usize].fill(1);
        }
    })?;
    Ok((w, h, bits))
}

pub fn decode(buf: &[u8]) -> Result<Mask> {
    let (w, h, bits) = decode_bits(buf)?;
    Mask::from_bytes(w, h, bits).ok_or_else(|| damaged("wrong length"))
}

/// Set pixels of a stored mask, counted from its runs without decoding it.
pub fn stored_count(buf: &[u8]) -> Result<u64> {
    let (w, _) = stored_size(buf)?;
    let mut n = 0u64;
    for_each_row(buf, |_, flips| n += runs(flips, w).map(|(a, b)| (b - a) as u64).sum::<u64>())?;
    Ok(n)
}

/// A mask in its stored form with what the store records beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    pub width: u32,
    pub height: u32,
    pub pixels: u64,
    pub bbox: PixelRect,
    pub data: Vec<u8>,
}

impl Encoded {
    /// Encodes a mask in one pass: the pixel count and bounding box come from the runs.
    pub fn of(mask: &Mask) -> Encoded {
        let (width, height) = (mask.width(), mask.height());
        let mut data = Vec::with_capacity(64 + height as usize * 3);
        data.extend_from_slice(MAGIC);
        put_varint(&mut data, width as u64);
        put_varint(&mut data, height as u64);
        let (mut prev, mut cur) = (Vec::new(), Vec::new());
        let (mut pixels, mut x0, mut y0, mut x1, mut y1) = (0u64, u32::MAX, u32::MAX, 0u32, 0u32);
        for y in 0..height {
            flips(mask.row(y), &mut cur);
            if let (Some(&first), Some(_)) = (cur.first(), cur.last()) {
                let end = if cur.len() % 2 == 1 { width } else { cur[cur.len() - 1] };
                pixels += runs(&cur, width).map(|(a, b)| (b - a) as u64).sum::<u64>();
                x0 = x0.min(first);
                x1 = x1.max(end);
                y0 = y0.min(y);
                y1 = y + 1;
            }
            put_row(&mut data, &cur, &prev);
            std::mem::swap(&mut prev, &mut cur);
        }
        let bbox = if pixels == 0 { PixelRect::default() } else { PixelRect::from_bounds(x0, y0, x1, y1) };
        Encoded { width, height, pixels, bbox, data }
    }

    /// A full-size mask holding just `stamp`'s pixels, encoded without ever building the
    /// full-size bytes (imports of many small lesions on big photos).
    pub fn of_stamp(width: u32, height: u32, stamp: &super::Stamp) -> Encoded {
        let stamp = stamp.clone().clip(PixelRect::new(0, 0, width, height));
        let r = stamp.rect;
        let mut out = Vec::with_capacity(64 + height as usize);
        out.extend_from_slice(MAGIC);
        put_varint(&mut out, width as u64);
        put_varint(&mut out, height as u64);
        let (mut prev, mut cur): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
        let (mut pixels, mut x0, mut y0, mut x1, mut y1) = (0u64, u32::MAX, u32::MAX, 0u32, 0u32);
        for y in 0..height {
            cur.clear();
            if y >= r.y && y < r.bottom() {
                let row = &stamp.bits[(y - r.y) as usize * r.w as usize..(y - r.y + 1) as usize * r.w as usize];
                flips(row, &mut cur);
                for f in &mut cur {
                    *f += r.x;
                }
                if cur.len() % 2 == 1 {
                    // A run reaching the stamp's right edge ends there, unless that is the row's end.
                    if r.right() < width {
                        cur.push(r.right());
                    }
                }
                for (a, b) in runs(&cur, width) {
                    pixels += (b - a) as u64;
                    x0 = x0.min(a);
                    x1 = x1.max(b);
                    y0 = y0.min(y);
                    y1 = y + 1;
                }
            }
            put_row(&mut out, &cur, &prev);
            std::mem::swap(&mut prev, &mut cur);
        }
        let bbox = if pixels == 0 { PixelRect::default() } else { PixelRect::from_bounds(x0, y0, x1, y1) };
        Encoded { width, height, pixels, bbox, data: out }
    }

    pub fn decode(&self) -> Result<Mask> {
        let m = decode(&self.data)?;
        if (m.width(), m.height()) != (self.width, self.height) {
            return Err(damaged("its size disagrees with its record"));
        }
        Ok(m)
    }
}

// ---- COCO RLE ----

/// Column-major run counts (background first), as COCO and pycocotools want them.
pub fn coco_counts(mask: &Mask) -> Vec<u32> {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let data = mask.data();
    let mut counts = Vec::new();
    let (mut cur, mut run) = (0u8, 0u32);
    for x in 0..w {
        for y in 0..h {
            let v = data[y * w + x];
            if v != cur {
                counts.push(run);
                run = 0;
                cur = v;
            }
            run += 1;
        }
    }
    counts.push(run);
    counts
}

/// pycocotools' compressed string form of run counts (`rleToString`).
pub fn coco_string(counts: &[u32]) -> String {
    let mut s = Vec::with_capacity(counts.len() * 2);
    for (i, &c) in counts.iter().enumerate() {
        let mut x = c as i64;
        if i > 2 {
            x -= counts[i - 2] as i64;
        }
        loop {
            let mut c = (x & 0x1f) as u8;
            x >>= 5;
            let more = if c & 0x10 != 0 { x != -1 } else { x != 0 };
            if more {
                c |= 0x20;
            }
            s.push(c + 48);
            if !more {
                break;
            }
        }
    }
    String::from_utf8(s).unwrap_or_default()
}

/// Parses pycocotools' compressed string form (`rleFrString`).
pub fn coco_parse_string(s: &str) -> Result<Vec<u32>> {
    let bad = || Error::Invalid("not a COCO RLE string".into());
    let b = s.as_bytes();
    let mut counts: Vec<i64> = Vec::new();
    let mut p = 0;
    while p < b.len() {
        let (mut x, mut k) = (0i64, 0u32);
        loop {
            let c = (*b.get(p).ok_or_else(bad)? as i64) - 48;
            if !(0..64).contains(&c) || k > 12 {
                return Err(bad());
            }
            x |= (c & 0x1f) << (5 * k);
            p += 1;
            k += 1;
            if c & 0x20 == 0 {
                if c & 0x10 != 0 {
                    x |= -1i64 << (5 * k);
                }
                break;
            }
        }
        let m = counts.len();
        if m > 2 {
            x += counts[m - 2];
        }
        if !(0..=u32::MAX as i64).contains(&x) {
            return Err(bad());
        }
        counts.push(x);
    }
    Ok(counts.into_iter().map(|c| c as u32).collect())
}

/// A mask from column-major run counts; they must cover exactly `width * height` pixels.
pub fn coco_decode(width: u32, height: u32, counts: &[u32]) -> Result<Mask> {
    let total: u64 = counts.iter().map(|&c| c as u64).sum();
    if total != width as u64 * height as u64 {
        return Err(Error::Invalid(format!(
            "COCO RLE covers {total} pixels, the image has {}×{} = {}",
            width,
            height,
            width as u64 * height as u64
        )));
    }
    let mut m = Mask::new(width, height);
    let mut i = 0u64;
    for (k, &c) in counts.iter().enumerate() {
        if k % 2 == 1 {
            for j in i..i + c as u64 {
                let (x, y) = ((j / height as u64) as u32, (j % height as u64) as u32);
                m.set(x, y, true);
            }
        }
        i += c as u64;
    }
    Ok(m)
}

// ---- PNG ----

fn png_error(e: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("cannot write PNG: {e}"))
}

/// A 1-bit greyscale PNG: 0 black, 1 white.
pub fn png_binary(mask: &Mask) -> Result<Vec<u8>> {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let stride = w.div_ceil(8);
    let mut packed = vec![0u8; stride * h];
    for y in 0..h {
        let row = mask.row(y as u32);
        let out = &mut packed[y * stride..(y + 1) * stride];
        for (x, &b) in row.iter().enumerate() {
            if b != 0 {
                out[x / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    let mut buf = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut buf, w as u32, h as u32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::One);
        let mut wr = enc.write_header().map_err(png_error)?;
        wr.write_image_data(&packed).map_err(png_error)?;
    }
    Ok(buf)
}

/// An 8-bit indexed PNG of lesion labels: pixel value = lesion number (0 = none), with a
/// palette so that it is also readable by eye.
pub fn png_indexed(width: u32, height: u32, labels: &[u8], palette: &[[u8; 3]]) -> Result<Vec<u8>> {
    let mut pal = Vec::with_capacity(256 * 3);
    for i in 0..256 {
        pal.extend_from_slice(&palette.get(i).copied().unwrap_or([i as u8; 3]));
    }
    let mut buf = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut buf, width, height);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(pal);
        let mut wr = enc.write_header().map_err(png_error)?;
        wr.write_image_data(labels).map_err(png_error)?;
    }
    Ok(buf)
}

/// Reads a binary mask image (PNG, BMP, ... anything the `image` crate decodes). It must
/// hold at most two grey levels; the darker is background. An image with more levels is not
/// a binary mask and is refused rather than guessed at.
pub fn read_binary_image(bytes: &[u8]) -> Result<Mask> {
    let img = image::load_from_memory(bytes).map_err(|e| Error::Invalid(format!("not a readable image: {e}")))?;
    let (w, h) = (img.width(), img.height());
    if w as u64 * h as u64 > crate::masks::MAX_PIXELS {
        return Err(Error::Invalid(format!("a mask of {w}×{h} is too large")));
    }
    let grey = img.into_luma8();
    let mut levels = [false; 256];
    for &v in grey.as_raw() {
        levels[v as usize] = true;
    }
    let used: Vec<u8> = (0..=255u8).filter(|&v| levels[v as usize]).collect();
    if used.len() > 2 {
        return Err(Error::Invalid(format!(
            "not a binary mask: it has {} grey levels (expected two, e.g. 0 and 255)",
            used.len()
        )));
    }
    // One level: all background if it is black, else all lesion.
    let on = match used.as_slice() {
        [a, b] => (*a).max(*b),
        [a] if *a > 0 => *a,
        _ => 255,
    };
    let data = grey.as_raw().iter().map(|&v| (v == on) as u8).collect();
    Mask::from_bytes(w, h, data).ok_or_else(|| Error::Invalid("mask size mismatch".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::masks::tools;

    fn sample() -> Mask {
        let mut m = Mask::new(97, 61);
        let s = tools::disc(&m.bounds(), (40.0, 30.0), 20.0);
        tools::paint(&mut m, &s, true);
        let s = tools::disc(&m.bounds(), (80.0, 10.0), 6.0);
        tools::paint(&mut m, &s, true);
        m.set(0, 0, true);
        m.set(96, 60, true);
        m.set(50, 30, false);
        m
    }

    #[test]
    fn stored_round_trip() {
        let m = sample();
        let enc = encode(&m);
        assert_eq!(decode(&enc).unwrap(), m);
        assert_eq!(stored_size(&enc).unwrap(), (97, 61));
        assert_eq!(stored_count(&enc).unwrap(), m.count());
        let empty = Mask::new(5, 3);
        assert_eq!(decode(&encode(&empty)).unwrap(), empty);
        let mut full = Mask::new(13, 4);
        let stamp = crate::masks::Stamp { rect: full.bounds(), bits: vec![1; 52] };
        tools::paint(&mut full, &stamp, true);
        assert_eq!(decode(&encode(&full)).unwrap(), full);
    }

    #[test]
    fn one_pass_encoding_counts_and_boxes() {
        let m = sample();
        let e = Encoded::of(&m);
        assert_eq!((e.pixels, e.bbox, e.data.clone()), (m.count(), m.bbox(), encode(&m)));
        let empty = Encoded::of(&Mask::new(9, 4));
        assert_eq!((empty.pixels, empty.bbox), (0, PixelRect::default()));
    }

    #[test]
    fn stamps_encode_like_their_masks() {
        let m = sample();
        for rect in [m.bbox(), PixelRect::new(30, 5, 40, 50), PixelRect::new(60, 0, 37, 61)] {
            let stamp = m.crop(rect);
            let mut only = Mask::new(97, 61);
            tools::paint(&mut only, &stamp, true);
            assert_eq!(Encoded::of_stamp(97, 61, &stamp), Encoded::of(&only), "{rect:?}");
        }
    }

    #[test]
    fn damaged_blobs_are_errors() {
        let enc = encode(&sample());
        for cut in [0, 3, 6, enc.len() / 2, enc.len() - 1] {
            assert!(decode(&enc[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = enc.clone();
        extra.push(0);
        assert!(decode(&extra).is_err());
        // Flipping bytes never panics and never decodes silently to a different size.
        for i in 4..enc.len() {
            let mut bad = enc.clone();
            bad[i] ^= 0x5a;
            if let Ok(m) = decode(&bad) {
                assert_eq!((m.width(), m.height()), stored_size(&bad).unwrap());
            }
        }
    }

    #[test]
    fn coco_strings_round_trip() {
        let m = sample();
        let counts = coco_counts(&m);
        assert_eq!(counts.iter().map(|&c| c as u64).sum::<u64>(), 97 * 61);
        let s = coco_string(&counts);
        assert_eq!(coco_parse_string(&s).unwrap(), counts);
        assert_eq!(coco_decode(97, 61, &counts).unwrap(), m);
        assert!(coco_decode(97, 60, &counts).is_err());
        // pycocotools: a 2x2 mask with only (0,1) set (column-major index 1) is "11 0 2"? No:
        // counts [1,1,2] -> chars '1','1','2'.
        assert_eq!(coco_string(&[1, 1, 2]), "112");
    }

    #[test]
    fn png_round_trip() {
        let m = sample();
        let png = png_binary(&m).unwrap();
        assert_eq!(read_binary_image(&png).unwrap(), m);
        let grey = image::GrayImage::from_fn(4, 4, |x, y| image::Luma([(x * 60 + y) as u8]));
        let mut bytes = Vec::new();
        grey.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
        assert!(read_binary_image(&bytes).unwrap_err().to_string().contains("grey levels"));
    }
}
