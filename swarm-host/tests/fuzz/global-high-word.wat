;; Found by `cargo xtask fuzz` (case 807), shrunk by wasm-shrink: an i32 global set from a stack
;; slot that last held a 64-bit value kept that value's high word in snapshots.
(module
  (type (;0;) (func))
  (global (;0;) funcref ref.null func)
  (global (;1;) i64 i64.const 0)
  (global (;2;) (mut i64) i64.const 0)
  (global (;3;) (mut i32) i32.const 0)
  (global (;4;) (mut i64) i64.const 0)
  (global (;5;) (mut i32) i32.const 0)
  (global (;6;) (mut i32) i32.const 40)
  (export "" (func 0))
  (export "3" (global 0))
  (export "4" (global 1))
  (export "5" (global 2))
  (export "\02" (global 3))
  (export "7" (global 4))
  (func (;0;) (type 0)
    global.get 6
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 6
    global.set 6
    loop (result f32) ;; label = @1
      i32.const 0
      if ;; label = @2
        unreachable
      end
      global.get 6
      global.set 6
      block (result f32) ;; label = @2
        f32.const 0x1p+0 (;=1;)
        i64.trunc_f32_u
        f64.convert_i64_u
        i64.reinterpret_f64
        global.get 2
        i64.xor
        global.set 2
        f32.const -0x1.d9b96ap+60 (;=-2133464500000000000;)
      end
    end
    i32.reinterpret_f32
    global.get 3
    i32.xor
    global.set 3
  )
)
