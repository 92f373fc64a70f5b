//! A channel-inner depthwise-convolution kernel for x86, registered into tract-linalg's kernel
//! table.
//!
//! tract 0.23.9 turns a depthwise convolution that sits between pointwise ones channel-last
//! while it simplifies a model (`Conv::suggested_axis_changes`), but only on machines with a
//! channel-inner depthwise kernel (`DepthwiseC`): WebAssembly and aarch64 have one, x86 has only
//! the channel-first one. So on x86 every such convolution ran channel-first, one channel at a
//! time along each row (the demo classifier's 16 took 15 of its 28 ms a photo, release build, the
//! file's layout). Registering this kernel switches tract's own rewrite on: the same 16 take 2 ms
//! and the photo 13-16 ms. Where the CPU has AVX-512, `depthwise` now runs those channel-last
//! convolutions itself (faster still, with their clip); this kernel is what makes tract choose
//! the layout, and it runs the rest. README, Benchmarks, "Kernels of our own".
//!
//! The kernel keeps four 8-lane accumulators in registers across every tap, where tract's portable
//! channel-inner loop adds each tap into the output in memory. Its arithmetic is that loop's, in
//! the same order (the bias, then one multiply and one add per tap, no fused multiply-add), so
//! its outputs are bit-identical to it (`tests` below check the bits).
//!
//! tract's table is filled at link time (`inventory`); it takes this kernel for machines with
//! AVX because it is the only x86 one of its kind. Unsafe code is allowed in this file alone:
//! a SIMD kernel reads through the raw pointers tract's kernel contract hands it.
#![allow(unsafe_code)]

/// The name tract's table knows the kernel by (`tract_linalg::routines::declared`).
pub const DEPTHWISE_C_NAME: &str = "dermdesk_x86_64_avx_depthwise_c_f32";

#[cfg(target_arch = "x86_64")]
inventory::submit! {
    tract_linalg::routines::Routine {
        func: tract_linalg::routines::Func::DepthwiseC,
        arch: Some(tract_linalg::isa::Arch::X86_64),
        isa: tract_linalg::isa::IsaReq::ANY.needing(&[tract_linalg::isa::Isa::X86_64Avx]),
        boost: 0,
        round_trip: false,
        factory: tract_linalg::routines::RoutineFactory::DepthwiseCF32 {
            name: DEPTHWISE_C_NAME,
            run: depthwise_c_f32,
        },
    }
}

/// tract's `DepthwiseCF32` contract (`tract_linalg::routines::DepthwiseCF32`): `len` output
/// positions of `channels` contiguous channels. Position `i`, channel `c`, is `bias[c]` plus
/// every `kernel[tap_indices[t] * k_stride + c] * input[i * in_stride + offsets[t] + c]`.
///
/// # Safety
/// As tract's contract: every input, kernel and bias value named above readable, `channels`
/// values writable from `output + i * out_stride` for every `i` below `len`, and the CPU has AVX
/// (tract only picks this kernel where it does).
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
unsafe fn depthwise_c_f32(
    input: *const f32,
    output: *mut f32,
    kernel: *const f32,
    tap_indices: &[usize],
    offsets: &[isize],
    bias: *const f32,
    channels: usize,
    k_stride: usize,
    len: usize,
    in_stride: isize,
    out_stride: isize,
) {
    let run = Run { input, output, kernel, tap_indices, offsets, bias, channels, k_stride };
    // SAFETY: the caller's contract above; tract picks this kernel only on machines with AVX.
    unsafe { avx(&run, len, in_stride, out_stride) }
}

