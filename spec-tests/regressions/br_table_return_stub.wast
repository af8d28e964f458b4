;; Bug (translator): a br_table entry that returns from the function with several results
;; materialised the operand stack while emitting its stub, so the entries emitted after it
;; (here the default, label 0) believed the branch values were already in the label's
;; slots and jumped without copying them. Found by wasm-v2/func.wast:395.
(module
  (func (export "f") (param i32) (result i32 i32)
    (i32.add
      (block (result i32 i32)
        (br_table 0 1 0 (i32.const 50) (i32.const 51) (local.get 0))
        (i32.const 51) (i32.const -3)))
    (i32.const 52)))

(assert_return (invoke "f" (i32.const 0)) (i32.const 101) (i32.const 52))
(assert_return (invoke "f" (i32.const 1)) (i32.const 50) (i32.const 51))
(assert_return (invoke "f" (i32.const 2)) (i32.const 101) (i32.const 52))
(assert_return (invoke "f" (i32.const 3)) (i32.const 101) (i32.const 52))
(assert_return (invoke "f" (i32.const -1)) (i32.const 101) (i32.const 52))

;; The same hazard on br_if: the return path must not change what the fallthrough path
;; believes about where the values are.
(module
  (func (export "g") (param i32) (result i32 i32)
    (local.get 0) (i32.const 5) (br_if 0 (local.get 0))))

(assert_return (invoke "g" (i32.const 0)) (i32.const 0) (i32.const 5))
(assert_return (invoke "g" (i32.const 9)) (i32.const 9) (i32.const 5))
