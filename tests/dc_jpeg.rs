//! The DC-only JPEG decoder (src/thumbs/dc_jpeg.rs) against reference decoders on real
//! files, on every hostile and odd file of the corpora, and under deterministic fuzzing.

#[allow(dead_code)]
mod common {
    //! Shared helpers for the integration tests. Test images are read at run
    //! time from the shared data folder (`DERMDESK_SHARED`, default `/work/shared`);
    //! nothing is copied.

    use std::path::{Path, PathBuf};

    pub fn shared_dir() -> PathBuf {
        std::env::var_os("DERMDESK_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
    }

    /// `shared_dir()/rel`, or panics with a clear message when it is missing.
    pub fn shared(rel: &str) -> PathBuf {
        let p = shared_dir().join(rel);
        assert!(
            p.exists(),
            "test data missing: {} (set DERMDESK_SHARED to the folder holding data/ and corpora/)",
            p.display()
        );
        p
    }

    /// Files under `dir` (recursively) whose extension is in `exts` (any file if empty), sorted.
    pub fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if exts.is_empty()
                    || p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| exts.contains(&e.to_ascii_lowercase().as_str()))
                {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    /// 1/8-scale reference decode with jpeg-decoder (DC-only IDCT), as RGB.
    pub fn reference_eighth(data: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
        let mut d = jpeg_decoder::Decoder::new(data);
        d.read_info().map_err(|e| e.to_string())?;
        let info = d.info().ok_or("no info")?;
        let (w, h) = (info.width, info.height);
        let (sw, sh) = d.scale(w.div_ceil(8), h.div_ceil(8)).map_err(|e| e.to_string())?;
        let px = d.decode().map_err(|e| e.to_string())?;
        let info = d.info().unwrap();
        let rgb = match info.pixel_format {
            jpeg_decoder::PixelFormat::RGB24 => px,
            jpeg_decoder::PixelFormat::L8 => px.iter().flat_map(|&v| [v, v, v]).collect(),
            f => return Err(format!("pixel format {f:?}")),
        };
        Ok((sw as u32, sh as u32, rgb))
    }

    /// (mean absolute error, max abs error) over all channels.
    pub fn compare(a: &[u8], b: &[u8]) -> (f64, u8) {
        assert_eq!(a.len(), b.len());
        let mut sum = 0u64;
        let mut max = 0u8;
        for (&x, &y) in a.iter().zip(b) {
            let d = x.abs_diff(y);
            sum += d as u64;
            max = max.max(d);
        }
        (sum as f64 / a.len().max(1) as f64, max)
    }
}

mod corpus {
    // Hostile, odd and truncated files: each gives the expected Ok/Err kind, and
    // nothing panics or takes long.
    use super::common::*;
    use dermdesk::decode::dc_jpeg::{DcError, decode_dc, read_header};
    use std::time::{Duration, Instant};

    const MAX_PIXELS: u64 = 100_000_000;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Kind {
        Ok,
        Unsupported,
        Truncated,
        Corrupt,
        TooLarge,
    }

    fn kind(r: &Result<dermdesk::decode::dc_jpeg::DcImage, DcError>) -> Kind {
        match r {
            Ok(_) => Kind::Ok,
            Err(DcError::Unsupported(_)) => Kind::Unsupported,
            Err(DcError::Truncated(_)) => Kind::Truncated,
            Err(DcError::Corrupt(_)) => Kind::Corrupt,
            Err(DcError::TooLarge { .. }) => Kind::TooLarge,
        }
    }

    fn check(rel: &str, max_pixels: u64, want: Kind) {
        let p = shared(rel);
        let data = std::fs::read(&p).unwrap();
        let r = decode_dc(&data, max_pixels);
        let got = kind(&r);
        let msg = match &r {
            Ok(i) => format!("Ok {}x{}", i.width, i.height),
            Err(e) => e.to_string(),
        };
        println!("{rel:<60} {msg}");
        assert_eq!(got, want, "{rel}: {msg}");
    }

