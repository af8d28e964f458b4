;; A dispatch loop: each iteration advances an LCG and calls one of 8 small
;; functions through a table, picked by the LCG's top 3 bits (an index that
;; changes unpredictably but reproducibly). Stresses call_indirect: the table
;; lookup, the signature check, and the call/return of a tiny callee.
(module
  (type $op (func (param i32 i32) (result i32)))
  (table 8 8 funcref)
  (elem (i32.const 0) $add $sub $xor $mul $rotl $shr_add $shl_or $mul_add)

  (func $add (type $op) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $op) (i32.sub (local.get 0) (local.get 1)))
  (func $xor (type $op) (i32.xor (local.get 0) (local.get 1)))
  (func $mul (type $op) (i32.mul (local.get 0) (i32.or (local.get 1) (i32.const 1))))
  (func $rotl (type $op) (i32.rotl (local.get 0) (local.get 1)))
  (func $shr_add (type $op)
    (i32.add (i32.shr_u (local.get 0) (i32.const 3)) (local.get 1)))
  (func $shl_or (type $op)
    (i32.or (i32.shl (local.get 0) (i32.const 1)) (i32.and (local.get 1) (i32.const 1))))
  (func $mul_add (type $op)
    (i32.add (i32.mul (local.get 0) (i32.const 31)) (local.get 1)))

  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $acc i32) (local $s i32)
    (local.set $acc (i32.const 1))
    (local.set $s (i32.const 0x2545F491))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $next
        (local.set $s
          (i32.add (i32.mul (local.get $s) (i32.const 1103515245)) (i32.const 12345)))
        (local.set $acc
          (call_indirect (type $op)
            (local.get $acc)
            (i32.xor (local.get $s) (local.get $i))
            (i32.shr_u (local.get $s) (i32.const 29))))
        (br_if $next
          (i32.ne
            (local.tee $i (i32.add (local.get $i) (i32.const 1)))
            (local.get $n)))))
    (local.get $acc)))
