;; Floating point: refused at deploy.
(module (memory (export "memory") 1)
  (func (export "run") (drop (f64.add (f64.const 1) (f64.const 2)))))
