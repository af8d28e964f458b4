//! Instantiation: creating an instance's entities from a module and its resolved imports,
//! then applying element and data segments and running the start function (in the order
//! of the WebAssembly 2.0 spec: element segments, then data segments, then start; a trap
//! in a segment leaves the effects of the earlier ones in place).

use std::collections::HashMap;
use std::sync::Arc;

use wasmi_py_decode::{DataMode, ElementItems, ElementMode, ExternKind};

use crate::memory::LinearMemory;
use crate::store::{
    eval_const, DataEntity, Error, Extern, Func, FuncKind, GlobalEntity, Instance, InstanceEntity,
    Module, Store, TableEntity,
};
use crate::trap::{Trap, TrapCode};

pub(crate) fn instantiate<T>(
    store: &mut Store<T>,
    module: &Module,
    imports: &[Extern],
) -> Result<Instance, Error> {
    let inner = Arc::clone(&module.inner);
    let m = &inner.module;
    let s = &mut store.inner;
    let instance_id = s.instances.len() as u32;

    let type_ids: Box<[u32]> = m.types.iter().map(|t| s.intern_type(t)).collect();

    let mut funcs = Vec::with_capacity(m.functions.len());
    let mut tables = Vec::with_capacity(m.tables.len());
    let mut memories = Vec::with_capacity(m.memories.len());
    let mut globals = Vec::with_capacity(m.globals.len());
    for item in imports {
        match *item {
            Extern::Func(f) => funcs.push(f.0),
            Extern::Table(t) => tables.push(t.0),
            Extern::Memory(mem) => memories.push(mem.0),
            Extern::Global(g) => globals.push(g.0),
        }
    }
    for (i, &ty) in m.functions[m.num_imported_functions as usize..]
        .iter()
        .enumerate()
    {
        let kind = FuncKind::Wasm {
            instance: instance_id,
            defined: i as u32,
        };
        funcs.push(s.add_func(kind, type_ids[ty as usize]));
    }
    for ty in &m.tables[m.num_imported_tables as usize..] {
        s.tables.push(TableEntity {
            elems: vec![0; ty.limits.min as usize],
            ty: *ty,
        });
        tables.push((s.tables.len() - 1) as u32);
    }
    for ty in &m.memories[m.num_imported_memories as usize..] {
        let mem = LinearMemory::new(ty.limits.min, ty.limits.max).map_err(Error::Resource)?;
        s.memories.push(mem);
        memories.push((s.memories.len() - 1) as u32);
    }
    for (i, init) in m.global_inits.iter().enumerate() {
        let ty = m.globals[m.num_imported_globals as usize + i];
        let value = eval_const(s, m, init, &globals, &funcs);
        s.globals.push(GlobalEntity { value, ty });
        globals.push((s.globals.len() - 1) as u32);
    }

    // Element segments: evaluate every item now (funcref values).
    let mut elems = Vec::with_capacity(m.elements.len());
    for seg in &m.elements {
        let items: Box<[u64]> = match &seg.items {
            ElementItems::Functions(indices) => indices
                .iter()
                .map(|&f| u64::from(funcs[f as usize]) + 1)
                .collect(),
            ElementItems::Exprs(exprs) => exprs
                .iter()
                .map(|e| eval_const(s, m, e, &globals, &funcs))
                .collect(),
        };
        s.elems.push(items);
        elems.push((s.elems.len() - 1) as u32);
    }
    let mut datas = Vec::with_capacity(m.data.len());
    for seg in &m.data {
        s.datas.push(DataEntity {
            bytes: Arc::clone(m.shared_bytes()),
            range: seg.data.clone(),
        });
        datas.push((s.datas.len() - 1) as u32);
    }

    let mut exports = HashMap::with_capacity(m.exports.len());
    for e in &m.exports {
        let i = e.index as usize;
        let item = match e.kind {
            ExternKind::Func => Extern::Func(Func(funcs[i])),
            ExternKind::Table => Extern::Table(crate::store::Table(tables[i])),
            ExternKind::Memory => Extern::Memory(crate::store::Memory(memories[i])),
            ExternKind::Global => Extern::Global(crate::store::Global(globals[i])),
        };
        exports.insert(e.name.clone(), item);
    }

    s.instances.push(InstanceEntity {
        module: Arc::clone(&inner),
        funcs: funcs.into_boxed_slice(),
        tables: tables.into_boxed_slice(),
        memories: memories.into_boxed_slice(),
        globals: globals.into_boxed_slice(),
        elems: elems.into_boxed_slice(),
        datas: datas.into_boxed_slice(),
        type_ids,
        exports,
    });
    let instance = Instance(instance_id);

    // Active element segments, then drop active and declarative ones.
    for (i, seg) in m.elements.iter().enumerate() {
        let inst = &s.instances[instance_id as usize];
        let elem_id = inst.elems[i] as usize;
        match &seg.mode {
            ElementMode::Active { table, offset } => {
                let table_id = inst.tables[*table as usize] as usize;
                let offset = eval_const(s, m, offset, &inst.globals, &inst.funcs) as u32 as usize;
                let items = std::mem::take(&mut s.elems[elem_id]);
                let t = &mut s.tables[table_id].elems;
                let dst = offset
                    .checked_add(items.len())
                    .and_then(|end| t.get_mut(offset..end))
                    .ok_or(Error::Trap(Trap::new(TrapCode::TableOutOfBounds)))?;
                dst.copy_from_slice(&items);
            }
            ElementMode::Declarative => s.elems[elem_id] = Box::new([]),
            ElementMode::Passive => {}
        }
    }
    // Active data segments, then drop them.
    for (i, seg) in m.data.iter().enumerate() {
        let inst = &s.instances[instance_id as usize];
        let data_id = inst.datas[i] as usize;
        if let DataMode::Active { memory, offset } = &seg.mode {
            let mem_id = inst.memories[*memory as usize] as usize;
            let offset = eval_const(s, m, offset, &inst.globals, &inst.funcs) as u32 as usize;
            let bytes = m.data_bytes(seg);
            s.memories[mem_id].populate(offset, bytes.len());
            let mem = s.memories[mem_id].data_mut();
            let dst = offset
                .checked_add(bytes.len())
                .and_then(|end| mem.get_mut(offset..end))
                .ok_or(Error::Trap(Trap::new(TrapCode::MemoryOutOfBounds)))?;
            dst.copy_from_slice(bytes);
            s.datas[data_id].range = 0..0;
        }
    }
    if let Some((start, _)) = m.start {
        let f = Func(s.instances[instance_id as usize].funcs[start as usize]);
        f.call(store, &[])?;
    }
    Ok(instance)
}
