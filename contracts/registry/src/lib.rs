//! registry: dualchain's name-registry contract, written against
//! docs/contract-abi.md. A name is 1 to 32 bytes of `[a-z0-9-]`; whoever
//! registers a free name owns it, and only its owner can transfer or
//! release it. It has no native twin: it runs only in the VM.
//!
//! Storage: `n` ‖ name → the owner's 32-byte address; `c` → the number of
//! registered names, 8 bytes big-endian (absent means 0).
//!
//! Nothing here may panic: every index is a `get` and every sum is checked,
//! so the module carries no panic machinery, no formatting and no paths.
//! Every buffer lives on the small shadow stack; the module has no heap.
#![no_std]

use core::panic::PanicInfo;

/// The node's host functions (docs/contract-abi.md, "Host functions").
mod host {
    #[link(wasm_import_module = "dualchain")]
    extern "C" {
        pub fn input_len() -> i32;
        pub fn input(ptr: *mut u8);
        pub fn output(ptr: *const u8, len: i32);
        pub fn caller(ptr: *mut u8);
        pub fn storage_read(key_ptr: *const u8, key_len: i32, val_ptr: *mut u8, val_cap: i32)
            -> i32;
        pub fn storage_write(key_ptr: *const u8, key_len: i32, val_ptr: *const u8, val_len: i32);
        pub fn emit(name_ptr: *const u8, name_len: i32, data_ptr: *const u8, data_len: i32);
        pub fn abort(code: i32, msg_ptr: *const u8, msg_len: i32) -> !;
    }
}

/// Receipt statuses for `abort` (docs/contract-abi.md).
const OVERFLOW: i32 = 2;
const BAD_ARGS: i32 = 3;
const ABORTED: i32 = 6;

const ADDR_LEN: usize = 32;
const NAME_MAX: usize = 32;
/// The longest argument string any function takes: transfer's owner ‖ name.
const ARGS_MAX: usize = ADDR_LEN + NAME_MAX;
const COUNT_KEY: &[u8] = b"c";

type Address = [u8; ADDR_LEN];

/// fail ends the call with a receipt status and a message.
fn fail(code: i32, msg: &[u8]) -> ! {
    unsafe { host::abort(code, msg.as_ptr(), msg.len() as i32) }
}

/// must unwraps a value whose absence would be a bug in this contract.
fn must<T>(v: Option<T>) -> T {
    match v {
        Some(v) => v,
        None => fail(ABORTED, b"registry: internal error"),
    }
}

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    fail(ABORTED, b"registry: panic")
}

/// Args holds the call's arguments, at most ARGS_MAX bytes.
struct Args {
    buf: [u8; ARGS_MAX],
    len: usize,
}

impl Args {
    /// read copies the call's arguments, refusing more than ARGS_MAX bytes
    /// before anything is copied.
    fn read() -> Args {
        let n = unsafe { host::input_len() };
        if n < 0 || n as usize > ARGS_MAX {
            fail(BAD_ARGS, b"bad args: too long");
        }
        let mut a = Args { buf: [0; ARGS_MAX], len: n as usize };
        unsafe { host::input(a.buf.as_mut_ptr()) };
        a
    }

    fn bytes(&self) -> &[u8] {
        must(self.buf.get(..self.len))
    }
}

/// Name is a valid name held as its storage key, `n` ‖ name.
struct Name {
    key: [u8; 1 + NAME_MAX],
    len: usize,
}

