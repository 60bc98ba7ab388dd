//! The README's layout block ("How it fits together") is what a newcomer reads first: it must
//! name every module of `shared/src` and every crate of `functions/`, each once.

use std::collections::BTreeSet;
use std::path::Path;

fn layout_block() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).expect("README.md");
    let start = readme
        .find("## How it fits together\n\n```\n")
        .expect("the README has its layout block");
    let block = &readme[start..];
    let body = &block[block.find("```\n").expect("the block opens") + 4..];
    body[..body.find("```").expect("the block closes")].to_owned()
}

/// What the block lists under the top-level line starting with `section`: the leading words of
/// its indented lines that look like paths (`auth/`, `config.rs,`), and every word after them.
fn listed_under(block: &str, section: &str) -> BTreeSet<String> {
    block
        .lines()
        .skip_while(|l| !l.starts_with(section))
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .flat_map(str::split_whitespace)
        .map(|w| w.trim_end_matches([',', ':']).to_owned())
        .collect()
}

fn entries(dir: &str) -> Vec<(String, bool)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out: Vec<(String, bool)> = std::fs::read_dir(&root)
        .expect("the folder")
        .map(|e| {
            let e = e.expect("an entry");
            (e.file_name().to_string_lossy().into_owned(), e.path().is_dir())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_module_of_shared_src_and_every_function_is_in_the_readme_layout() {
    let block = layout_block();
    let shared = listed_under(&block, "shared/");
    for (name, is_dir) in entries("src") {
        if name == "lib.rs" {
            continue;
        }
        let shown = if is_dir { format!("{name}/") } else { name };
        assert!(
            shared.contains(&shown),
            "shared/src/{shown} is missing from the README's layout block"
        );
    }
    let functions = listed_under(&block, "functions/");
    for (name, is_dir) in entries("../functions") {
        if is_dir {
            assert!(
                functions.contains(&format!("{name}/")),
                "functions/{name}/ is missing from the README's layout block"
            );
        }
    }
}

#[test]
fn no_top_level_folder_is_listed_twice() {
    let block = layout_block();
    let top: Vec<&str> = block
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let unique: BTreeSet<&&str> = top.iter().collect();
    assert_eq!(unique.len(), top.len(), "listed twice: {top:?}");
}
