;; More initial memory than the limit: refused at deploy.
(module (memory (export "memory") 65) (func (export "run")))
