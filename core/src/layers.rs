//! The core's layering, checked: every path a module names (`use` trees, paths in code,
//! paths inside macro calls) that leads to another part of the crate must point down the
//! pipeline (`support` → `read` → `describe` → `index` → `find` → `cleanup`), and the
//! parts of one stage must not name each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// The stages, lowest first. `fuzz` (the fuzz targets' entry points, which read every
/// stage's parsers), this test and the crate root (re-exports) sit above all of them.
const STAGES: [&str; 9] = [
    "support", "read", "describe", "index", "find", "cleanup", "fuzz", "layers", "sizes",
];

/// Where one named path leads: the first two module names below the crate root.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Unit {
    stage: String,
    part: Option<String>,
}

/// One arrow that breaks the rules, for the failure message.
#[derive(Debug, PartialEq, Eq)]
pub struct Violation {
    pub file: String,
    pub path: String,
    pub why: String,
}

fn stage_rank(stage: &str) -> usize {
    STAGES
        .iter()
        .position(|s| *s == stage)
        .unwrap_or(STAGES.len())
}

/// The module path of a source file given relative to `src/`.
fn module_of(file: &str) -> Vec<String> {
    let file = file.strip_suffix(".rs").unwrap_or(file);
    let mut parts: Vec<String> = file.split('/').map(str::to_owned).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// Collects every path a file names, resolved to absolute module paths.
struct Paths {
    module: Vec<String>,
    found: Vec<Vec<String>>,
}

impl Paths {
    fn resolve(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let absolute: Vec<String> = match first.as_str() {
            "crate" => segments[1..].to_vec(),
            "super" | "self" => {
                let mut base = self.module.clone();
                let mut rest = segments;
                while let Some(head) = rest.first() {
                    match head.as_str() {
                        "super" => {
                            base.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                base
            }
            _ => return,
        };
        self.found.push(absolute);
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                let whole = prefix.clone();
                self.resolve(&whole);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                let whole = prefix.clone();
                self.resolve(&whole);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => {
                let whole = prefix.clone();
                self.resolve(&whole);
            }
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    /// `crate::a::b` and `super::a` inside a macro call's tokens (`format!`, `matches!`).
    fn tokens(&mut self, tokens: TokenStream) {
        let flat: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tree) in flat.iter().enumerate() {
            match tree {
                TokenTree::Group(group) => self.tokens(group.stream()),
                TokenTree::Ident(ident) if ident == "crate" || ident == "super" => {
                    let mut segments = vec![ident.to_string()];
                    let mut j = i + 1;
                    while let (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) =
                        (flat.get(j), flat.get(j + 1))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        match flat.get(j + 2) {
                            Some(TokenTree::Ident(next)) => segments.push(next.to_string()),
                            _ => break,
                        }
                        j += 3;
                    }
                    if segments.len() > 1 {
                        self.resolve(&segments);
                    }
                }
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.resolve(&segments);
        syn::visit::visit_path(self, path);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.module.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.module.pop();
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

fn unit_of(module: &[String]) -> Option<Unit> {
    let stage = module.first()?.clone();
    Some(Unit {
        stage,
        part: module.get(1).cloned(),
    })
}

/// Checks `files` (path relative to `src/`, source text): arrows up the pipeline and
/// circles between the parts of one stage. A file that does not parse is a violation.
pub fn check(files: &[(String, String)]) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut parts_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, _) in files {
        let module = module_of(file);
        if let [stage, part, ..] = module.as_slice() {
            parts_of
                .entry(stage.clone())
                .or_default()
                .insert(part.clone());
        }
    }
    let mut arrows: BTreeMap<Unit, BTreeMap<Unit, (String, String)>> = BTreeMap::new();
    for (file, source) in files {
        let syntax = match syn::parse_file(source) {
            Ok(syntax) => syntax,
            Err(e) => {
                violations.push(Violation {
                    file: file.clone(),
                    path: String::new(),
                    why: format!("does not parse: {e}"),
                });
                continue;
            }
        };
        let module = module_of(file);
        let mut paths = Paths {
            module: module.clone(),
            found: Vec::new(),
        };
        paths.visit_file(&syntax);
        let Some(from) = unit_of(&module) else {
            continue; // the crate root re-exports every stage
        };
        for target in paths.found {
            let Some(mut to) = unit_of(&target) else {
                continue;
            };
            // `crate::read::Damage`: an item its stage re-exports counts as the stage root.
            if let Some(part) = &to.part
                && !parts_of
                    .get(&to.stage)
                    .is_some_and(|parts| parts.contains(part))
            {
                to.part = None;
            }
            let shown = target.join("::");
            if stage_rank(&to.stage) > stage_rank(&from.stage) {
                violations.push(Violation {
                    file: file.clone(),
                    path: shown,
                    why: format!(
                        "`{}` comes before `{}` in the pipeline",
                        from.stage, to.stage
                    ),
                });
            } else if to.stage == from.stage && to.part.is_some() && to != from {
                arrows
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_insert((file.clone(), shown));
            }
        }
    }
    violations.extend(circles(&arrows));
    violations
}

/// Every arrow between two parts of one stage that lies on a circle.
fn circles(arrows: &BTreeMap<Unit, BTreeMap<Unit, (String, String)>>) -> Vec<Violation> {
    let reaches = |from: &Unit, goal: &Unit| -> bool {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(unit) = todo.pop() {
            if &unit == goal {
                return true;
            }
            if seen.insert(unit.clone())
                && let Some(next) = arrows.get(&unit)
            {
                todo.extend(next.keys().cloned());
            }
        }
        false
    };
    let mut found = Vec::new();
    for (from, targets) in arrows {
        for (to, (file, path)) in targets {
            if reaches(to, from) {
                found.push(Violation {
                    file: file.clone(),
                    path: path.clone(),
                    why: format!(
                        "`{}` and `{}` name each other (a circle)",
                        from.part.as_deref().unwrap_or(&from.stage),
                        to.part.as_deref().unwrap_or(&to.stage)
                    ),
                });
            }
        }
    }
    found
}

/// This crate's folder as `cargo test` names it when the test runs (a test binary built
/// in another checkout of the workspace and still fresh here would otherwise read that
/// checkout's files, or none).
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// Every `.rs` file under `dir`, with its path relative to `dir`.
pub fn sources(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read the source folder")
            .map(|e| e.expect("list the source folder").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path
                    .strip_prefix(root)
                    .expect("below the root")
                    .to_string_lossy()
                    .replace('\\', "/");
                let text = std::fs::read_to_string(&path).expect("read a source file");
                out.push((relative, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn the_core_points_only_down_the_pipeline() {
    let src = manifest_dir().join("src");
    let files = sources(&src);
    assert!(
        files.len() > 30,
        "the core's sources were not found in {src:?}"
    );
    let stages: BTreeSet<String> = files
        .iter()
        .filter_map(|(file, _)| module_of(file).first().cloned())
        .collect();
    for stage in stages {
        assert!(
            STAGES.contains(&stage.as_str()),
            "src/{stage} is not a stage of the pipeline: put it in one, or add it to STAGES \
             in its place"
        );
    }
    let violations = check(&files);
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn a_planted_up_arrow_is_caught_wherever_it_hides() {
    let file = |name: &str, text: &str| (name.to_owned(), text.to_owned());
    let base = [
        file("read/imaging.rs", "pub fn load() {}"),
        file("describe/pooling.rs", "pub fn l2() {}"),
        file("describe/vectors.rs", "pub fn l2_normalize() {}"),
        file("index/mod.rs", "pub struct Index;"),
    ];
    let planted = [
        ("a use", "use crate::describe::pooling::l2;"),
        (
            "a use group",
            "use crate::{describe::{vectors::l2_normalize}, read};",
        ),
        (
            "a path in code",
            "fn f() { crate::describe::vectors::l2_normalize() }",
        ),
        ("a type", "struct S(crate::index::Index);"),
        ("super", "fn f() { super::super::index::Index; }"),
        (
            "a macro",
            r#"fn f() { println!("{:?}", crate::index::Index); }"#,
        ),
        ("a test module", "mod tests { use crate::index::Index; }"),
    ];
    for (how, text) in planted {
        let mut files = base.to_vec();
        files.push(file("read/raw.rs", text));
        let violations = check(&files);
        assert_eq!(violations.len(), 1, "{how}: {violations:#?}");
        assert_eq!(violations[0].file, "read/raw.rs", "{how}");
    }

    // Down the pipeline, and within one stage without a circle, is fine.
    let mut fine = base.to_vec();
    fine.push(file(
        "find/search.rs",
        "use crate::index::Index; use crate::read::imaging::load;",
    ));
    fine.push(file("read/raw.rs", "use super::imaging::load;"));
    assert_eq!(check(&fine), vec![]);

    // Two parts of one stage naming each other is a circle.
    let mut circle = base.to_vec();
    circle.push(file("describe/vectors.rs", "use super::pooling::l2;"));
    circle.push(file(
        "describe/pooling.rs",
        "fn f() { crate::describe::vectors::l2_normalize() }",
    ));
    let violations = check(&circle);
    assert_eq!(violations.len(), 2, "{violations:#?}");
}
