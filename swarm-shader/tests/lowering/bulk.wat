;; Bulk memory, passive segments, tables of references and 64-bit division: the bulk and
;; div64 groups.
(module
  (memory 1)
  (table $t 4 funcref)
  (data $d "swarm")
  (elem $e func $f $f)
  (func $f)
  (func (export "bulk") (param i64 i64) (result i64)
    (memory.init $d (i32.const 16) (i32.const 0) (i32.const 5))
    (memory.copy (i32.const 32) (i32.const 16) (i32.const 5))
    (memory.fill (i32.const 48) (i32.const 7) (i32.const 8))
    (data.drop $d)
    (table.init $t $e (i32.const 0) (i32.const 0) (i32.const 2))
    (elem.drop $e)
    (drop (table.grow $t (ref.null func) (i32.const 1)))
    (drop (ref.is_null (table.get $t (i32.const 0))))
    (i64.rem_s (i64.div_u (local.get 0) (local.get 1)) (i64.const 3))))
