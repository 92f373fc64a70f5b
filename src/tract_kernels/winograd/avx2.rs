//! Winograd's input and output transforms with AVX2, eight tiles of a tile row at a time
//! (written plainly, the compiler's code took 0.6–0.8 ms for each transform of a 64-channel
//! 40×56 image against 0.05–0.1 ms here: it kept the eight tiles in scalars).
#![allow(unsafe_code)]
#![allow(clippy::needless_range_loop)]

use std::arch::x86_64::*;
use tract_onnx::prelude::{Tensor, TractResult};

/// A new output tensor of `shape`, its values not yet written: `Winograd::run` writes every
/// one (its tiles cover every output row and column) before anything reads it. Zeroed
/// first, 0.6 MB cost the segmenter's largest 3×3 the time of its input's transform.
pub(super) fn output(shape: &[usize]) -> TractResult<Tensor> {
    // SAFETY: `f32` has no invalid values; see above for why none is read before written.
    unsafe { Tensor::uninitialized::<f32>(shape) }
}

/// Whether this machine has what these transforms need.
pub(super) fn here() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// `transform_input_avx2`, after checking the machine.
pub(super) fn transform_input(rows: &[f32], pw: usize, tc: usize, u: &mut [f32], ps: usize) {
    assert!(here(), "Winograd's transforms need AVX2 and FMA");
    // SAFETY: checked just above; the function checks its slices.
    unsafe { transform_input_avx2(rows, pw, tc, u, ps) }
}

/// `transform_output_avx2`, after checking the machine.
pub(super) fn transform_output(
    m: &[&[f32]; 16],
    tc: usize,
    bias: f32,
    clip: (f32, f32),
    out: &mut [f32],
    cols: usize,
    rows: usize,
) {
    assert!(here(), "Winograd's transforms need AVX2 and FMA");
    // SAFETY: checked just above; the function checks its slices.
    unsafe { transform_output_avx2(m, tc, bias, clip, out, cols, rows) }
}

/// Even and odd values of 16 from `p`: `(p[0], p[2], …, p[14])` and `(p[1], …, p[15])`.
///
/// SAFETY: 16 values from `p` are readable; AVX2 is present.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn deinterleave(p: *const f32) -> (__m256, __m256) {
    // SAFETY: the caller's.
    unsafe {
        let (a, b) = (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)));
        // Within each 128-bit half: a0 a2 b0 b2 | a4 a6 b4 b6; then the 64-bit pairs reordered.
        let even = _mm256_shuffle_ps::<0x88>(a, b);
        let odd = _mm256_shuffle_ps::<0xDD>(a, b);
        let fix = |v: __m256| _mm256_castpd_ps(_mm256_permute4x64_pd::<0xD8>(_mm256_castps_pd(v)));
        (fix(even), fix(odd))
    }
}

/// `Bᵀ d B` of every tile along one tile row (see `super::transform_input`): `rows` holds the
/// row's four input rows, `pw` values apart, at least `2·tc + 2` each, and readable up to
/// the next whole group of 8 tiles; `u` gets, position by position (`ps` values apart), `tc`
/// values, and values that are not tiles after them up to the next whole group of 8.
///
/// SAFETY: AVX2 and FMA are present. Reads stay inside `rows`, writes inside `u`.
#[target_feature(enable = "avx2,fma")]
unsafe fn transform_input_avx2(rows: &[f32], pw: usize, tc: usize, u: &mut [f32], ps: usize) {
    let groups = tc.div_ceil(8) * 8;
    assert!(rows.len() >= 3 * pw + 2 * groups + 2 && u.len() >= 15 * ps + groups && pw >= 2 * tc + 2);
    // SAFETY: every group reads 18 values from 2·j0 of each row and writes 8 from j0 of each
    // position, inside the slices (asserted). A last group of fewer than 8 tiles reads
    // values past the row's (the next row's, or slack) and writes values past the tile
    // row's: its lanes past `tc` are not tiles, and the caller overwrites or ignores them.
    unsafe {
        let mut j0 = 0;
        while j0 < tc {
            let mut h = [[_mm256_setzero_ps(); 4]; 4];
            for (r, hr) in h.iter_mut().enumerate() {
                let p = rows.as_ptr().add(r * pw + 2 * j0);
                let (e, o) = deinterleave(p);
                let (e1, o1) = deinterleave(p.add(2));
                *hr = [_mm256_sub_ps(e, e1), _mm256_add_ps(o, e1), _mm256_sub_ps(e1, o), _mm256_sub_ps(o, o1)];
            }
            for k in 0..4 {
                let (a, b, c, d) = (h[0][k], h[1][k], h[2][k], h[3][k]);
                let v = [_mm256_sub_ps(a, c), _mm256_add_ps(b, c), _mm256_sub_ps(c, b), _mm256_sub_ps(b, d)];
                for (q, vq) in v.iter().enumerate() {
                    _mm256_storeu_ps(u.as_mut_ptr().add((4 * q + k) * ps + j0), *vq);
                }
            }
            j0 += 8;
        }
    }
}

