//! The execution side of a test file: one store, the `spectest` host module, the
//! instances the file defines (by id and the most recent one), and registered names.

use std::collections::HashMap;

use wasmi_py_core::{
    Config, Engine, Error, ExternRef, Func, FuncType, Global, GlobalType, Inline, Instance, Limits,
    Linker, Memory, MemoryType, Module, RefType, Store, Table, TableType, Trap, Val, ValType,
};
use wasmi_py_decode::Features;
use wast::core::{AbstractHeapType, HeapType, NanPattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};

/// Instances and linking state of one `.wast` file.
pub struct World {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    named: HashMap<String, Instance>,
    current: Option<Instance>,
}

/// Fuel (loop iterations plus calls) for one invocation or start function: the hungriest
/// directive of the suites needs 65,536 (a memory range check loop, measured); a runaway
/// loop spends this in well under a second.
const INVOKE_FUEL: u64 = 50_000_000;

impl World {
    /// A fresh world with the `spectest` module registered.
    pub fn new(features: Features) -> Self {
        let engine = Engine::new(Config {
            features,
            lazy: false,
            // Small enough that infinite recursion exhausts quickly.
            max_call_depth: 20_000,
            max_value_slots: 1 << 22,
            // Every module: the suites and regressions exercise inlining (they run without a
            // code cache).
            inline: Inline::Always,
            // Eager: no code cache, nothing to decode ahead.
            decode_ahead: false,
        });
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new();
        register_spectest(&mut store, &mut linker);
        Self {
            engine,
            store,
            linker,
            named: HashMap::new(),
            current: None,
        }
    }

    /// Compiles and instantiates a module; it becomes the current one (and `id`'s).
    pub fn instantiate(&mut self, bytes: &[u8], id: Option<&str>) -> Result<Instance, Error> {
        let module = Module::new(&self.engine, bytes)?;
        // Every function of every module of the suites (translated eagerly) must come back
        // unchanged through the code cache's encoding: a broken encoding is a bug here,
        // not a property of the module.
        if let Err(e) = module.check_code_cache_round_trip() {
            panic!("code cache round trip: {e}");
        }
        // The start function is metered like an invocation.
        self.store.set_fuel(Some(INVOKE_FUEL));
        let instance = self.linker.instantiate(&mut self.store, &module)?;
        self.current = Some(instance);
        if let Some(id) = id {
            self.named.insert(id.to_owned(), instance);
        }
        Ok(instance)
    }

    /// Makes an instance's exports importable as module `name`.
    pub fn register(&mut self, name: &str, id: Option<&str>) -> Result<(), String> {
        let instance = self.instance(id)?;
        self.linker.instance(&self.store, name, instance);
        Ok(())
    }

    fn instance(&self, id: Option<&str>) -> Result<Instance, String> {
        match id {
            Some(id) => self
                .named
                .get(id)
                .copied()
                .ok_or_else(|| format!("no module named ${id}")),
            None => self
                .current
                .ok_or_else(|| "no module instantiated yet".to_owned()),
        }
    }

    /// Calls an export.
    pub fn invoke(
        &mut self,
        id: Option<&str>,
        name: &str,
        args: &[WastArg<'_>],
    ) -> Result<Result<Vec<Val>, Trap>, String> {
        let instance = self.instance(id)?;
        let func: Func = instance
            .get_func(&self.store, name)
            .ok_or_else(|| format!("no exported function {name:?}"))?;
        let args = args.iter().map(arg).collect::<Result<Vec<_>, _>>()?;
        // Metered, so that an interpreter bug that loops forever fails this directive
        // (with an out-of-fuel trap) instead of hanging the run.
        self.store.set_fuel(Some(INVOKE_FUEL));
        Ok(func.call(&mut self.store, &args))
    }

    /// Reads an exported global.
    pub fn get(&self, id: Option<&str>, name: &str) -> Result<Val, String> {
        let instance = self.instance(id)?;
        let global = instance
            .get_global(&self.store, name)
            .ok_or_else(|| format!("no exported global {name:?}"))?;
        Ok(global.get(&self.store))
    }
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("named", &self.named.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn register_spectest(store: &mut Store<()>, linker: &mut Linker<()>) {
    use ValType::*;
    let funcs: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    for (name, params) in funcs {
        let ty = FuncType::new(params.iter().copied(), []);
        linker.func_new(store, "spectest", name, ty, |_, _, _| Ok(()));
    }
    let globals = [
        ("global_i32", I32, Val::I32(666)),
        ("global_i64", I64, Val::I64(666)),
        ("global_f32", F32, Val::F32(666.6)),
        ("global_f64", F64, Val::F64(666.6)),
    ];
    for (name, content, value) in globals {
        let g = Global::new(
            store,
            GlobalType {
                content,
                mutable: false,
            },
            value,
        );
        linker.define("spectest", name, g);
    }
    let table = Table::new(
        store,
        TableType {
            element: RefType::FuncRef,
            limits: Limits {
                min: 10,
                max: Some(20),
            },
        },
        Val::FuncRef(None),
    );
    linker.define("spectest", "table", table);
    let memory = Memory::new(
        store,
        MemoryType {
            limits: Limits {
                min: 1,
                max: Some(2),
            },
        },
    )
    .expect("a one-page memory");
    linker.define("spectest", "memory", memory);
}

fn arg(a: &WastArg<'_>) -> Result<Val, String> {
    let WastArg::Core(a) = a else {
        return Err("component arguments are not supported".into());
    };
    Ok(match a {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(f32::from_bits(v.bits)),
        WastArgCore::F64(v) => Val::F64(f64::from_bits(v.bits)),
        WastArgCore::RefNull(HeapType::Abstract {
            ty: AbstractHeapType::Func,
            ..
        }) => Val::FuncRef(None),
        WastArgCore::RefNull(HeapType::Abstract {
            ty: AbstractHeapType::Extern,
            ..
        }) => Val::ExternRef(None),
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(ExternRef(*n))),
        other => return Err(format!("unsupported argument {other:?}")),
    })
}

/// Checks one result against its expectation.
pub fn matches(actual: &Val, expected: &WastRet<'_>) -> Result<bool, String> {
    let WastRet::Core(expected) = expected else {
        return Err("component results are not supported".into());
    };
    Ok(matches_core(actual, expected))
}

fn matches_core(actual: &Val, expected: &WastRetCore<'_>) -> bool {
    match (actual, expected) {
        (Val::I32(a), WastRetCore::I32(e)) => a == e,
        (Val::I64(a), WastRetCore::I64(e)) => a == e,
        (Val::F32(a), WastRetCore::F32(p)) => {
            let bits = a.to_bits();
            match p {
                NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
                NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
                NanPattern::Value(v) => bits == v.bits,
            }
        }
        (Val::F64(a), WastRetCore::F64(p)) => {
            let bits = a.to_bits();
            match p {
                NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
                NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
                NanPattern::Value(v) => bits == v.bits,
            }
        }
        (Val::FuncRef(f), WastRetCore::RefNull(_)) => f.is_none(),
        (Val::ExternRef(r), WastRetCore::RefNull(_)) => r.is_none(),
        (Val::FuncRef(f), WastRetCore::RefFunc(_)) => f.is_some(),
        (Val::ExternRef(r), WastRetCore::RefExtern(e)) => match (r, e) {
            (Some(r), Some(e)) => r.0 == *e,
            (Some(_), None) => true,
            (None, _) => false,
        },
        (v, WastRetCore::Either(options)) => options.iter().any(|o| matches_core(v, o)),
        _ => false,
    }
}
