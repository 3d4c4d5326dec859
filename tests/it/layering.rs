//! The module layering the design promises, checked on the source: no import cycles
//! between the error type and the operations, or between operations that call each
//! other, and a pure model.

use std::path::Path;

fn source(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// The crate paths a file names (`crate::x::y`, `super::x`), comments left out.
fn names(rel: &str) -> Vec<String> {
    source(rel)
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .flat_map(|l| {
            l.match_indices("crate::")
                .chain(l.match_indices("super::"))
                .map(|(i, _)| {
                    l[i..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                        .collect::<String>()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn there_are_no_import_cycles_and_the_model_is_pure() {
    let error = names("src/error.rs");
    assert!(
        !error.iter().any(|n| n.starts_with("crate::ops")),
        "error.rs depends on ops, which depends on error.rs: {error:?}"
    );
    let template = names("src/ops/template.rs");
    assert!(
        !template.iter().any(|n| n.starts_with("super::lifecycle")),
        "ops/template.rs depends on ops/lifecycle.rs, which renders templates: {template:?}"
    );
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/model")).unwrap()
    {
        let file = format!("src/model/{}", entry.unwrap().file_name().to_string_lossy());
        for n in names(&file) {
            for outer in ["crate::ops", "crate::store", "crate::cli", "crate::render"] {
                assert!(!n.starts_with(outer), "{file} names {n}: the model is pure");
            }
        }
    }
}
