//! Runs the no_std case tables on the host; the same tables run under QEMU.

#[macro_use]
#[path = "no_std/mod.rs"]
mod no_std;

#[test]
fn every_no_std_case_passes_on_the_host() {
    let mut count = 0;
    for (module, cases) in no_std::ALL {
        for (name, case) in cases.iter() {
            println!("case {module}::{name}");
            case();
            count += 1;
        }
    }
    assert!(count > 0, "no cases ran");
}
