;; Sieve of Eratosthenes over n bytes of linear memory (one byte per number),
;; repeated `reps` times; returns the sum of the prime counts of all repetitions.
;; Stresses byte loads and stores (i32.load8_u / i32.store8) with bounds checks,
;; in strided (marking) and sequential (fill, count) patterns over 4 MiB.
(module
  (memory (export "mem") 64) ;; 64 pages = 4 MiB: n may be at most 4194304

  (func $sieve (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $count i32)
    ;; mark every number as a prime candidate
    (block $done
      (loop $fill
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (local.get $i) (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fill)))
    (i32.store8 (i32.const 0) (i32.const 0))
    (i32.store8 (i32.const 1) (i32.const 0))
    ;; cross out the multiples of every prime i with i * i < n
    (local.set $i (i32.const 2))
    (block $done
      (loop $outer
        (br_if $done (i32.ge_u (i32.mul (local.get $i) (local.get $i)) (local.get $n)))
        (if (i32.load8_u (local.get $i))
          (then
            (local.set $j (i32.mul (local.get $i) (local.get $i)))
            (block $inner_done
              (loop $inner
                (br_if $inner_done (i32.ge_u (local.get $j) (local.get $n)))
                (i32.store8 (local.get $j) (i32.const 0))
                (local.set $j (i32.add (local.get $j) (local.get $i)))
                (br $inner)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    ;; count what is left
    (local.set $i (i32.const 0))
    (block $done
      (loop $count
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $count (i32.add (local.get $count) (i32.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $count)))
    (local.get $count))

  (func (export "run") (param $n i32) (param $reps i32) (result i32)
    (local $total i32)
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get $reps)))
        (local.set $total (i32.add (local.get $total) (call $sieve (local.get $n))))
        (local.set $reps (i32.sub (local.get $reps) (i32.const 1)))
        (br $again)))
    (local.get $total)))