    #[test]
    fn libjpeg_turbo_generated_kinds() {
        use Kind::*;
        let g = "corpora/libjpeg-turbo/generated/";
        let cases = [
            ("sample411.jpg", Ok),
            ("sample410.jpg", Ok),
            ("sample440.jpg", Ok),
            ("sample444.jpg", Ok),
            ("progressive.jpg", Ok),
            ("restart1row.jpg", Ok),
            ("grayscale.jpg", Ok),
            ("q5.jpg", Ok),
            ("arithmetic.jpg", Unsupported),
            ("arithmetic-progressive.jpg", Unsupported),
            ("trunc-baseline-2000.jpg", Truncated),
            ("trunc-header-200.jpg", Truncated),
            ("trunc-progressive-3000.jpg", Truncated),
            ("sof-0x0.jpg", Corrupt),
            ("scan-corrupt-ff.jpg", Corrupt),
            // Over a 100 MP limit: refused before anything is allocated.
            ("sof-65535x65535.jpg", TooLarge),
            ("sof-65000x65000.jpg", TooLarge),
        ];
        for (name, want) in cases {
            check(&format!("{g}{name}"), MAX_PIXELS, want);
        }
        // With no pixel limit, the absurd headers are caught because the scan
        // data cannot hold that many blocks (checked before allocating).
        check(&format!("{g}sof-65535x65535.jpg"), u64::MAX, Truncated);
        check(&format!("{g}sof-65000x65000.jpg"), u64::MAX, Truncated);
        // read_header still reports the (absurd but well-formed) size.
        let d = std::fs::read(shared(&format!("{g}sof-65000x65000.jpg"))).unwrap();
        assert_eq!(read_header(&d).unwrap(), (65000, 65000, false));
        let d = std::fs::read(shared(&format!("{g}progressive.jpg"))).unwrap();
        assert_eq!(read_header(&d).unwrap(), (227, 149, true));
        assert!(matches!(
            read_header(&std::fs::read(shared(&format!("{g}sof-0x0.jpg"))).unwrap()),
            Err(DcError::Corrupt(_))
        ));
    }

    #[test]
    fn libjpeg_turbo_testimages_kinds() {
        use Kind::*;
        let t = "corpora/libjpeg-turbo/testimages/";
        check(&format!("{t}testorig.jpg"), MAX_PIXELS, Ok);
        check(&format!("{t}testimgint.jpg"), MAX_PIXELS, Ok);
        check(&format!("{t}testimgari.jpg"), MAX_PIXELS, Unsupported);
        check(&format!("{t}monkey12.jpg"), MAX_PIXELS, Unsupported);
    }

    #[test]
    fn jpeg_decoder_crashtest_and_odd_kinds() {
        use Kind::*;
        let c = "corpora/image-rs/jpeg-decoder/crashtest/";
        let cases = [
            ("empty.jpg", Truncated),
            ("missing-sof.jpg", Truncated),
            ("missing-sos.jpg", Corrupt),
            ("missing-frame-image-1410.jpg", Corrupt),
            ("null_height.jpg", Corrupt),
            ("invalid-dimensions.jpg", Corrupt),
            ("derive-huffman-codes-overflow.jpg", Corrupt),
            ("invalid-prediction-shift.jpg", Unsupported), // lossless
            ("max_size.jpg", TooLarge),
            ("dc-predictor-overflow.jpg", Truncated),
            ("multiple-0xff-before-eoi.jpg", Ok),
            ("subtract-with-overflow.jpg", Ok),
        ];
        for (name, want) in cases {
            check(&format!("{c}{name}"), MAX_PIXELS, want);
        }
        let r = "corpora/image-rs/jpeg-decoder/reftest-odd/";
        for (name, want) in [
            ("mozilla/jpg-cmyk-1.jpg", Unsupported),
            ("mozilla/jpg-cmyk-2.jpg", Unsupported),
            ("mozilla/jpg-size-6x6.jpg", Corrupt), // actually a PNG
            ("lossless/1/jpeg_lossless_sel1.jpg", Unsupported),
            ("progressive-missing-dc.jpg", Unsupported),
            ("partial_progressive.jpg", Ok),
            ("progressive-missing-ac.jpg", Ok),
            ("extraneous-data.jpg", Ok),
            ("non-interleaved-mcu.jpg", Ok),
            ("restarts.jpg", Ok),
            ("16bit-qtables.jpg", Ok),
            ("grayscale_16x24_sampling2x2.jpg", Ok),
        ] {
            check(&format!("{r}{name}"), MAX_PIXELS, want);
        }
    }

