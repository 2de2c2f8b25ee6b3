;; Direct and indirect calls, recursion, multi-value returns and an imported function.
(module
  (import "env" "log" (func $log (param i32)))
  (type $binary (func (param i32 i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $add $fib)
  (func $add (type $binary) (i32.add (local.get 0) (local.get 1)))
  (func $fib (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else
        (i32.add
          (call $fib (i32.sub (local.get 0) (i32.const 1)))
          (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $pair (result i32 i64) (i32.const 1) (i64.const 2))
  (func (export "main") (param i32) (result i32)
    (call $log (local.get 0))
    (call $pair) (drop) (drop)
    (call_indirect (type $binary) (local.get 0) (i32.const 3) (i32.const 0))))
