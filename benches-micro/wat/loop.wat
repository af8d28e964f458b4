;; A tight counting loop, everything in locals: per iteration one xorshift64 step
;; (i64 shifts and xors), an i32 LCG step mixed with the low half of the xorshift
;; state (mul, add, wrap, rotl), the counter increment and a conditional back edge.
;; Stresses the dispatch of simple ALU instructions and local traffic.
(module
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $x i64) (local $acc i32)
    (local.set $x (i64.const 0x9E3779B97F4A7C15))
    (local.set $acc (i32.const 12345))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $next
        ;; xorshift64 (13, 7, 17)
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
        (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
        ;; acc = rotl(acc * 1664525 + 1013904223 + (i32)x, 5)
        (local.set $acc
          (i32.rotl
            (i32.add
              (i32.add (i32.mul (local.get $acc) (i32.const 1664525)) (i32.const 1013904223))
              (i32.wrap_i64 (local.get $x)))
            (i32.const 5)))
        (br_if $next
          (i32.ne
            (local.tee $i (i32.add (local.get $i) (i32.const 1)))
            (local.get $n)))))
    (i64.xor (local.get $x) (i64.extend_i32_u (local.get $acc)))))
