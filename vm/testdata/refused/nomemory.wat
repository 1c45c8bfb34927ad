;; No exported memory: refused at deploy.
(module (memory 1) (func (export "run")))
