;; The demo module of the README: Collatz step counts, one starting number per agent.
;;
;; `steps(n)` counts the steps from n to 1 (n = 3n + 1 when odd, n / 2 when even), tracking n
;; in i64 so that no start below 2^32 overflows. Agents diverge: neighbouring starts take very
;; different numbers of steps; `steps(0)` and `steps(1)` are 0.
;; `mean(first, count)` averages the steps of `count` starts and writes each count (one byte,
;; saturated) to its output with `swarm.output`.
(module
  (import "swarm" "output" (func $output (param i32 i32)))
  (memory (export "memory") 1)

  (func $steps (export "steps") (param $start i32) (result i32)
    (local $n i64)
    (local $count i32)
    (local.set $n (i64.extend_i32_u (local.get $start)))
    (block $done
      (loop $next
        (br_if $done (i64.le_u (local.get $n) (i64.const 1)))
        (if (i64.eqz (i64.and (local.get $n) (i64.const 1)))
          (then (local.set $n (i64.shr_u (local.get $n) (i64.const 1))))
          (else (local.set $n (i64.add (i64.mul (local.get $n) (i64.const 3)) (i64.const 1)))))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (br $next)))
    (local.get $count))

  (func (export "mean") (param $first i32) (param $count i32) (result f64)
    (local $i i32)
    (local $s i32)
    (local $total i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $s (call $steps (i32.add (local.get $first) (local.get $i))))
        (local.set $total (i64.add (local.get $total) (i64.extend_i32_u (local.get $s))))
        (i32.store8 (local.get $i)
          (select (i32.const 255) (local.get $s) (i32.gt_u (local.get $s) (i32.const 255))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $output (i32.const 0) (local.get $count))
    (f64.div (f64.convert_i64_u (local.get $total)) (f64.convert_i32_u (local.get $count))))

  ;; 1000 / (id mod 7): traps with integer_divide_by_zero for every seventh agent.
  (func (export "ratio") (param $id i32) (result i32)
    (i32.div_u (i32.const 1000) (i32.rem_u (local.get $id) (i32.const 7)))))
