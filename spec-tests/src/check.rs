//! Decoding plus validation of one module, with panics caught and turned into values.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use wasmi_py_decode::{Features, Module};

/// Why a module was not accepted.
#[derive(Debug, Clone)]
pub enum Rejection {
    /// Our decoder or validator rejected it (the normal way).
    Error(wasmi_py_decode::Error),
    /// Our decoder or validator panicked: always a bug. The message includes the location.
    Panic(String),
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Error(e) => write!(f, "{e}"),
            Rejection::Panic(p) => write!(f, "PANIC: {p}"),
        }
    }
}

/// Decodes and validates `bytes` with `features`: `Ok` iff wasmi-py accepts the module.
///
/// Never panics: a panic inside the decoder or validator becomes [`Rejection::Panic`].
pub fn check_module(bytes: &[u8], features: Features) -> Result<(), Rejection> {
    match catch_panic(|| {
        let module = Module::decode(bytes, features)?;
        wasmi_py_validate::validate(&module)
    }) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Rejection::Error(e)),
        Err(panic) => Err(Rejection::Panic(panic)),
    }
}

thread_local! {
    /// Set while [`catch_panic`] runs `f`: the hook then records instead of printing.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// The message and location of the last panic caught on this thread.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f`, turning a panic into `Err("message at file:line:col")`.
///
/// Panics inside `f` are not printed (they are reported by the caller); panics anywhere else
/// still go to the previous hook, so bugs in the runner itself stay loud.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) {
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
                    .unwrap_or_default();
                let text = format!("{}{location}", payload_text(info.payload()));
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
            } else {
                previous(info);
            }
        }));
    });

    let was_catching = CATCHING.with(|c| c.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(was_catching));
    result.map_err(|payload| {
        LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| payload_text(&*payload))
    })
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_values_with_location() {
        let err = catch_panic(|| -> u32 { panic!("boom {}", 7) }).unwrap_err();
        assert!(err.starts_with("boom 7 at "), "{err}");
        assert!(err.contains("check.rs"), "{err}");
        assert_eq!(catch_panic(|| 5), Ok(5));
    }

    #[test]
    fn accepts_empty_module_rejects_garbage() {
        assert!(check_module(b"\0asm\x01\0\0\0", Features::mvp()).is_ok());
        match check_module(b"\0asm\x02\0\0\0", Features::mvp()) {
            Err(Rejection::Error(e)) => {
                assert_eq!(e.kind(), wasmi_py_decode::ErrorKind::Malformed)
            }
            other => panic!("{other:?}"),
        }
    }
}
