;; The base token, as the WebAssembly module the VM runs. native.go is its
;; optimistic native twin: the same host calls in the same order, the same
;; results and the same gas. Rebuild token.wasm with `make contracts`.
;;
;; Storage (the token's own keys):
;;   'b' ‖ address (33 bytes)  a balance, 8 bytes big-endian; absent is zero
;;   't'                       the total supply, 8 bytes big-endian
;;
;; Every check that fails aborts before anything is written, except the
;; recipient's overflow, which aborts after the sender's write; an abort
;; discards the call's writes either way.
(module
  (import "dualchain" "input_len" (func $input_len (result i32)))
  (import "dualchain" "input" (func $input (param i32)))
  (import "dualchain" "output" (func $output (param i32 i32)))
  (import "dualchain" "caller" (func $caller (param i32)))
  (import "dualchain" "storage_read" (func $storage_read (param i32 i32 i32 i32) (result i32)))
  (import "dualchain" "storage_write" (func $storage_write (param i32 i32 i32 i32)))
  (import "dualchain" "abort" (func $abort (param i32 i32 i32)))

  (memory (export "memory") 1)

  ;; Memory:
  ;;   64   'b' ‖ caller: the caller's balance key
  ;;   128  'b' ‖ arguments: 'b' ‖ to is a balance key, the amount follows
  ;;   192  a balance, 8 bytes big-endian
  ;;   208  't': the total supply's key
  ;;   256  messages
  (data (i32.const 64) "b")
  (data (i32.const 128) "b")
  (data (i32.const 208) "t")
  (data (i32.const 256) "bad args")
  (data (i32.const 272) "zero amount")
  (data (i32.const 288) "insufficient funds")
  (data (i32.const 320) "overflow")
  (data (i32.const 336) "corrupt balance")

  ;; Status codes abort takes.
  ;;   1 insufficient funds, 2 overflow, 3 bad arguments, 6 aborted

  ;; $bswap reverses the bytes of $x: wasm loads little-endian, balances
  ;; are stored big-endian.
  (func $bswap (param $x i64) (result i64)
    (local.set $x (i64.or
      (i64.and (i64.shr_u (local.get $x) (i64.const 8)) (i64.const 0x00FF00FF00FF00FF))
      (i64.shl (i64.and (local.get $x) (i64.const 0x00FF00FF00FF00FF)) (i64.const 8))))
    (local.set $x (i64.or
      (i64.and (i64.shr_u (local.get $x) (i64.const 16)) (i64.const 0x0000FFFF0000FFFF))
      (i64.shl (i64.and (local.get $x) (i64.const 0x0000FFFF0000FFFF)) (i64.const 16))))
    (i64.rotl (local.get $x) (i64.const 32)))

  ;; $args copies the call's arguments to $ptr; they must be $n bytes.
  (func $args (param $ptr i32) (param $n i32)
    (if (i32.ne (call $input_len) (local.get $n))
      (then (call $abort (i32.const 3) (i32.const 256) (i32.const 8))))
    (call $input (local.get $ptr)))

  ;; $read_balance reads the value under the $len-byte key at $key into 192
  ;; (zero when absent) and returns it as a number.
  (func $read_balance (param $key i32) (param $len i32) (result i64)
    (local $n i32)
    (i64.store (i32.const 192) (i64.const 0))
    (local.set $n (call $storage_read (local.get $key) (local.get $len) (i32.const 192) (i32.const 8)))
    (if (i32.and (i32.ne (local.get $n) (i32.const 0)) (i32.ne (local.get $n) (i32.const 8)))
      (then (call $abort (i32.const 6) (i32.const 336) (i32.const 15))))
    (call $bswap (i64.load (i32.const 192))))

  ;; $write_balance stores $v under the balance key at $key; zero deletes it.
  (func $write_balance (param $key i32) (param $v i64)
    (i64.store (i32.const 192) (call $bswap (local.get $v)))
    (call $storage_write (local.get $key) (i32.const 33) (i32.const 192)
      (select (i32.const 8) (i32.const 0) (i64.ne (local.get $v) (i64.const 0)))))

  ;; transfer(to 32 bytes ‖ amount 8 bytes big-endian) moves amount from the
  ;; caller to `to`.
  (func (export "transfer")
    (local $amount i64) (local $bal i64)
    (call $args (i32.const 129) (i32.const 40))
    (local.set $amount (call $bswap (i64.load (i32.const 161))))
    (if (i64.eqz (local.get $amount))
      (then (call $abort (i32.const 3) (i32.const 272) (i32.const 11))))
    (call $caller (i32.const 65))
    (local.set $bal (call $read_balance (i32.const 64) (i32.const 33)))
    (if (i64.lt_u (local.get $bal) (local.get $amount))
      (then (call $abort (i32.const 1) (i32.const 288) (i32.const 18))))
    (call $write_balance (i32.const 64) (i64.sub (local.get $bal) (local.get $amount)))
    (local.set $bal (call $read_balance (i32.const 128) (i32.const 33)))
    (if (i64.lt_u (i64.add (local.get $bal) (local.get $amount)) (local.get $bal))
      (then (call $abort (i32.const 2) (i32.const 320) (i32.const 8))))
    (call $write_balance (i32.const 128) (i64.add (local.get $bal) (local.get $amount))))

  ;; balance_of(address 32 bytes) returns the balance, 8 bytes big-endian.
  (func (export "balance_of")
    (call $args (i32.const 129) (i32.const 32))
    (drop (call $read_balance (i32.const 128) (i32.const 33)))
    (call $output (i32.const 192) (i32.const 8)))

  ;; total_supply() returns the total supply, 8 bytes big-endian.
  (func (export "total_supply")
    (drop (call $read_balance (i32.const 208) (i32.const 1)))
    (call $output (i32.const 192) (i32.const 8)))
)
