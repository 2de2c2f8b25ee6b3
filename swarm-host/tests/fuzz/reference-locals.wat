;; Found by `cargo xtask fuzz` (case 8191 on the H200): reference locals started as 0, which is
;; function 0, not null; a call zeroes every local.
(module
  (type $answer (func (result i32)))
  (table 2 funcref)
  (func $seven (type $answer) (i32.const 7))
  (elem (i32.const 0) $seven)
  (func (export "is_null") (result i32 i32) (local funcref externref)
    (ref.is_null (local.get 0))
    (ref.is_null (local.get 1)))
  (func (export "call_local") (result i32) (local i64 funcref)
    (table.set (i32.const 1) (local.get 1))
    (call_indirect (type $answer) (i32.const 1))))
