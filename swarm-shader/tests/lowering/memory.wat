;; Loads and stores of every width, memory.size and memory.grow, globals and select.
(module
  (memory 1 2)
  (global $g (mut i64) (i64.const 7))
  (func (export "rw") (param $p i32) (result i64)
    (i32.store8 offset=1 (local.get $p) (i32.const 255))
    (i32.store16 (local.get $p) (i32.load8_s offset=1 (local.get $p)))
    (i64.store32 offset=8 (local.get $p) (i64.load16_u (local.get $p)))
    (global.set $g (i64.add (global.get $g) (i64.load offset=8 (local.get $p))))
    (drop (memory.grow (i32.const 1)))
    (select (global.get $g) (i64.extend_i32_u (memory.size)) (local.get $p))))
