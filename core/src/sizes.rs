//! The house's sizes, checked: no source file over [`MAX_FILE_LINES`] lines and no
//! function over [`MAX_FN_LINES`] (from `fn` to its closing brace, tests included), in
//! the core and in the app (its `cli/` and `gui/`). A long function is read in pieces,
//! with names.

use std::path::Path;

use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::layers::{manifest_dir, sources};

pub const MAX_FILE_LINES: usize = 800;
pub const MAX_FN_LINES: usize = 80;

/// Every function's name and length in lines.
struct Functions(Vec<(String, usize)>);

impl Functions {
    fn add(&mut self, name: &syn::Ident, first: proc_macro2::Span, block: &syn::Block) {
        let lines = block.span().end().line + 1 - first.start().line;
        self.0.push((name.to_string(), lines));
    }
}

impl<'ast> Visit<'ast> for Functions {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.add(&item.sig.ident, item.sig.fn_token.span, &item.block);
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.add(&item.sig.ident, item.sig.fn_token.span, &item.block);
        syn::visit::visit_impl_item_fn(self, item);
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if let Some(block) = &item.default {
            self.add(&item.sig.ident, item.sig.fn_token.span, block);
        }
        syn::visit::visit_trait_item_fn(self, item);
    }
}

/// What is too long in `files` (path relative to `src/`, text), one line each.
pub fn too_long(files: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (file, text) in files {
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES {
            found.push(format!("{file}: {lines} lines (at most {MAX_FILE_LINES})"));
        }
        let parsed = syn::parse_file(text).unwrap_or_else(|e| panic!("parse {file}: {e}"));
        let mut functions = Functions(Vec::new());
        functions.visit_file(&parsed);
        for (name, lines) in functions.0 {
            if lines > MAX_FN_LINES {
                found.push(format!(
                    "{file}: fn {name} is {lines} lines (at most {MAX_FN_LINES})"
                ));
            }
        }
    }
    found
}

fn check_folder(folder: &Path) {
    let files = sources(folder);
    assert!(files.len() > 10, "no sources found in {folder:?}");
    let found = too_long(&files);
    assert!(found.is_empty(), "in {folder:?}:\n{}", found.join("\n"));
}

#[test]
fn no_file_or_function_is_too_long_in_the_core_or_the_app() {
    let core = manifest_dir();
    check_folder(&core.join("src"));
    check_folder(&core.join("../src"));
}

#[test]
fn a_long_function_or_file_is_caught_wherever_it_is() {
    let body = |lines: usize| "    let x = 1;\n".repeat(lines - 2);
    let fine = format!("fn short() {{\n{}}}\n", body(MAX_FN_LINES));
    let long = format!("fn long() {{\n{}}}\n", body(MAX_FN_LINES + 1));
    let method = format!(
        "struct S;\nimpl S {{\n    fn long() {{\n{}    }}\n}}\n",
        body(81)
    );
    let nested = format!("mod tests {{\n    fn long() {{\n{}    }}\n}}\n", body(81));
    let file = |text: &str| vec![("a.rs".to_string(), text.to_string())];
    assert_eq!(too_long(&file(&fine)), Vec::<String>::new());
    for text in [&long, &method, &nested] {
        let found = too_long(&file(text));
        assert_eq!(found, ["a.rs: fn long is 81 lines (at most 80)"], "{text}");
    }
    let big = "const A: u8 = 0;\n".repeat(MAX_FILE_LINES + 1);
    assert_eq!(too_long(&file(&big)).len(), 1);
}