/// `Aᵀ m A` of the tiles of one tile row of one output channel: `m` holds the 16 positions'
/// sums, `tc` tiles each from the row's first (readable up to the next whole group of 8);
/// `out` gets the `rows` (1 or 2) output rows from its start, `cols` (`≤ 2·tc`) values
/// apart, each with `bias` added and clipped to `clip`. Where `out` has room, the last row's
/// last group of fewer than 8 tiles writes 16 values, past the row's end: the caller
/// overwrites them.
///
/// SAFETY: AVX2 and FMA are present. Reads stay inside each `m[p]`, writes inside `out`.
#[target_feature(enable = "avx2,fma")]
unsafe fn transform_output_avx2(
    m: &[&[f32]; 16],
    tc: usize,
    bias: f32,
    clip: (f32, f32),
    out: &mut [f32],
    cols: usize,
    rows: usize,
) {
    let groups = tc.div_ceil(8) * 8;
    assert!(
        m.iter().all(|p| p.len() >= groups) && cols <= 2 * tc && out.len() >= (rows - 1) * cols + cols && rows <= 2
    );
    // SAFETY: each group reads 8 sums from j0 < tc of each position, inside (asserted); it
    // writes 16 values from a·cols + 2·j0 where they fit in `out`, else through a copy.
    unsafe {
        let (b, lo, hi) = (_mm256_set1_ps(bias), _mm256_set1_ps(clip.0), _mm256_set1_ps(clip.1));
        let mut j0 = 0;
        while j0 < tc {
            let mm: [__m256; 16] = std::array::from_fn(|p| _mm256_loadu_ps(m[p].as_ptr().add(j0)));
            for a in 0..rows {
                let s: [__m256; 4] = std::array::from_fn(|c| {
                    if a == 0 {
                        _mm256_add_ps(_mm256_add_ps(mm[c], mm[4 + c]), mm[8 + c])
                    } else {
                        _mm256_sub_ps(_mm256_sub_ps(mm[4 + c], mm[8 + c]), mm[12 + c])
                    }
                });
                let y0 = _mm256_add_ps(_mm256_add_ps(s[0], s[1]), s[2]);
                let y1 = _mm256_sub_ps(_mm256_sub_ps(s[1], s[2]), s[3]);
                let (l, h) = (_mm256_unpacklo_ps(y0, y1), _mm256_unpackhi_ps(y0, y1));
                let v = [_mm256_permute2f128_ps::<0x20>(l, h), _mm256_permute2f128_ps::<0x31>(l, h)];
                let v = v.map(|v| _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, b), lo), hi));
                let at = a * cols + 2 * j0;
                // Past the row's end lies the next row: the second row of this tile row was
                // written already (its first group came before), so the first row's last
                // group stays inside; the second's may run on into the next tile row.
                let spill = 2 * j0 + 16 > cols && (a + 1 < rows || at + 16 > out.len());
                if !spill {
                    _mm256_storeu_ps(out.as_mut_ptr().add(at), v[0]);
                    _mm256_storeu_ps(out.as_mut_ptr().add(at + 8), v[1]);
                } else {
                    let mut t = [0f32; 16];
                    _mm256_storeu_ps(t.as_mut_ptr(), v[0]);
                    _mm256_storeu_ps(t.as_mut_ptr().add(8), v[1]);
                    let k = cols - 2 * j0;
                    out[at..at + k].copy_from_slice(&t[..k]);
                }
            }
            j0 += 8;
        }
    }
}
