;; Three pages of initial memory: each call pays for restoring two more
;; pages than the minimum. Rebuild: make contracts.
(module
  (memory (export "memory") 3)
  (func (export "run")))
