;; Not a wasmi-py bug: a bug of the reference interpreter the execute_diff fuzz target
;; compares against (wasmi 2.0.0), found by that target (its 2026-11-24 artifact
;; `global-xor-off-by-one-crash-72080a81…`, cut down by hand). A `local.get` left on the
;; stack *below* the parameters of a `block`/`if` is read back as an uninitialised register
;; when the path taken skipped a block nested inside: wasmi preserves the local (copies it
;; to a register) where the nested block starts, so a branch around that point (the `else`
;; arm, a `br_if` out) never made the copy. valgrind flags the read in wasmi; V8 (node 20)
;; and wasmi-py return the local. These pin the semantics for wasmi-py, which keeps
;; `local.get`s lazy on its own stack too.
(module
  (func (export "if-then-block") (param i32 i32) (result i32)
    local.get 0
    f32.const 0
    local.get 1
    if (param f32) (result f32)
      block end
    end
    drop)
  (func (export "if-else-block") (param i32 i32) (result i32)
    local.get 0
    f32.const 0
    local.get 1
    if (param f32) (result f32)
    else
      block end
    end
    drop)
  (func (export "if-then-loop") (param i32 i32) (result i32)
    local.get 0
    f32.const 0
    local.get 1
    if (param f32) (result f32)
      loop end
    else
    end
    drop)
  (func (export "block-br_if-block") (param i32 i32) (result i32)
    local.get 0
    f32.const 0
    block (param f32) (result f32)
      local.get 1
      br_if 0
      block end
    end
    drop)
  ;; The same with a write to the local inside the nested block: the value below the
  ;; parameters is the one read before the write.
  (func (export "if-then-block-set") (param i32 i32) (result i32)
    local.get 0
    f32.const 0
    local.get 1
    if (param f32) (result f32)
      block
        i32.const -1
        local.set 0
      end
    end
    drop)
)
(assert_return (invoke "if-then-block" (i32.const 42) (i32.const 0)) (i32.const 42))
(assert_return (invoke "if-then-block" (i32.const 42) (i32.const 1)) (i32.const 42))
(assert_return (invoke "if-else-block" (i32.const 42) (i32.const 0)) (i32.const 42))
(assert_return (invoke "if-else-block" (i32.const 42) (i32.const 1)) (i32.const 42))
(assert_return (invoke "if-then-loop" (i32.const 42) (i32.const 0)) (i32.const 42))
(assert_return (invoke "if-then-loop" (i32.const 42) (i32.const 1)) (i32.const 42))
(assert_return (invoke "block-br_if-block" (i32.const 42) (i32.const 0)) (i32.const 42))
(assert_return (invoke "block-br_if-block" (i32.const 42) (i32.const 1)) (i32.const 42))
(assert_return (invoke "if-then-block-set" (i32.const 42) (i32.const 0)) (i32.const 42))
(assert_return (invoke "if-then-block-set" (i32.const 42) (i32.const 1)) (i32.const 42))