impl Name {
    /// parse checks b is 1 to NAME_MAX bytes of [a-z0-9-].
    fn parse(b: &[u8]) -> Name {
        if b.is_empty() || b.len() > NAME_MAX {
            fail(BAD_ARGS, b"bad name: want 1 to 32 bytes");
        }
        let mut n = Name { key: [0; 1 + NAME_MAX], len: b.len() };
        n.key[0] = b'n';
        for (dst, &c) in n.key.iter_mut().skip(1).zip(b) {
            if !matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'-') {
                fail(BAD_ARGS, b"bad name: want only a-z, 0-9 and -");
            }
            *dst = c;
        }
        n
    }

    fn key(&self) -> &[u8] {
        must(self.key.get(..1 + self.len))
    }

    fn name(&self) -> &[u8] {
        must(self.key.get(1..1 + self.len))
    }

    /// owner returns the name's owner, or None when the name is free.
    fn owner(&self) -> Option<Address> {
        let mut v: Address = [0; ADDR_LEN];
        let k = self.key();
        let n = unsafe {
            host::storage_read(k.as_ptr(), k.len() as i32, v.as_mut_ptr(), ADDR_LEN as i32)
        };
        if n == 0 {
            None
        } else {
            Some(v)
        }
    }

    /// require_owner fails the call unless the caller owns the name.
    fn require_owner(&self) {
        let owner = match self.owner() {
            Some(o) => o,
            None => fail(ABORTED, b"not registered"),
        };
        if owner != caller() {
            fail(ABORTED, b"not the owner");
        }
    }

    fn set_owner(&self, owner: &[u8]) {
        write(self.key(), owner);
    }
}

fn caller() -> Address {
    let mut a: Address = [0; ADDR_LEN];
    unsafe { host::caller(a.as_mut_ptr()) };
    a
}

/// write sets a storage key; an empty value deletes it.
fn write(key: &[u8], val: &[u8]) {
    unsafe { host::storage_write(key.as_ptr(), key.len() as i32, val.as_ptr(), val.len() as i32) }
}

fn emit(name: &[u8], data: &[u8]) {
    unsafe { host::emit(name.as_ptr(), name.len() as i32, data.as_ptr(), data.len() as i32) }
}

fn output(b: &[u8]) {
    unsafe { host::output(b.as_ptr(), b.len() as i32) }
}

fn stored_count() -> u64 {
    let mut v = [0u8; 8];
    unsafe { host::storage_read(COUNT_KEY.as_ptr(), COUNT_KEY.len() as i32, v.as_mut_ptr(), 8) };
    u64::from_be_bytes(v)
}

/// set_count stores the count; 0 deletes the key, as absent means 0.
fn set_count(c: u64) {
    if c == 0 {
        write(COUNT_KEY, &[]);
    } else {
        write(COUNT_KEY, &c.to_be_bytes());
    }
}

/// register: args = name. The caller becomes its owner.
#[no_mangle]
pub extern "C" fn register() {
    let args = Args::read();
    let name = Name::parse(args.bytes());
    if name.owner().is_some() {
        fail(ABORTED, b"name taken");
    }
    name.set_owner(&caller());
    match stored_count().checked_add(1) {
        Some(c) => set_count(c),
        None => fail(OVERFLOW, b"count overflow"),
    }
    emit(b"registered", name.name());
}

/// transfer: args = new owner (32 bytes) ‖ name. Only the owner.
#[no_mangle]
pub extern "C" fn transfer() {
    let args = Args::read();
    let b = args.bytes();
    let (to, rest) = match (b.get(..ADDR_LEN), b.get(ADDR_LEN..)) {
        (Some(to), Some(rest)) => (to, rest),
        _ => fail(BAD_ARGS, b"bad args: want new owner (32 bytes) and name"),
    };
    let name = Name::parse(rest);
    name.require_owner();
    name.set_owner(to);
    emit(b"transferred", b);
}

/// release: args = name. Only the owner; the name becomes free.
#[no_mangle]
pub extern "C" fn release() {
    let args = Args::read();
    let name = Name::parse(args.bytes());
    name.require_owner();
    write(name.key(), &[]);
    match stored_count().checked_sub(1) {
        Some(c) => set_count(c),
        None => fail(ABORTED, b"registry: internal error"),
    }
    emit(b"released", name.name());
}

/// resolve: args = name; result = its owner's 32-byte address.
#[no_mangle]
pub extern "C" fn resolve() {
    let args = Args::read();
    let name = Name::parse(args.bytes());
    match name.owner() {
        Some(owner) => output(&owner),
        None => fail(ABORTED, b"not registered"),
    }
}

/// count: result = the number of registered names, 8 bytes big-endian.
#[no_mangle]
pub extern "C" fn count() {
    output(&stored_count().to_be_bytes());
}
