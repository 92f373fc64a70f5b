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
    // Pixelation blocks: about eight across the shape's long side, never under 12 px, so
    // that letters and features are gone, not just blurred.
    let block = ((x1 - x0).max(y1 - y0) / 8).max(12);
    let mut means = std::collections::HashMap::new();
    if fill == Fill::Pixelate {
        for y in y0..y1 {
            for x in x0..x1 {
                let key = ((x - x0) / block, (y - y0) / block);
                let e = means.entry(key).or_insert([0u64; 4]);
                let p = img.get_pixel(x, y).0;
                e[0] += p[0] as u64;
                e[1] += p[1] as u64;
                e[2] += p[2] as u64;
                e[3] += 1;
            }
        }
    }
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
                Fill::Pixelate => {
                    let e = means[&((x - x0) / block, (y - y0) / block)];
                    [(e[0] / e[3]) as u8, (e[1] / e[3]) as u8, (e[2] / e[3]) as u8]
                }
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
        let img = RgbImage::from_fn(24, 24, |x, y| image::Rgb([((x * 10) % 256) as u8, ((y * 10) % 256) as u8, 0]));
        let out = apply(img, &[Shape::Rect { rect: [0.0, 0.0, 24.0, 24.0], fill: Fill::Pixelate }]);
        assert_eq!(out.get_pixel(0, 0), out.get_pixel(11, 11));
        assert_ne!(out.get_pixel(0, 0), out.get_pixel(12, 12));
    }
}
