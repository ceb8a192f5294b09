//! Serial arithmetic mod 2^255 − 19 in radix 2^51 (five u64 limbs, u128 products): the final
//! inversion and encoding of [`super::ifma`]'s ladder, where only one element is in flight.
//!
//! Limbs are kept below 2^52 between operations; [`Fe51::to_bytes`] reduces fully, so the
//! output is the canonical encoding.

const MASK51: u64 = (1 << 51) - 1;

/// An element of GF(2^255 − 19): `Σ limbs[i] · 2^(51 i)`, each limb below 2^52.
#[derive(Clone, Copy)]
pub(crate) struct Fe51(pub(crate) [u64; 5]);

#[inline(always)]
fn m(x: u64, y: u64) -> u128 {
    u128::from(x) * u128::from(y)
}

/// Carries five u128 accumulators (each below 2^115) into limbs below 2^52.
#[inline(always)]
fn reduce(c: [u128; 5]) -> Fe51 {
    let mut out = [0u64; 5];
    let c1 = c[1] + (c[0] >> 51);
    out[0] = (c[0] as u64) & MASK51;
    let c2 = c[2] + (c1 >> 51);
    out[1] = (c1 as u64) & MASK51;
    let c3 = c[3] + (c2 >> 51);
    out[2] = (c2 as u64) & MASK51;
    let c4 = c[4] + (c3 >> 51);
    out[3] = (c3 as u64) & MASK51;
    out[4] = (c4 as u64) & MASK51;
    // c4 >> 51 < 2^64; times 19 fits a u128.
    let t = u128::from(out[0]) + (c4 >> 51) * 19;
    out[0] = (t as u64) & MASK51;
    out[1] += (t >> 51) as u64;
    Fe51(out)
}

impl Fe51 {
    /// `self · o`.
    #[inline]
    pub(crate) fn mul(&self, o: &Fe51) -> Fe51 {
        let [a0, a1, a2, a3, a4] = self.0;
        let [b0, b1, b2, b3, b4] = o.0;
        let (b1, b2, b3, b4, b1_19, b2_19, b3_19, b4_19) =
            (b1, b2, b3, b4, b1 * 19, b2 * 19, b3 * 19, b4 * 19);
        reduce([
            m(a0, b0) + m(a1, b4_19) + m(a2, b3_19) + m(a3, b2_19) + m(a4, b1_19),
            m(a0, b1) + m(a1, b0) + m(a2, b4_19) + m(a3, b3_19) + m(a4, b2_19),
            m(a0, b2) + m(a1, b1) + m(a2, b0) + m(a3, b4_19) + m(a4, b3_19),
            m(a0, b3) + m(a1, b2) + m(a2, b1) + m(a3, b0) + m(a4, b4_19),
            m(a0, b4) + m(a1, b3) + m(a2, b2) + m(a3, b1) + m(a4, b0),
        ])
    }

    /// `self^(2^k)`, `k ≥ 1`.
    #[inline]
    pub(crate) fn square_times(&self, k: u32) -> Fe51 {
        let mut x = *self;
        for _ in 0..k {
            let [a0, a1, a2, a3, a4] = x.0;
            let (d0, d1, d2, d3) = (2 * a0, 2 * a1, 2 * a2, 2 * a3);
            let (a3_19, a4_19) = (a3 * 19, a4 * 19);
            x = reduce([
                m(a0, a0) + m(d1, a4_19) + m(d2, a3_19),
                m(d0, a1) + m(d2, a4_19) + m(a3, a3_19),
                m(d0, a2) + m(a1, a1) + m(d3, a4_19),
                m(d0, a3) + m(d1, a2) + m(a4, a4_19),
                m(d0, a4) + m(d1, a3) + m(a2, a2),
            ]);
        }
        x
    }

    /// `self^(p − 2)`: the inverse, and 0 for 0.
    pub(crate) fn invert(&self) -> Fe51 {
        let z = self;
        let z2 = z.square_times(1);
        let z9 = z2.square_times(2).mul(z);
        let z11 = z9.mul(&z2);
        let z_5_0 = z11.square_times(1).mul(&z9); // 2^5 − 1
        let z_10_0 = z_5_0.square_times(5).mul(&z_5_0);
        let z_20_0 = z_10_0.square_times(10).mul(&z_10_0);
        let z_40_0 = z_20_0.square_times(20).mul(&z_20_0);
        let z_50_0 = z_40_0.square_times(10).mul(&z_10_0);
        let z_100_0 = z_50_0.square_times(50).mul(&z_50_0);
        let z_200_0 = z_100_0.square_times(100).mul(&z_100_0);
        let z_250_0 = z_200_0.square_times(50).mul(&z_50_0);
        z_250_0.square_times(5).mul(&z11) // 2^255 − 32 + 11
    }

    /// The canonical little-endian encoding (fully reduced mod p).
    pub(crate) fn to_bytes(self) -> [u8; 32] {
        // Weak reduction to limbs below 2^51 (value below 2^255 + 19·2^?, at most p + small).
        let mut h = self.0;
        for _ in 0..2 {
            let mut carry = 0u64;
            for limb in h.iter_mut() {
                *limb += carry;
                carry = *limb >> 51;
                *limb &= MASK51;
            }
            h[0] += carry * 19;
        }
        // h < 2^255 + 19 now; q = 1 exactly when h ≥ p.
        let mut q = (h[0] + 19) >> 51;
        q = (h[1] + q) >> 51;
        q = (h[2] + q) >> 51;
        q = (h[3] + q) >> 51;
        q = (h[4] + q) >> 51;
        h[0] += 19 * q;
        let mut carry = 0u64;
        for limb in h.iter_mut() {
            *limb += carry;
            carry = *limb >> 51;
            *limb &= MASK51;
        }
        let words = [
            h[0] | (h[1] << 51),
            (h[1] >> 13) | (h[2] << 38),
            (h[2] >> 26) | (h[3] << 25),
            (h[3] >> 39) | (h[4] << 12),
        ];
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        out
    }
}
