;; Float arithmetic, comparisons and conversions: the float group.
(module
  (func (export "hyp") (param f64 f64) (result f64)
    (f64.sqrt (f64.add (f64.mul (local.get 0) (local.get 0))
                       (f64.mul (local.get 1) (local.get 1)))))
  (func (export "conv") (param f32) (result i32)
    (i32.add
      (i32.trunc_sat_f32_s (f32.nearest (local.get 0)))
      (f32.lt (f32.neg (local.get 0)) (f32.const 0.5)))))
