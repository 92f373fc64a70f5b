//! Burning redaction shapes into pixels: black fill or coarse pixelation, rectangles and
//! polygons; then the crop, if any. Coordinates are the photo's as shown, at full size.

use crate::store::{Fill, Shape};
use image::RgbImage;

/// Applies every shape to `img` (the photo as shown, full size) and crops to the crops'
/// intersection. Returns the result (the input when nothing applies).
pub fn apply(mut img: RgbImage, shapes: &[Shape]) -> RgbImage {
    for s in shapes {
        match s {
            Shape::Rect { rect, fill } => {
                let poly = [[rect[0], rect[1]], [rect[2], rect[1]], [rect[2], rect[3]], [rect[0], rect[3]]];
                fill_polygon(&mut img, &poly, *fill);
            }
            Shape::Polygon { points, fill } => fill_polygon(&mut img, points, *fill),
            Shape::Crop { .. } => {}
        }
    }
    let crop = shapes
        .iter()
        .filter_map(|s| if let Shape::Crop { rect } = s { Some(*rect) } else { None })
        .reduce(|a, b| [a[0].max(b[0]), a[1].max(b[1]), a[2].min(b[2]), a[3].min(b[3])]);
    if let Some(c) = crop {
        let (w, h) = img.dimensions();
        let x0 = (c[0].floor().max(0.0) as u32).min(w.saturating_sub(1));
        let y0 = (c[1].floor().max(0.0) as u32).min(h.saturating_sub(1));
        let x1 = (c[2].ceil().max(0.0) as u32).clamp(x0 + 1, w);
        let y1 = (c[3].ceil().max(0.0) as u32).clamp(y0 + 1, h);
        img = image::imageops::crop_imm(&img, x0, y0, x1 - x0, y1 - y0).to_image();
    }
    img
}

/// Even-odd point-in-polygon, sampled at pixel centres; a pixel touched by the polygon's
/// bounding edge counts (covering too much is safe, too little is not).
fn inside(poly: &[[f32; 2]], x: f32, y: f32) -> bool {
    let mut c = false;
    let n = poly.len();
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + n - 1) % n]);
        if (a[1] > y) != (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0] {
            c = !c;
        }
    }
    c
}

/// The smallest pixelation block, in pixels.
pub const MIN_BLOCK: u32 = 16;

/// The side of the pixelation blocks of a region `w` x `h` pixels: at most four blocks across
/// its short side and sixteen along its long side, and never under [`MIN_BLOCK`].
///
/// Why so coarse: a mosaic keeps each block's average, and fine mosaics have been undone
/// (faces pixelated to 8 to 16 px blocks were re-identified by trained networks, McPherson et
/// al. 2016; pixelated text is recovered by matching rendered candidates, as Depix does). At
/// four blocks across a face, or a block taller than a line of text and about two letters
/// wide, a face keeps 16 to 64 averages and a line one row of them: nothing a person or a
/// model can read. Black keeps nothing at all, and stays the default.
pub fn block_size(w: u32, h: u32) -> u32 {
    let (short, long) = (w.min(h), w.max(h));
    short.div_ceil(4).max(long.div_ceil(16)).max(MIN_BLOCK)
}

/// The block edges along one axis: `lo..hi` cut into equal blocks of at least `block` pixels
/// (one block when shorter), so that no thin block is left at the end to keep more detail.
/// Returns the edges, `lo` first and `hi` last.
pub fn block_edges(lo: u32, hi: u32, block: u32) -> Vec<u32> {
    let len = hi.saturating_sub(lo);
    let n = (len / block.max(1)).max(1);
    (0..=n).map(|i| lo + (len as u64 * i as u64 / n as u64) as u32).collect()
}

