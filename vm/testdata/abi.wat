;; Every host function, for the ABI tests. Rebuild: make contracts.
(module
  (import "dualchain" "input_len" (func $input_len (result i32)))
  (import "dualchain" "input" (func $input (param i32)))
  (import "dualchain" "output" (func $output (param i32 i32)))
  (import "dualchain" "caller" (func $caller (param i32)))
  (import "dualchain" "address" (func $address (param i32)))
  (import "dualchain" "block_height" (func $block_height (result i64)))
  (import "dualchain" "storage_read" (func $storage_read (param i32 i32 i32 i32) (result i32)))
  (import "dualchain" "storage_write" (func $storage_write (param i32 i32 i32 i32)))
  (import "dualchain" "emit" (func $emit (param i32 i32 i32 i32)))
  (import "dualchain" "abort" (func $abort (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 1024) "stored")

  ;; echo returns its arguments.
  (func (export "echo")
    (call $input (i32.const 0))
    (call $output (i32.const 0) (call $input_len)))

  ;; who returns caller ‖ address ‖ block height (little-endian).
  (func (export "who")
    (call $caller (i32.const 0))
    (call $address (i32.const 32))
    (i64.store (i32.const 64) (call $block_height))
    (call $output (i32.const 0) (i32.const 72)))

  ;; put stores its arguments' second half under their first half, and emits
  ;; "stored" with the key.
  (func (export "put")
    (local $n i32) (local $half i32)
    (local.set $n (call $input_len))
    (local.set $half (i32.shr_u (local.get $n) (i32.const 1)))
    (call $input (i32.const 0))
    (call $storage_write (i32.const 0) (local.get $half) (local.get $half) (i32.sub (local.get $n) (local.get $half)))
    (call $emit (i32.const 1024) (i32.const 6) (i32.const 0) (local.get $half)))

  ;; get returns the value under the key in its arguments, and its length as
  ;; 4 bytes little-endian first.
  (func (export "get")
    (local $n i32)
    (call $input (i32.const 0))
    (local.set $n (call $storage_read (i32.const 0) (call $input_len) (i32.const 2052) (i32.const 2048)))
    (i32.store (i32.const 2048) (local.get $n))
    (call $output (i32.const 2048) (i32.add (i32.const 4) (select (local.get $n) (i32.const 2048) (i32.lt_u (local.get $n) (i32.const 2048))))))

  ;; fail aborts with the code in its first 4 argument bytes (little-endian)
  ;; and the rest as the message.
  (func (export "fail")
    (call $input (i32.const 0))
    (call $abort (i32.load (i32.const 0)) (i32.const 4) (i32.sub (call $input_len) (i32.const 4))))
)
