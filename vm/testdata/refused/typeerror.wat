;; Well-formed but invalid: the body leaves an i32 where none is expected.
(module (memory (export "memory") 1) (func (export "run") (i32.const 1)))