    /// Every file under corpora/image-rs (JPEG or not) and corpora/libjpeg-turbo:
    /// Ok or Err, never a panic, never slow. Also read_header.
    #[test]
    fn every_hostile_file_is_ok_or_err_quickly() {
        let mut paths = files(&shared("corpora/image-rs"), &[]);
        paths.extend(files(&shared("corpora/libjpeg-turbo"), &[]));
        assert!(paths.len() > 800);
        let (mut ok, mut err) = (0, 0);
        let mut slowest = (Duration::ZERO, String::new());
        for p in &paths {
            let data = std::fs::read(p).unwrap();
            for max in [MAX_PIXELS, u64::MAX] {
                let t = Instant::now();
                let r = decode_dc(&data, max);
                let _ = read_header(&data);
                let el = t.elapsed();
                if el > slowest.0 {
                    slowest = (el, p.display().to_string());
                }
                if max == MAX_PIXELS {
                    if r.is_ok() { ok += 1 } else { err += 1 }
                }
                if let Ok(img) = r {
                    assert_eq!(img.rgb.len(), (img.dc_width * img.dc_height * 3) as usize);
                }
            }
        }
        // Timing is shown, not asserted: speed belongs to benchmarks, and a decode that hangs
        // is cut off by the worker's time limit in the app.
        println!("{} files: {ok} Ok, {err} Err; slowest {:?} ({})", paths.len(), slowest.0, slowest.1);
    }
}

mod reference {
    // Pixel-wise comparison of `decode_dc` against jpeg-decoder's 1/8 scaled
    // decode on real files. Run with `--nocapture` to see the per-set table.
    use super::common::*;
    use dermdesk::decode::dc_jpeg::{decode_dc, read_header};
    use std::path::PathBuf;

    const MAX_PIXELS: u64 = 100_000_000;

    struct Stats {
        n: usize,
        worst_mae: f64,
        worst_file: String,
        sum_mae: f64,
        max_err: u8,
    }

    fn check_set(name: &str, paths: &[PathBuf]) -> Stats {
        assert!(!paths.is_empty(), "{name}: no files");
        let mut st = Stats { n: 0, worst_mae: 0.0, worst_file: String::new(), sum_mae: 0.0, max_err: 0 };
        for p in paths {
            let data = std::fs::read(p).unwrap();
            let img = decode_dc(&data, MAX_PIXELS).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let (w, h, prog) = read_header(&data).unwrap();
            assert_eq!((w, h, prog), (img.width, img.height, img.progressive), "{}", p.display());
            assert_eq!(img.dc_width, w.div_ceil(8));
            assert_eq!(img.dc_height, h.div_ceil(8));
            assert_eq!(img.rgb.len(), (img.dc_width * img.dc_height * 3) as usize);
            let (rw, rh, rgb) = reference_eighth(&data).unwrap_or_else(|e| panic!("{}: reference: {e}", p.display()));
            assert_eq!((rw, rh), (img.dc_width, img.dc_height), "{}", p.display());
            let (mae, max) = compare(&img.rgb, &rgb);
            assert!(mae < 2.0, "{}: mean abs error {mae:.3} (max {max})", p.display());
            st.n += 1;
            st.sum_mae += mae;
            st.max_err = st.max_err.max(max);
            if mae >= st.worst_mae {
                st.worst_mae = mae;
                st.worst_file = p.file_name().unwrap().to_string_lossy().into_owned();
            }
        }
        println!(
            "{name:<28} files {:>4}  mean MAE {:.3}  worst MAE {:.3} ({})  max abs err {}",
            st.n,
            st.sum_mae / st.n as f64,
            st.worst_mae,
            st.worst_file,
            st.max_err
        );
        st
    }

    #[test]
    fn isic_cc0_matches_jpeg_decoder() {
        let paths = files(&shared("data/isic-cc0/images"), &["jpg"]);
        assert_eq!(paths.len(), 47);
        check_set("isic-cc0", &paths);
    }

    #[test]
    fn ham10000_sample_matches_jpeg_decoder() {
        let paths = files(&shared("data/ham10000/images"), &["jpg"]);
        // Every 25th file: ~400 images.
        let sample: Vec<_> = paths.into_iter().step_by(25).collect();
        check_set("ham10000 (every 25th)", &sample);
    }

    #[test]
    fn ph2_matches_jpeg_decoder() {
        check_set("ph2", &files(&shared("data/ph2/images"), &["jpg"]));
    }

    #[test]
    fn libjpeg_turbo_decodable_match() {
        let generated = shared("corpora/libjpeg-turbo/generated");
        let names = [
            "sample411.jpg",
            "sample410.jpg",
            "sample440.jpg",
            "sample444.jpg",
            "progressive.jpg",
            "restart1row.jpg",
            "grayscale.jpg",
            "q5.jpg",
        ];
        let mut paths: Vec<_> = names.iter().map(|n| generated.join(n)).collect();
        let ti = shared("corpora/libjpeg-turbo/testimages");
        paths.push(ti.join("testorig.jpg"));
        paths.push(ti.join("testimgint.jpg"));
        check_set("libjpeg-turbo", &paths);
    }

