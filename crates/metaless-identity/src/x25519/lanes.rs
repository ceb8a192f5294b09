//! Two lanes, the unit the 2-way field arithmetic of [`super::ladder`] computes on, in plain
//! Rust that LLVM's SLP vectoriser turns into SSE2 on x86-64 (no `unsafe`, no runtime
//! detection: SSE2 is part of the x86-64 baseline).
//!
//! Operand limbs are [`U2`] (two u32) and products are [`V2`] (two u64): a product
//! `u64::from(a) * u64::from(b)` of zero-extended u32 lanes is what LLVM costs and emits as one
//! `pmuludq`. (Keeping operands in u64 lanes and truncating with `as u32` does not work: LLVM
//! rewrites the truncation into a mask, prices a full 64×64 vector multiply and stays scalar.)

/// Two u32 lanes: the limbs of two field elements that are multiplication operands.
#[derive(Clone, Copy, Default)]
#[repr(align(8))]
pub(crate) struct U2([u32; 2]);

/// Two u64 lanes: product accumulators.
#[derive(Clone, Copy, Default)]
#[repr(align(16))]
pub(crate) struct V2([u64; 2]);

impl U2 {
    /// `(lo, hi)`.
    #[inline(always)]
    pub(crate) const fn new(lo: u32, hi: u32) -> Self {
        U2([lo, hi])
    }
    /// The low lane.
    #[inline(always)]
    pub(crate) fn lo(self) -> u32 {
        self.0[0]
    }
    /// The high lane.
    #[inline(always)]
    pub(crate) fn hi(self) -> u32 {
        self.0[1]
    }
    /// Both lanes `x`.
    #[inline(always)]
    pub(crate) const fn splat(x: u32) -> Self {
        U2([x, x])
    }
    /// Lane-wise wrapping sum.
    #[inline(always)]
    pub(crate) fn add(self, o: Self) -> Self {
        U2([
            self.0[0].wrapping_add(o.0[0]),
            self.0[1].wrapping_add(o.0[1]),
        ])
    }
    /// Lane-wise wrapping difference.
    #[inline(always)]
    pub(crate) fn sub(self, o: Self) -> Self {
        U2([
            self.0[0].wrapping_sub(o.0[0]),
            self.0[1].wrapping_sub(o.0[1]),
        ])
    }
    /// Lane-wise `19 · x` (shifts and adds, which SSE2 has for 32-bit lanes).
    #[inline(always)]
    pub(crate) fn times19(self) -> Self {
        let x2 = self.add(self);
        let x16 = U2([self.0[0] << 4, self.0[1] << 4]);
        x16.add(x2).add(self)
    }
    /// Lane-wise full product `u64(self) · u64(o)`.
    #[inline(always)]
    pub(crate) fn mul(self, o: Self) -> V2 {
        V2([
            u64::from(self.0[0]) * u64::from(o.0[0]),
            u64::from(self.0[1]) * u64::from(o.0[1]),
        ])
    }
    /// Lane-wise xor.
    #[inline(always)]
    pub(crate) fn xor(self, o: Self) -> Self {
        U2([self.0[0] ^ o.0[0], self.0[1] ^ o.0[1]])
    }
    /// Lane-wise and.
    #[inline(always)]
    pub(crate) fn and(self, o: Self) -> Self {
        U2([self.0[0] & o.0[0], self.0[1] & o.0[1]])
    }
    /// `(hi, lo)`.
    #[inline(always)]
    pub(crate) fn swap(self) -> Self {
        U2([self.0[1], self.0[0]])
    }
    /// `(self.lo, o.lo)`.
    #[inline(always)]
    pub(crate) fn lo_lo(self, o: Self) -> Self {
        U2([self.0[0], o.0[0]])
    }
    /// `(self.hi, o.hi)`.
    #[inline(always)]
    pub(crate) fn hi_hi(self, o: Self) -> Self {
        U2([self.0[1], o.0[1]])
    }
    /// `(self.lo, o.hi)`.
    #[inline(always)]
    pub(crate) fn lo_hi(self, o: Self) -> Self {
        U2([self.0[0], o.0[1]])
    }
}

impl V2 {
    /// Lane-wise wrapping sum.
    #[inline(always)]
    pub(crate) fn add(self, o: Self) -> Self {
        V2([
            self.0[0].wrapping_add(o.0[0]),
            self.0[1].wrapping_add(o.0[1]),
        ])
    }
    /// Lane-wise and with `m`.
    #[inline(always)]
    pub(crate) fn and(self, m: u64) -> Self {
        V2([self.0[0] & m, self.0[1] & m])
    }
    /// Lane-wise logical right shift.
    #[inline(always)]
    pub(crate) fn shr<const N: u32>(self) -> Self {
        V2([self.0[0] >> N, self.0[1] >> N])
    }
    /// Lane-wise `self · 19` (shifts and adds; no 64-bit vector multiply on SSE2).
    #[inline(always)]
    pub(crate) fn times19(self) -> Self {
        V2([
            (self.0[0] << 4)
                .wrapping_add(self.0[0] << 1)
                .wrapping_add(self.0[0]),
            (self.0[1] << 4)
                .wrapping_add(self.0[1] << 1)
                .wrapping_add(self.0[1]),
        ])
    }
    /// The low `N` bits of each lane, as u32 lanes.
    #[inline(always)]
    pub(crate) fn low<const N: u32>(self) -> U2 {
        U2([
            (self.0[0] & ((1 << N) - 1)) as u32,
            (self.0[1] & ((1 << N) - 1)) as u32,
        ])
    }
    /// Lane-wise widening of `x`.
    #[inline(always)]
    pub(crate) fn from_u2(x: U2) -> Self {
        V2([u64::from(x.0[0]), u64::from(x.0[1])])
    }
}