fn fill_polygon(img: &mut RgbImage, poly: &[[f32; 2]], fill: Fill) {
    let (w, h) = img.dimensions();
    if poly.len() < 3 || w == 0 || h == 0 {
        return;
    }
    let xs = poly.iter().map(|p| p[0]);
    let ys = poly.iter().map(|p| p[1]);
    let x0 = xs.clone().fold(f32::MAX, f32::min).floor().max(0.0) as u32;
    let x1 = (xs.fold(f32::MIN, f32::max).ceil().max(0.0) as u32).min(w);
    let y0 = ys.clone().fold(f32::MAX, f32::min).floor().max(0.0) as u32;
    let y1 = (ys.fold(f32::MIN, f32::max).ceil().max(0.0) as u32).min(h);
    if x0 >= x1 || y0 >= y1 {
        return;
    }
    // Pixelation: every block's average over all of its pixels (inside the shape or not, so
    // that a block the shape only grazes does not keep the few pixels it covers).
    let block = block_size(x1 - x0, y1 - y0);
    let (ex, ey) = (block_edges(x0, x1, block), block_edges(y0, y1, block));
    let bx: Vec<usize> = (x0..x1).map(|x| ex.partition_point(|&e| e <= x) - 1).collect();
    let by: Vec<usize> = (y0..y1).map(|y| ey.partition_point(|&e| e <= y) - 1).collect();
    let mut means = vec![[0u8; 3]; (ex.len() - 1) * (ey.len() - 1)];
    if fill == Fill::Pixelate {
        let cols = ex.len() - 1;
        let mut sums = vec![[0u64; 4]; means.len()];
        for y in y0..y1 {
            for x in x0..x1 {
                let e = &mut sums[by[(y - y0) as usize] * cols + bx[(x - x0) as usize]];
                let p = img.get_pixel(x, y).0;
                e[0] += p[0] as u64;
                e[1] += p[1] as u64;
                e[2] += p[2] as u64;
                e[3] += 1;
            }
        }
        for (m, e) in means.iter_mut().zip(&sums) {
            let n = e[3].max(1);
            *m = [((e[0] + n / 2) / n) as u8, ((e[1] + n / 2) / n) as u8, ((e[2] + n / 2) / n) as u8];
        }
    }
    let cols = ex.len() - 1;
    for y in y0..y1 {
        for x in x0..x1 {
            // A pixel whose square overlaps the polygon is covered: test its centre and corners.
            let covered = [(0.5, 0.5), (0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
                .iter()
                .any(|(dx, dy)| inside(poly, x as f32 + dx, y as f32 + dy));
            if !covered {
                continue;
            }
            let v = match fill {
                Fill::Black => [0, 0, 0],
                Fill::Pixelate => means[by[(y - y0) as usize] * cols + bx[(x - x0) as usize]],
            };
            img.put_pixel(x, y, image::Rgb(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rect_black_and_crop() {
        let img = RgbImage::from_pixel(20, 10, image::Rgb([200, 200, 200]));
        let out = apply(
            img,
            &[
                Shape::Rect { rect: [2.0, 2.0, 6.0, 5.0], fill: Fill::Black },
                Shape::Crop { rect: [1.0, 1.0, 11.0, 9.0] },
            ],
        );
        assert_eq!(out.dimensions(), (10, 8));
        assert_eq!(out.get_pixel(1, 1).0, [0, 0, 0]); // (2,2) before the crop
        assert_eq!(out.get_pixel(4, 3).0, [0, 0, 0]);
        assert_eq!(out.get_pixel(6, 5).0, [200, 200, 200]);
    }

    #[test]
    fn polygon_covers_its_inside_only() {
        let img = RgbImage::from_pixel(20, 20, image::Rgb([255, 255, 255]));
        let out =
            apply(img, &[Shape::Polygon { points: vec![[0.0, 0.0], [19.0, 0.0], [0.0, 19.0]], fill: Fill::Black }]);
        assert_eq!(out.get_pixel(2, 2).0, [0, 0, 0]);
        assert_eq!(out.get_pixel(18, 18).0, [255, 255, 255]);
    }

    #[test]
    fn pixelate_flattens_blocks() {
        let img = RgbImage::from_fn(100, 40, |x, y| image::Rgb([((x * 10) % 256) as u8, ((y * 10) % 256) as u8, 0]));
        let out = apply(img, &[Shape::Rect { rect: [0.0, 0.0, 100.0, 40.0], fill: Fill::Pixelate }]);
        // 16 px at least: 100 / 16 = 6 blocks of 16 or 17 px across, 40 / 16 = 2 of 20 down.
        assert_eq!(block_size(100, 40), 16);
        assert_eq!(block_edges(0, 100, 16), vec![0, 16, 33, 50, 66, 83, 100]);
        assert_eq!(out.get_pixel(0, 0), out.get_pixel(15, 19));
        assert_ne!(out.get_pixel(0, 0), out.get_pixel(16, 0));
        assert_ne!(out.get_pixel(0, 0), out.get_pixel(0, 20));
    }

    #[test]
    fn blocks_are_coarse_and_never_thin() {
        assert_eq!(block_size(10, 10), MIN_BLOCK);
        assert_eq!(block_size(200, 240), 50, "four across a face");
        assert_eq!(block_size(480, 30), 30, "sixteen along a line of text");
        for (lo, hi, b) in [(3, 50, 16), (0, 7, 16), (10, 1000, 37)] {
            let e = block_edges(lo, hi, b);
            assert_eq!((e[0], *e.last().unwrap()), (lo, hi));
            assert!(e.len() == 2 || e.windows(2).all(|w| w[1] - w[0] >= b), "{e:?}");
        }
    }
}