    #[test]
    fn image_rs_reftest_odd_match() {
        let dir = shared("corpora/image-rs/jpeg-decoder/reftest-odd");
        let mut ok = Vec::new();
        for p in files(&dir, &["jpg", "jpeg"]) {
            let data = std::fs::read(&p).unwrap();
            match decode_dc(&data, MAX_PIXELS) {
                Ok(_) => ok.push(p),
                Err(e) => println!("  reftest-odd {}: {e}", p.file_name().unwrap().to_string_lossy()),
            }
        }
        // Compare those jpeg-decoder also decodes to RGB/grey.
        let comparable: Vec<_> =
            ok.into_iter().filter(|p| reference_eighth(&std::fs::read(p).unwrap()).is_ok()).collect();
        check_set("image-rs reftest-odd", &comparable);
    }

    /// libjpeg-turbo's own 1/8 decode (`djpeg -scale 1/8`) when `djpeg` is
    /// installed: bit-identical for 4:4:4 and greyscale (same DC rounding, same
    /// YCbCr constants); for subsampled files libjpeg-turbo uses chroma AC
    /// (scaled IDCT), so only a loose bound applies.
    #[test]
    fn matches_djpeg_when_available() {
        use std::process::Command;
        assert!(
            Command::new("djpeg").arg("-version").output().is_ok(),
            "djpeg is needed as the reference decoder (Debian: apt-get install libjpeg-turbo-progs; .ci/run installs it)"
        );
        let djpeg = |p: &std::path::Path| -> Vec<u8> {
            let out = Command::new("djpeg").args(["-scale", "1/8", "-ppm"]).arg(p).output().unwrap();
            let d = out.stdout;
            // P6/P5 header: 4 whitespace-separated fields, then one whitespace byte.
            let (mut fields, mut i) = (Vec::new(), 0);
            while fields.len() < 4 {
                while d[i].is_ascii_whitespace() {
                    i += 1;
                }
                let s = i;
                while !d[i].is_ascii_whitespace() {
                    i += 1;
                }
                fields.push(String::from_utf8_lossy(&d[s..i]).into_owned());
            }
            let px = &d[i + 1..];
            if fields[0] == "P5" { px.iter().flat_map(|&v| [v, v, v]).collect() } else { px.to_vec() }
        };
        let exact = [
            "corpora/libjpeg-turbo/generated/sample444.jpg",
            "corpora/libjpeg-turbo/generated/grayscale.jpg",
            "data/isic-cc0/images/ISIC_0000295.jpg",
            "data/isic-cc0/images/ISIC_0000315.jpg",
        ];
        for rel in exact {
            let p = shared(rel);
            let img = decode_dc(&std::fs::read(&p).unwrap(), MAX_PIXELS).unwrap();
            let (mae, max) = compare(&img.rgb, &djpeg(&p));
            println!("{rel:<50} vs djpeg: MAE {mae:.3} max {max}");
            assert_eq!(max, 0, "{rel}");
        }
        let (mut sum, mut worst, mut maxall, mut n) = (0.0, 0.0f64, 0u8, 0);
        for p in files(&shared("data/isic-cc0/images"), &["jpg"]) {
            let img = decode_dc(&std::fs::read(&p).unwrap(), MAX_PIXELS).unwrap();
            let (mae, max) = compare(&img.rgb, &djpeg(&p));
            assert!(mae < 2.0, "{}: MAE {mae} max {max}", p.display());
            (sum, worst, maxall, n) = (sum + mae, worst.max(mae), maxall.max(max), n + 1);
        }
        println!(
            "isic-cc0 vs djpeg -scale 1/8: {n} files, mean MAE {:.3}, worst MAE {worst:.3}, max abs err {maxall}",
            sum / n as f64
        );
    }
}

mod fuzz {
    // Deterministic mutation fuzzing: real files are bit-flipped, overwritten,
    // truncated, spliced and sprinkled with markers; decode_dc and read_header
    // must return (Ok or Err) without panicking, quickly, and an Ok image must
    // be consistent and no larger than the file can justify.
    use super::common::*;
    use dermdesk::decode::dc_jpeg::{decode_dc, read_header};
    use std::time::{Duration, Instant};

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn seeds() -> Vec<(String, Vec<u8>)> {
        let rels = [
            "corpora/libjpeg-turbo/testimages/testorig.jpg",
            "corpora/libjpeg-turbo/generated/sample411.jpg",
            "corpora/libjpeg-turbo/generated/sample410.jpg",
            "corpora/libjpeg-turbo/generated/sample440.jpg",
            "corpora/libjpeg-turbo/generated/sample444.jpg",
            "corpora/libjpeg-turbo/generated/progressive.jpg",
            "corpora/libjpeg-turbo/generated/restart1row.jpg",
            "corpora/libjpeg-turbo/generated/grayscale.jpg",
            "corpora/libjpeg-turbo/generated/q5.jpg",
            "corpora/image-rs/jpeg-decoder/reftest-odd/restarts.jpg",
            "corpora/image-rs/jpeg-decoder/reftest-odd/non-interleaved-mcu.jpg",
            "corpora/image-rs/jpeg-decoder/reftest-odd/mozilla/jpg-progressive.jpg",
            "data/ham10000/images/ISIC_0024306.jpg",
            "data/ph2/images/IMD002.jpg",
            "data/isic-cc0/images/ISIC_0000158.jpg",
        ];
        rels.iter().map(|r| (r.to_string(), std::fs::read(shared(r)).unwrap())).collect()
    }

