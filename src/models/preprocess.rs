//! A photo's pixels into a model's input tensor, exactly as its card says: resized
//! (stretched, or scaled to cover and centre-cropped), the light's colour corrected where the
//! card asks, channels in the card's colour order, `(pixel - mean) / std` per channel, laid out
//! NCHW or NHWC with a batch of one.
//!
//! The photo comes upright (EXIF orientation applied) and redacted, as the worker decodes it.

use super::card::{Colour, ColourConstancy, Input, Interpolation, Layout, Resize};
use image::RgbImage;
use image::imageops::FilterType;

/// The tensor's shape: `[1, 3, H, W]` or `[1, H, W, 3]`.
pub fn shape(input: &Input) -> [usize; 4] {
    let (h, w) = (input.height as usize, input.width as usize);
    match input.layout {
        Layout::Nchw => [1, 3, h, w],
        Layout::Nhwc => [1, h, w, 3],
    }
}

fn filter(i: Interpolation) -> FilterType {
    match i {
        Interpolation::Bilinear => FilterType::Triangle,
        Interpolation::Nearest => FilterType::Nearest,
        Interpolation::Bicubic => FilterType::CatmullRom,
    }
}

/// The photo at the model's size, before normalisation.
pub fn resized(img: &RgbImage, input: &Input) -> RgbImage {
    let (w, h) = (input.width, input.height);
    let f = filter(input.interpolation);
    let (iw, ih) = img.dimensions();
    match input.resize {
        Resize::Stretch => {
            if (iw, ih) == (w, h) {
                img.clone()
            } else {
                image::imageops::resize(img, w, h, f)
            }
        }
        Resize::ShorterSideCrop => {
            // Scale so that the photo covers W x H, then cut out the centre.
            let s = (w as f64 / iw.max(1) as f64).max(h as f64 / ih.max(1) as f64);
            let nw = ((iw as f64 * s).round() as u32).max(w);
            let nh = ((ih as f64 * s).round() as u32).max(h);
            let scaled = if (nw, nh) == (iw, ih) { img.clone() } else { image::imageops::resize(img, nw, nh, f) };
            let (x, y) = ((nw - w) / 2, (nh - h) / 2);
            image::imageops::crop_imm(&scaled, x, y, w, h).to_image()
        }
    }
}

/// The gain per RGB channel that the card's colour constancy applies to the resized photo
/// (ones without it).
pub fn gains(small: &RgbImage, cc: Option<ColourConstancy>) -> [f32; 3] {
    let Some(ColourConstancy::ShadesOfGray { p }) = cc else { return [1.0; 3] };
    // The p-norm mean of each channel in 0..1, summed in f64 (a million pixels to the 16th).
    let pow: Vec<f64> = (0..=255).map(|v| (v as f64 / 255.0).powi(p as i32)).collect();
    let mut sums = [0f64; 3];
    for px in small.pixels() {
        for c in 0..3 {
            sums[c] += pow[px.0[c] as usize];
        }
    }
    let n = (small.width() as f64 * small.height() as f64).max(1.0);
    let e = sums.map(|s| (s / n).powf(1.0 / p as f64));
    let mean = e.iter().sum::<f64>() / 3.0;
    e.map(|e| (mean / e.max(1e-6)) as f32)
}

