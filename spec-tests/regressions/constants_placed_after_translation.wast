;; Constant slots placed after the single translation pass (translate::place_constants; a
;; guard, not a bug found). Constants are found while translating, numbered provisionally
;; from the top of the slot space, and moved to their slots between the locals and the
;; temporaries at the end, which moves every temporary and call base up. Covers: many
;; constants (the map past 32), a constant seen again after the switch to the map,
;; constants as call arguments and results, multi-value returns, block results and
;; br_table, and calls whose base moves.
(module
  (func $add3 (param i32 i32 i32) (result i32)
    (i32.add (i32.add (local.get 0) (i32.mul (local.get 1) (i32.const 3))) (local.get 2)))
  (func $pair (param i32) (result i32 i64)
    (i32.add (local.get 0) (i32.const 11)) (i64.const 0x1_0000_0001))
  (func (export "many") (result i32) (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.const 13) (i32.const 7932)) (i32.const 15851)) (i32.const 23770)) (i32.const 31689)) (i32.const 39608)) (i32.const 47527)) (i32.const 55446)) (i32.const 63365)) (i32.const 71284)) (i32.const 79203)) (i32.const 87122)) (i32.const 95041)) (i32.const 102960)) (i32.const 110879)) (i32.const 118798)) (i32.const 126717)) (i32.const 134636)) (i32.const 142555)) (i32.const 150474)) (i32.const 158393)) (i32.const 166312)) (i32.const 174231)) (i32.const 182150)) (i32.const 190069)) (i32.const 197988)) (i32.const 205907)) (i32.const 213826)) (i32.const 221745)) (i32.const 229664)) (i32.const 237583)) (i32.const 245502)) (i32.const 253421)) (i32.const 261340)) (i32.const 269259)) (i32.const 277178)) (i32.const 285097)) (i32.const 293016)) (i32.const 300935)) (i32.const 308854)) (i32.const 39608)))
  (func (export "args") (param i32) (result i32) (local i32)
    (local.set 1 (i32.const 1000))
    (i32.add (local.get 1)
      (call $add3 (i32.const 5) (local.get 0) (i32.add (local.get 0) (i32.const 100)))))
  (func (export "multi") (param i32) (result i32 i64 i32)
    (call $pair (i32.add (local.get 0) (i32.const 1)))
    (i32.const 77))
  (func (export "table") (param i32) (result i32)
    (block $c (result i32)
      (block $b (result i32)
        (block $a (result i32)
          (br_table $a $b $c (i32.const 21) (local.get 0)))
        (return (i32.add (i32.const 1000))))
      (return (i32.add (i32.const 2000))))
    (i32.add (i32.const 3000)))
  (func $deep (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 9))
      (else (i32.add (i32.const 2) (call $deep (i32.sub (local.get 0) (i32.const 1)))))))
  (func (export "deep") (param i32) (result i32) (call $deep (local.get 0)))
)
(assert_return (invoke "many") (i32.const 6216948))
(assert_return (invoke "args" (i32.const 0)) (i32.const 1105))
(assert_return (invoke "args" (i32.const 7)) (i32.const 1133))
(assert_return (invoke "args" (i32.const -3)) (i32.const 1093))
(assert_return (invoke "multi" (i32.const 4)) (i32.const 16) (i64.const 0x1_0000_0001) (i32.const 77))
(assert_return (invoke "table" (i32.const 0)) (i32.const 1021))
(assert_return (invoke "table" (i32.const 1)) (i32.const 2021))
(assert_return (invoke "table" (i32.const 2)) (i32.const 3021))
(assert_return (invoke "table" (i32.const 9)) (i32.const 3021))
(assert_return (invoke "deep" (i32.const 50)) (i32.const 109))
