;; Modules that try to hurt the node at run time. Each export must fail with
;; a clear receipt and leave the node running. Rebuild: make contracts.
(module
  (import "dualchain" "input_len" (func $input_len (result i32)))
  (import "dualchain" "input" (func $input (param i32)))
  (import "dualchain" "output" (func $output (param i32 i32)))
  (import "dualchain" "storage_write" (func $storage_write (param i32 i32 i32 i32)))
  (import "dualchain" "emit" (func $emit (param i32 i32 i32 i32)))
  (import "dualchain" "abort" (func $abort (param i32 i32 i32)))
  (memory (export "memory") 1 64)
  (global $counter (mut i32) (i32.const 0))

  ;; An infinite loop: gas stops it.
  (func (export "loop") (loop $l (br $l)))

  ;; Grows memory a page at a time to the limit, then returns.
  (func (export "grow_all")
    (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))))

  ;; Asks for 60,000 pages at once: charged before it fails.
  (func (export "grow_huge") (drop (memory.grow (i32.const 60000))))

  ;; Recursion without end: the call stack or gas stops it.
  (func $recurse (export "recurse") (call $recurse))

  (func (export "trap") unreachable)
  (func (export "div_zero") (drop (i32.div_u (i32.const 1) (i32.const 0))))
  (func (export "oob_load") (drop (i32.load (i32.const 0x7ffffff0))))

  ;; Host calls with bad pointers or sizes.
  (func (export "oob_host")
    (call $storage_write (i32.const 0xfffffff0) (i32.const 32) (i32.const 0) (i32.const 1)))
  (func (export "big_key")
    (call $storage_write (i32.const 0) (i32.const 65) (i32.const 0) (i32.const 1)))
  (func (export "big_output") (call $output (i32.const 0) (i32.const 1025)))
  (func (export "emit_many")
    (loop $l
      (call $emit (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0))
      (br $l)))

  ;; Writes, then aborts: the write must not land.
  (func (export "write_then_abort")
    (call $storage_write (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))
    (call $abort (i32.const 6) (i32.const 0) (i32.const 0)))

  ;; Leaves marks in memory and a global; returns what it found there
  ;; first, which a clean start makes zero every time.
  (func (export "dirty")
    (i32.store (i32.const 100) (i32.add (i32.load (i32.const 100)) (global.get $counter)))
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (i32.store (i32.const 104) (global.get $counter))
    (call $output (i32.const 100) (i32.const 8))
    (i32.store (i32.const 100) (i32.const 0xdead)))
)
