;; Fuel check points: loop headers, and bulk or grow instructions whose count is not a constant
;; of at most 128 as wasmtime's translator sees it ("deferred fuel": charged after success,
;; then a check).
(module
  (memory 1 4)
  (table 4 8 funcref)
  (func (param $k i32) (local $n i32) (local $z i32)
    ;; A constant, a large constant, a computed count.
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 128))
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 129))
    (memory.fill (i32.const 0) (i32.const 0) (local.get $k))
    ;; A declared local starts as the constant 0.
    (memory.copy (i32.const 0) (i32.const 0) (local.get $z))
    ;; A join where both edges bring one definition, and one where they bring two.
    (local.set $n (i32.const 24))
    (if (local.get $k) (then (nop)))
    (memory.fill (i32.const 0) (i32.const 0) (local.get $n))
    (if (local.get $k) (then (local.set $n (i32.const 24))) (else (local.set $n (i32.const 24))))
    (memory.fill (i32.const 0) (i32.const 0) (local.get $n))
    ;; A loop hides every local while it is lowered; after it, one it read but never wrote is
    ;; back.
    (local.set $n (i32.const 12))
    (loop $l
      (memory.fill (i32.const 0) (i32.const 0) (local.get $n))
      (br_if $l (local.get $k)))
    (memory.fill (i32.const 0) (i32.const 0) (local.get $n))
    ;; `local.tee` keeps the definition; so does a block reached only by falling through.
    (memory.fill (i32.const 0) (i32.const 0) (local.tee $n (i32.const 9)))
    (memory.fill (i32.const 0) (i32.const 0) (block (result i32) (i32.const 9)))
    ;; Grows and table instructions.
    (drop (memory.grow (i32.const 1)))
    (drop (memory.grow (local.get $k)))
    (drop (table.grow (ref.null func) (i32.const 2)))
    (table.fill (i32.const 0) (ref.null func) (local.get $k))
    ;; An empty loop gets a free `nop` to carry its check.
    (block $b (br_if $b (local.get $k)) (loop $empty)))
)
