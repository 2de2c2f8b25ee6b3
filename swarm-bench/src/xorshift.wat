;; The xorshift loop of the calibration runs: 29 instructions per iteration, i32 only.
(module
  (func (export "xorshift") (param $seed i32) (param $n i32) (result i32)
    (local $x i32) (local $acc i32)
    (local.set $x (i32.or (local.get $seed) (i32.const 1)))
    (loop $l
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
      (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
      (local.set $acc (i32.add (local.get $acc) (local.get $x)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.ne (local.get $n) (i32.const 0))))
    (local.get $acc)))
