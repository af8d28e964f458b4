;; A call's single result goes straight to the slot a following `local.set` names
;; (`Instr::Call { result }`, written by the callee's `Return1` through `Frame::ret`): the
;; copy after the call is saved. It must behave as the call followed by the set:
;; - direct and indirect calls, a `local.tee` (the result also stays on the stack);
;; - the local being set is also an argument of the call;
;; - recursion (each frame's result slot is its caller's);
;; - a call with two results, set into two locals (results still returned from the base);
;; - a function whose returned value is a call's result, inlined into its caller (the
;;   translator then writes that call's result where the caller wants it: "wrap" is
;;   translated before "outer", "inc" after both);
;; - a call that traps (the invocation ends), then the same function again.
(module
  (type $ii (func (param i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $inc $dbl)

  (func (export "direct") (param $x i32) (result i32) (local $a i32) (local $b i32)
    (local.set $a (call $inc (local.get $x)))
    (local.set $b (call $dbl (local.get $a)))
    (i32.add (i32.mul (local.get $a) (i32.const 1000)) (local.get $b)))

  (func (export "indirect") (param $x i32) (param $i i32) (result i32) (local $a i32)
    (local.set $a (call_indirect (type $ii) (local.get $x) (local.get $i)))
    (i32.add (local.get $a) (i32.const 100)))

  (func (export "tee") (param $x i32) (result i32) (local $a i32)
    (i32.add (local.tee $a (call $inc (local.get $x))) (i32.mul (local.get $a) (i32.const 10))))

  (func (export "self-arg") (param $x i32) (result i32)
    (local.set $x (call $dbl (local.get $x)))
    (local.set $x (call $inc (local.get $x)))
    (local.get $x))

  (func $fib (export "fib") (param $n i32) (result i32) (local $a i32) (local $b i32)
    (if (i32.lt_u (local.get $n) (i32.const 2)) (then (return (local.get $n))))
    (local.set $a (call $fib (i32.sub (local.get $n) (i32.const 1))))
    (local.set $b (call $fib (i32.sub (local.get $n) (i32.const 2))))
    (i32.add (local.get $a) (local.get $b)))

  (func (export "pair") (param $x i32) (result i32) (local $a i32) (local $b i32)
    (call $two (local.get $x))
    (local.set $b)
    (local.set $a)
    (i32.sub (local.get $b) (local.get $a)))

  (func $wrap (export "wrap") (param $x i32) (result i32) (call $inc (local.get $x)))
  (func (export "outer") (param $x i32) (result i32) (local $a i32)
    (local.set $a (call $wrap (local.get $x)))
    (i32.mul (local.get $a) (i32.const 3)))

  (func (export "trap-then") (param $x i32) (result i32) (local $a i32)
    (local.set $a (i32.const 7))
    (local.set $a (call $trap (local.get $x)))
    (local.get $a))

  ;; Defined last: the functions above are translated before them (the spec runner
  ;; translates in index order), so their calls stay calls; "direct-inlined" comes after
  ;; and inlines them.
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (func $dbl (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $two (param i32) (result i32 i32) (local.get 0) (i32.add (local.get 0) (i32.const 10)))
  (func $trap (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func (export "direct-inlined") (param $x i32) (result i32) (local $a i32) (local $b i32)
    (local.set $a (call $inc (local.get $x)))
    (local.set $b (call $dbl (local.get $a)))
    (i32.add (i32.mul (local.get $a) (i32.const 1000)) (local.get $b)))
)

(assert_return (invoke "direct" (i32.const 4)) (i32.const 5010))
(assert_return (invoke "indirect" (i32.const 4) (i32.const 0)) (i32.const 105))
(assert_return (invoke "indirect" (i32.const 4) (i32.const 1)) (i32.const 108))
(assert_trap (invoke "indirect" (i32.const 4) (i32.const 2)) "undefined element")
(assert_return (invoke "tee" (i32.const 4)) (i32.const 55))
(assert_return (invoke "self-arg" (i32.const 4)) (i32.const 9))
(assert_return (invoke "fib" (i32.const 20)) (i32.const 6765))
(assert_return (invoke "pair" (i32.const 4)) (i32.const 10))
(assert_return (invoke "wrap" (i32.const 1)) (i32.const 2))
(assert_return (invoke "outer" (i32.const 4)) (i32.const 15))
(assert_trap (invoke "trap-then" (i32.const 0)) "integer divide by zero")
(assert_return (invoke "trap-then" (i32.const 1)) (i32.const 1))
(assert_return (invoke "fib" (i32.const 10)) (i32.const 55))
(assert_return (invoke "direct-inlined" (i32.const 4)) (i32.const 5010))