    fn mutate(rng: &mut Rng, src: &[u8]) -> (Vec<u8>, &'static str) {
        let mut d = src.to_vec();
        let n = d.len();
        let what = match rng.below(9) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(n);
                    d[i] ^= 1 << rng.below(8);
                }
                "bit flips"
            }
            1 => {
                for _ in 0..1 + rng.below(16) {
                    let i = rng.below(n);
                    d[i] = rng.next() as u8;
                }
                "random bytes"
            }
            2 => {
                d.truncate(rng.below(n));
                "truncate"
            }
            3 => {
                // Header region: most structure lives in the first ~700 bytes.
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(n.min(800));
                    d[i] = match rng.below(4) {
                        0 => 0,
                        1 => 0xFF,
                        2 => d[i].wrapping_add(1),
                        _ => rng.next() as u8,
                    };
                }
                "header bytes"
            }
            4 => {
                let i = rng.below(n);
                let len = 1 + rng.below(64);
                let ins: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                d.splice(i..i, ins);
                "insert"
            }
            5 => {
                let i = rng.below(n);
                let j = (i + 1 + rng.below(256)).min(n);
                d.drain(i..j);
                "delete"
            }
            6 => {
                let i = rng.below(n);
                let j = (i + 1 + rng.below(512)).min(n);
                let chunk = d[i..j].to_vec();
                let at = rng.below(d.len());
                d.splice(at..at, chunk);
                "duplicate range"
            }
            7 => {
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(n.saturating_sub(1));
                    let markers = [0xD0, 0xD7, 0xD9, 0xDA, 0xC4, 0xDB, 0xC0, 0xC2, 0xDD, 0xFF, 0x00, 0x01];
                    d[i] = 0xFF;
                    d[i + 1] = markers[rng.below(markers.len())];
                }
                "markers"
            }
            _ => {
                // Zero or max a 16-bit big-endian field somewhere in the headers.
                let i = rng.below(n.min(800).saturating_sub(1));
                let v: u16 = [0, 1, 0xFFFF, 0x8000, 2][rng.below(5)];
                d[i..i + 2].copy_from_slice(&v.to_be_bytes());
                "16-bit field"
            }
        };
        (d, what)
    }

    #[test]
    fn mutated_files_never_panic() {
        let seeds = seeds();
        let cases_per_seed = 1000; // 15 seeds × 1000 = 15,000 cases
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut ok, mut err) = (0usize, 0usize);
        let mut slowest = Duration::ZERO;
        let start = Instant::now();
        for (name, src) in &seeds {
            for case in 0..cases_per_seed {
                let (data, what) = mutate(&mut rng, src);
                let t = Instant::now();
                let r = std::panic::catch_unwind(|| (decode_dc(&data, 50_000_000), read_header(&data)));
                slowest = slowest.max(t.elapsed());
                let (res, _) = r.unwrap_or_else(|_| panic!("panic on {name} case {case} ({what})"));
                match res {
                    Ok(img) => {
                        ok += 1;
                        assert_eq!(img.rgb.len(), (img.dc_width * img.dc_height * 3) as usize);
                        assert_eq!(img.dc_width, img.width.div_ceil(8));
                        assert_eq!(img.dc_height, img.height.div_ceil(8));
                        // Memory is bounded by the file: at least one bit per coded
                        // block, and a coded block stands for at most 16 output pixels.
                        assert!(
                            (img.dc_width as u64 * img.dc_height as u64) <= 128 * data.len() as u64 + 64,
                            "{name} case {case}: {}x{} from {} bytes",
                            img.width,
                            img.height,
                            data.len()
                        );
                    }
                    Err(_) => err += 1,
                }
            }
        }
        println!("{} cases: {ok} Ok, {err} Err, total {:?}, slowest case {:?}", ok + err, start.elapsed(), slowest);
    }
}
