// A contract in Rust (no_std), built for wasm32-unknown-unknown by the
// instrument tests: host imports, loops, a jump table, indirect calls,
// 128-bit arithmetic and bulk memory, all through the default options.
#![no_std]

#[link(wasm_import_module = "dualchain")]
extern "C" {
    fn input_len() -> i32;
    fn input(ptr: *mut u8);
    fn output(ptr: *const u8, len: i32);
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

static mut BUF: [u8; 4096] = [0; 4096];
static mut OUT: [u8; 64] = [0; 64];
static mut CALLS: u32 = 0;

trait Step {
    fn step(&self, x: u64) -> u64;
}
struct Mul(u64);
struct Xor(u64);
impl Step for Mul {
    fn step(&self, x: u64) -> u64 {
        x.wrapping_mul(self.0) | 1
    }
}
impl Step for Xor {
    fn step(&self, x: u64) -> u64 {
        x ^ (x >> self.0)
    }
}

#[inline(never)]
fn mix(bytes: &[u8], steps: &[&dyn Step]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for (i, &b) in bytes.iter().enumerate() {
        h = match b % 5 {
            0 => h ^ b as u64,
            1 => h.rotate_left(7),
            2 => h.wrapping_add((b as i8) as i64 as u64),
            3 => steps[i % steps.len()].step(h),
            _ => ((h as u128 * 0x100000001b3u128) >> 3) as u64,
        };
    }
    h
}

#[inline(never)]
fn depth(n: u32) -> u32 {
    if n == 0 { 0 } else { 1 + depth(n - 1) }
}

#[no_mangle]
pub extern "C" fn hash() {
    unsafe {
        CALLS += 1;
        let n = (input_len() as usize).min(BUF.len());
        input(BUF.as_mut_ptr());
        let (a, b) = BUF.split_at_mut(2048);
        b[..n.min(2048)].copy_from_slice(&a[..n.min(2048)]);
        for x in a.iter_mut().skip(n) {
            *x = 0;
        }
        let steps: [&dyn Step; 2] = [&Mul(31), &Xor(17)];
        let h = mix(&BUF[..n], &steps) ^ depth(n as u32 % 64) as u64 ^ CALLS as u64;
        OUT[..8].copy_from_slice(&h.to_be_bytes());
        output(OUT.as_ptr(), 8);
    }
}
