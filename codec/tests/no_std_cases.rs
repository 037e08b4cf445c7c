//! Runs the no_std case tables on the host; the same tables run under QEMU
//! (codec/no-std-tests). Every case is also its own `#[test]` (see the
//! `cases!` macro), so a failure is reported by name.

#[macro_use]
mod no_std;

/// The tables the QEMU runner walks are complete: every module has cases,
/// and every case also runs (and passes) when called through its table.
#[test]
fn every_table_entry_runs_and_passes() {
    let mut count = 0;
    for (module, cases) in no_std::ALL {
        assert!(!cases.is_empty(), "module {module} has no no_std cases");
        for (name, case) in cases.iter() {
            assert!(!name.is_empty(), "a case in {module} has no name");
            case();
            count += 1;
        }
    }
    assert!(count >= no_std::ALL.len(), "no cases ran");
}

/// `ALL` is written by hand: a module listed twice would run twice under
/// QEMU and hide a module left out. (Case names within a module are unique
/// by construction: they are functions of that module.)
#[test]
fn modules_are_listed_once() {
    let modules = no_std::ALL.iter().map(|(module, _)| module);
    for (i, module) in modules.clone().enumerate() {
        assert!(
            modules.clone().skip(i + 1).all(|other| other != module),
            "module {module} is listed twice in no_std::ALL"
        );
    }
}
