;; A host function imported with the wrong signature: refused at deploy.
(module (import "dualchain" "input_len" (func (result i64)))
  (memory (export "memory") 1) (func (export "run")))