/// The input tensor's values, in [`shape`]'s order.
pub fn tensor(img: &RgbImage, input: &Input) -> Vec<f32> {
    let small = resized(img, input);
    let gain = gains(&small, input.colour_constancy);
    let (w, h) = (input.width as usize, input.height as usize);
    // Channel c of the tensor takes this channel of the RGB pixel.
    let from = match input.colour {
        Colour::Rgb => [0, 1, 2],
        Colour::Bgr => [2, 1, 0],
    };
    let mut out = vec![0f32; 3 * w * h];
    for (x, y, p) in small.enumerate_pixels() {
        let (x, y) = (x as usize, y as usize);
        for (c, &src) in from.iter().enumerate() {
            let v = ((p.0[src] as f32 * gain[src]).min(255.0) - input.mean[c]) / input.std[c];
            let at = match input.layout {
                Layout::Nchw => c * h * w + y * w + x,
                Layout::Nhwc => (y * w + x) * 3 + c,
            };
            out[at] = v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(layout: Layout, colour: Colour, resize: Resize, w: u32, h: u32) -> Input {
        Input {
            name: "input".into(),
            layout,
            height: h,
            width: w,
            colour,
            resize,
            interpolation: Interpolation::Bilinear,
            mean: [10.0, 20.0, 30.0],
            std: [2.0, 4.0, 5.0],
            colour_constancy: None,
        }
    }

    /// A 3x2 image whose pixel (x, y) is (10x + y, 100 + x, 200 + y).
    fn img(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| image::Rgb([(10 * x + y) as u8, (100 + x) as u8, (200 + y) as u8]))
    }

    #[test]
    fn the_tensor_matches_one_computed_by_hand() {
        let t = tensor(&img(3, 2), &input(Layout::Nchw, Colour::Rgb, Resize::Stretch, 3, 2));
        // R: (10x + y - 10) / 2; G: (100 + x - 20) / 4; B: (200 + y - 30) / 5.
        #[rustfmt::skip]
        let want = [
            -5.0, 0.0, 5.0,     -4.5, 0.5, 5.5,
            20.0, 20.25, 20.5,  20.0, 20.25, 20.5,
            34.0, 34.0, 34.0,   34.2, 34.2, 34.2,
        ];
        assert_eq!(t, want);
        // NHWC, BGR: pixel (0,0) = (B, G, R) normalised with mean/std in that order.
        let t = tensor(&img(3, 2), &input(Layout::Nhwc, Colour::Bgr, Resize::Stretch, 3, 2));
        assert_eq!(t.len(), 18);
        assert_eq!(&t[..3], &[(200.0 - 10.0) / 2.0, (100.0 - 20.0) / 4.0, (0.0 - 30.0) / 5.0]);
        // Pixel (2, 1) sits at (1 * 3 + 2) * 3.
        assert_eq!(&t[15..18], &[(201.0 - 10.0) / 2.0, (102.0 - 20.0) / 4.0, (21.0 - 30.0) / 5.0]);
        assert_eq!(shape(&input(Layout::Nhwc, Colour::Bgr, Resize::Stretch, 3, 2)), [1, 2, 3, 3]);
    }

    #[test]
    fn shorter_side_crop_keeps_the_centre_and_stretch_takes_everything() {
        // 5x2 to 3x2: no scaling needed (the height fits), the middle three columns kept.
        let r = resized(&img(5, 2), &input(Layout::Nchw, Colour::Rgb, Resize::ShorterSideCrop, 3, 2));
        assert_eq!(r.dimensions(), (3, 2));
        assert_eq!(r.get_pixel(0, 0).0, [10, 101, 200]);
        assert_eq!(r.get_pixel(2, 1).0, [31, 103, 201]);
        // 10x4 to 3x2: scaled by a half to 5x2, then the centre.
        let big = RgbImage::from_fn(10, 4, |x, _| image::Rgb([if x < 4 { 0 } else { 200 }, 0, 0]));
        let r = resized(&big, &input(Layout::Nchw, Colour::Rgb, Resize::ShorterSideCrop, 3, 2));
        assert_eq!(r.dimensions(), (3, 2));
        let r = resized(&big, &input(Layout::Nchw, Colour::Rgb, Resize::Stretch, 3, 2));
        assert_eq!(r.dimensions(), (3, 2));
        assert!(r.get_pixel(0, 0).0[0] < 50 && r.get_pixel(2, 0).0[0] > 150, "{r:?}");
    }

    #[test]
    fn shades_of_gray_makes_a_tinted_photo_grey_and_keeps_its_brightness() {
        let cc = Some(ColourConstancy::ShadesOfGray { p: 6 });
        let mut i = input(Layout::Nchw, Colour::Rgb, Resize::Stretch, 3, 2);
        (i.mean, i.std, i.colour_constancy) = ([0.0; 3], [1.0; 3], cc);
        // One colour all over: each channel's estimate is its value, so every channel ends at
        // their mean, 60.
        let tinted = RgbImage::from_pixel(3, 2, image::Rgb([60, 30, 90]));
        for v in tensor(&tinted, &i) {
            assert!((v - 60.0).abs() < 1e-3, "{v}");
        }
        // Above 255 is cut: red 250 against 100, 100 asks for 150 in each; none is raised past 255.
        let bright = RgbImage::from_fn(3, 2, |x, _| image::Rgb(if x == 0 { [250, 250, 250] } else { [250, 100, 100] }));
        let g = gains(&bright, cc);
        assert!(g[0] < 1.0 && g[1] > 1.0 && (g[1] - g[2]).abs() < 1e-6, "{g:?}");
        assert!(tensor(&bright, &i).iter().all(|&v| (0.0..=255.0).contains(&v)));
        // The estimate is the p-norm mean: red 0 and 255 in two pixels is (1/2)^(1/6) of 255.
        let two = RgbImage::from_fn(2, 1, |x, _| image::Rgb([if x == 0 { 0 } else { 255 }, 255, 255]));
        let e_r = 0.5f64.powf(1.0 / 6.0);
        let mean = (e_r + 2.0) / 3.0;
        let g = gains(&two, cc);
        assert!((g[0] as f64 - mean / e_r).abs() < 1e-6 && (g[1] as f64 - mean).abs() < 1e-6, "{g:?}");
        // None asked: the photo's values as they are.
        assert_eq!(gains(&two, None), [1.0; 3]);
    }
}