/// What stays the same for every output position of one call.
#[cfg(target_arch = "x86_64")]
struct Run<'a> {
    input: *const f32,
    output: *mut f32,
    kernel: *const f32,
    tap_indices: &'a [usize],
    offsets: &'a [isize],
    bias: *const f32,
    channels: usize,
    k_stride: usize,
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn avx(r: &Run<'_>, len: usize, in_stride: isize, out_stride: isize) {
    use std::arch::x86_64::*;
    let taps = || r.tap_indices.iter().zip(r.offsets);
    // SAFETY (every block): the pointers stay inside what the contract makes readable or
    // writable: channel `c + 31` (or `c + 7`) is below `channels` where it is read.
    unsafe {
        for i in 0..len as isize {
            let x = r.input.offset(i * in_stride);
            let out = r.output.offset(i * out_stride);
            let mut c = 0usize;
            while c + 32 <= r.channels {
                let b = r.bias.add(c);
                let (mut a0, mut a1) = (_mm256_loadu_ps(b), _mm256_loadu_ps(b.add(8)));
                let (mut a2, mut a3) = (_mm256_loadu_ps(b.add(16)), _mm256_loadu_ps(b.add(24)));
                for (&kix, &off) in taps() {
                    let k = r.kernel.add(kix * r.k_stride + c);
                    let p = x.offset(off).add(c);
                    a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_loadu_ps(k), _mm256_loadu_ps(p)));
                    a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_loadu_ps(k.add(8)), _mm256_loadu_ps(p.add(8))));
                    a2 = _mm256_add_ps(a2, _mm256_mul_ps(_mm256_loadu_ps(k.add(16)), _mm256_loadu_ps(p.add(16))));
                    a3 = _mm256_add_ps(a3, _mm256_mul_ps(_mm256_loadu_ps(k.add(24)), _mm256_loadu_ps(p.add(24))));
                }
                _mm256_storeu_ps(out.add(c), a0);
                _mm256_storeu_ps(out.add(c + 8), a1);
                _mm256_storeu_ps(out.add(c + 16), a2);
                _mm256_storeu_ps(out.add(c + 24), a3);
                c += 32;
            }
            while c + 8 <= r.channels {
                let mut a = _mm256_loadu_ps(r.bias.add(c));
                for (&kix, &off) in taps() {
                    let k = _mm256_loadu_ps(r.kernel.add(kix * r.k_stride + c));
                    a = _mm256_add_ps(a, _mm256_mul_ps(k, _mm256_loadu_ps(x.offset(off).add(c))));
                }
                _mm256_storeu_ps(out.add(c), a);
                c += 8;
            }
            while c < r.channels {
                let mut a = *r.bias.add(c);
                for (&kix, &off) in taps() {
                    a += *r.kernel.add(kix * r.k_stride + c) * *x.offset(off).add(c);
                }
                *out.add(c) = a;
                c += 1;
            }
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// tract's portable loop, as written in tract-core 0.23.9's `eval_c_inner`: the output set to
    /// the bias, then each tap added into it in memory.
    #[allow(clippy::too_many_arguments)]
    fn portable(
        input: &[f32],
        kernel: &[f32],
        tap_indices: &[usize],
        offsets: &[isize],
        bias: &[f32],
        channels: usize,
        k_stride: usize,
        len: usize,
        in_stride: isize,
        out_stride: isize,
        start: isize,
        output: &mut [f32],
    ) {
        for i in 0..len as isize {
            let o = (i * out_stride) as usize;
            output[o..o + channels].copy_from_slice(&bias[..channels]);
            for (&kix, &off) in tap_indices.iter().zip(offsets) {
                for c in 0..channels {
                    let x = input[(start + i * in_stride + off) as usize + c];
                    output[o + c] += kernel[kix * k_stride + c] * x;
                }
            }
        }
    }

    /// Values with every mantissa bit busy, so a different summation order would show.
    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) as f32 / 4.0e9).sin() * 3.1).collect()
    }

    /// 3×3 and 5×5 taps over a channel-last image, stride 1 and 2, with channel counts that
    /// use the 32-wide, 8-wide and one-at-a-time loops: the same bits as tract's portable loop.
    #[test]
    fn same_bits_as_tracts_portable_loop() {
        if !std::is_x86_feature_detected!("avx") {
            return;
        }
        for (channels, k_stride, side, stride) in
            [(32, 32, 3, 1), (96, 96, 3, 2), (144, 144, 5, 1), (13, 16, 5, 2), (45, 48, 3, 1), (7, 7, 3, 1)]
        {
            let width = 12isize;
            let row = width * k_stride as isize;
            let taps = side * side;
            let tap_indices: Vec<usize> = (0..taps).rev().collect();
            let offsets: Vec<isize> =
                (0..taps).map(|t| (t / side) as isize * row + (t % side) as isize * k_stride as isize).collect();
            let len = 5usize;
            let in_stride = stride * k_stride as isize;
            let input = values((row * (side as isize + 1)) as usize + 64, channels as u32);
            let kernel = values(taps * k_stride, 7);
            let bias = values(k_stride, 11);
            let out_stride = k_stride as isize + 3;
            let mut want = vec![f32::NAN; len * out_stride as usize];
            let mut got = want.clone();
            let start = 2isize;
            portable(
                &input,
                &kernel,
                &tap_indices,
                &offsets,
                &bias,
                channels,
                k_stride,
                len,
                in_stride,
                out_stride,
                start,
                &mut want,
            );
            // SAFETY: the test's buffers hold every position the contract names.
            unsafe {
                depthwise_c_f32(
                    input.as_ptr().offset(start),
                    got.as_mut_ptr(),
                    kernel.as_ptr(),
                    &tap_indices,
                    &offsets,
                    bias.as_ptr(),
                    channels,
                    k_stride,
                    len,
                    in_stride,
                    out_stride,
                );
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
            assert_eq!(bits(&got), bits(&want), "{channels} channels, {side}×{side}, stride {stride}");
        }
    }

    /// tract picks this kernel for channel-last depthwise convolutions on this machine, and so
    /// turns the demo classifier's depthwise convolutions channel-last when it simplifies it.
    #[test]
    fn tract_takes_the_kernel() {
        use tract_onnx::prelude::*;
        let isa = tract_linalg::isa::native();
        let chosen = tract_linalg::routines::best_for(tract_linalg::routines::Func::DepthwiseC, DatumType::F32, &isa);
        if std::is_x86_feature_detected!("avx") {
            assert_eq!(chosen.map(|r| r.name()), Some(DEPTHWISE_C_NAME));
            assert!(tract_linalg::routines::depthwise_c_f32().is_some());
        }
        let Some((_, bytes)) = crate::models::registry::builtin_files("ham7-lite0") else {
            panic!("the demo classifier is built in (assets/models/ham7-lite0)");
        };
        let model = onnx().model_for_read(&mut std::io::Cursor::new(bytes)).unwrap();
        let model = model.with_input_fact(0, f32::fact([1, 3, 160, 224]).into()).unwrap();
        let typed = model.into_typed().unwrap().into_decluttered().unwrap();
        let depthwise: Vec<bool> = typed
            .nodes()
            .iter()
            .filter_map(|n| n.op_as::<tract_onnx::tract_core::ops::cnn::Conv>())
            .filter(|c| c.group > 1)
            .map(|c| c.pool_spec.data_format.c_is_last())
            .collect();
        assert_eq!(depthwise.len(), 16, "EfficientNet-Lite0 has 16 depthwise convolutions");
        let last = depthwise.iter().filter(|&&l| l).count();
        // All but the first, which follows the stem's ordinary convolution: tract's rewrite
        // stops there (it would reach the model's input).
        if std::is_x86_feature_detected!("avx") {
            assert_eq!(last, 15, "tract left depthwise convolutions channel-first: {depthwise:?}");
        }
    }
}
