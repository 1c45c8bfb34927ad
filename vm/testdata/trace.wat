;; Nested calls for memory traces (vm/trace_test.go counts every frame's
;; figures from this source: change one, change both). No function body
;; has a branch, so each body is one metered block charged on entry: its
;; instruction count. Rebuild: make contracts.
(module
  (import "dualchain" "input_len" (func $input_len (result i32)))
  (memory (export "memory") 1 4)

  ;; Depth 0: a store, $middle, a load. 7 instructions.
  (func (export "run")
    i32.const 0  i32.const 7  i32.store
    call $middle
    i32.const 0  i32.load  drop)

  ;; func[2]: a host call (20 gas), "leaf", a load and a store.
  ;; 7 instructions.
  (func $middle
    call $input_len  drop
    call $leaf
    i32.const 4  i32.const 0  i32.load  i32.store)

  ;; Grows a page (2,000 gas) and fills 64 bytes (2 gas): a store.
  ;; 7 instructions.
  (func $leaf (export "leaf")
    i32.const 1  memory.grow  drop
    i32.const 0  i32.const 0  i32.const 64  memory.fill)

  ;; Depth 0: $middle, then $deep, which traps two frames down.
  ;; 2 instructions.
  (func (export "trap")
    call $middle
    call $deep)

  ;; func[5]: a load, then $boom. 4 instructions.
  (func $deep
    i32.const 8  i32.load  drop
    call $boom)

  ;; func[6]: a store, then unreachable. 4 instructions.
  (func $boom
    i32.const 8  i32.const 1  i32.store
    unreachable)

  ;; 2,000 calls of $tiny: more frames than a trace keeps.
  ;; Entry: 3 instructions (the loop's included) and 1 local; 6 a turn.
  (func (export "many") (local $i i32)
    i32.const 2000  local.set $i
    (loop $l
      call $tiny
      local.get $i  i32.const 1  i32.sub  local.tee $i  br_if $l))

  ;; func[8]: 1 instruction.
  (func $tiny nop)

  ;; Asks for more pages than the maximum: charged, not grown.
  ;; 3 instructions.
  (func (export "grow_past_max")
    i32.const 10  memory.grow  drop))
