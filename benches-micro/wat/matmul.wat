;; Dense n x n matrix multiply in f64, C = A * B, row-major in linear memory
;; (A at 0, B at 8n^2, C at 16n^2), repeated `reps` times; returns the sum of
;; all entries of C over all repetitions. Stresses f64 loads, mul/add, stores
;; and the address arithmetic of a triple loop nest.
(module
  (memory (export "mem") 16) ;; 1 MiB: n may be at most 209

  (func $init (param $n i32)
    (local $i i32) (local $j i32) (local $nn8 i32) (local $off i32)
    (local.set $nn8 (i32.mul (i32.mul (local.get $n) (local.get $n)) (i32.const 8)))
    (block $di
      (loop $li
        (br_if $di (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $j (i32.const 0))
        (block $dj
          (loop $lj
            (br_if $dj (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $off
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j))
                       (i32.const 3)))
            ;; A[i][j] = ((i*j + i + 1) mod 17) * 0.25 - 1.0
            (f64.store (local.get $off)
              (f64.sub
                (f64.mul
                  (f64.convert_i32_u
                    (i32.rem_u
                      (i32.add (i32.add (i32.mul (local.get $i) (local.get $j)) (local.get $i))
                               (i32.const 1))
                      (i32.const 17)))
                  (f64.const 0.25))
                (f64.const 1.0)))
            ;; B[i][j] = ((i + 2j) mod 13) * 0.5 + 0.125
            (f64.store (i32.add (local.get $nn8) (local.get $off))
              (f64.add
                (f64.mul
                  (f64.convert_i32_u
                    (i32.rem_u (i32.add (local.get $i) (i32.shl (local.get $j) (i32.const 1)))
                               (i32.const 13)))
                  (f64.const 0.5))
                (f64.const 0.125)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $lj)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $li))))

  ;; C = A * B; returns the sum of C's entries (row by row, in order)
  (func $mul (param $n i32) (result f64)
    (local $i i32) (local $j i32) (local $k i32)
    (local $row8 i32) (local $nn8 i32) (local $b i32) (local $c i32)
    (local $acc f64) (local $total f64)
    (local.set $row8 (i32.shl (local.get $n) (i32.const 3)))
    (local.set $nn8 (i32.mul (local.get $row8) (local.get $n)))
    (local.set $b (local.get $nn8))
    (local.set $c (i32.shl (local.get $nn8) (i32.const 1)))
    (block $di
      (loop $li
        (br_if $di (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $j (i32.const 0))
        (block $dj
          (loop $lj
            (br_if $dj (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $acc (f64.const 0))
            (local.set $k (i32.const 0))
            (block $dk
              (loop $lk
                (br_if $dk (i32.ge_u (local.get $k) (local.get $n)))
                ;; acc += A[i][k] * B[k][j]
                (local.set $acc
                  (f64.add (local.get $acc)
                    (f64.mul
                      (f64.load
                        (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $k))
                                 (i32.const 3)))
                      (f64.load
                        (i32.add (local.get $b)
                          (i32.shl (i32.add (i32.mul (local.get $k) (local.get $n)) (local.get $j))
                                   (i32.const 3)))))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $lk)))
            (f64.store
              (i32.add (local.get $c)
                (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j))
                         (i32.const 3)))
              (local.get $acc))
            (local.set $total (f64.add (local.get $total) (local.get $acc)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $lj)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $li)))
    (local.get $total))

  (func (export "run") (param $n i32) (param $reps i32) (result f64)
    (local $total f64)
    (call $init (local.get $n))
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get $reps)))
        (local.set $total (f64.add (local.get $total) (call $mul (local.get $n))))
        (local.set $reps (i32.sub (local.get $reps) (i32.const 1)))
        (br $again)))
    (local.get $total)))
