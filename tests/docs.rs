//! The documentation holds together: every relative link and image in
//! README.md and docs/*.md points at a file that exists, every `#anchor`
//! names a heading of the file it points into, and the README stays short.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

const README_MAX_BYTES: u64 = 20_000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every `.md` file under docs/ (recursively), sorted.
fn doc_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut dirs = vec![root().join("docs")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("read docs/").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The text with fenced code blocks and inline code spans blanked out, so
/// that `](x)` inside code is not taken for a link.
fn without_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            out.push('\n');
            continue;
        }
        if in_fence {
            out.push('\n');
            continue;
        }
        let mut in_span = false;
        for c in line.chars() {
            if c == '`' {
                in_span = !in_span;
                out.push(' ');
            } else {
                out.push(if in_span { ' ' } else { c });
            }
        }
        out.push('\n');
    }
    out
}

/// Every link or image target `](target)` of a markdown text, with its line
/// number. A title after the target (`](a.md "title")`) is left out.
fn link_targets(text: &str) -> Vec<(usize, String)> {
    let mut targets = Vec::new();
    for (n, line) in without_code(text).lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("");
            let target = target.trim_start_matches('<').trim_end_matches('>');
            targets.push((n + 1, target.to_string()));
            rest = &after[end..];
        }
    }
    targets
}

/// GitHub's anchor for a heading: lower case, spaces to '-', every other
/// character that is not alphanumeric, '-' or '_' dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a markdown file's headings (outside code blocks), with
/// GitHub's `-1`, `-2` suffixes for repeated headings.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#');
        if !title.starts_with(' ') {
            continue;
        }
        let base = slug(title);
        let mut anchor = base.clone();
        let mut k = 0;
        while seen.contains(&anchor) {
            k += 1;
            anchor = format!("{base}-{k}");
        }
        seen.insert(anchor);
    }
    seen
}

fn is_external(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    ["http://", "https://", "mailto:", "ftp://"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// The problems with the links of one file (empty when all resolve), and
/// how many links were checked.
fn check_file(file: &Path) -> (Vec<String>, usize) {
    let text = fs::read_to_string(file).expect("read a markdown file");
    let shown = file.strip_prefix(root()).unwrap_or(file).display();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (line, target) in link_targets(&text) {
        if target.is_empty() || is_external(&target) {
            continue;
        }
        checked += 1;
        let (path, anchor) = match target.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (target.as_str(), None),
        };
        let resolved = if path.is_empty() {
            file.to_path_buf()
        } else {
            file.parent().unwrap().join(path)
        };
        if !resolved.exists() {
            problems.push(format!(
                "{shown}:{line}: link '{target}': {} does not exist",
                resolved.display()
            ));
            continue;
        }
        let Some(anchor) = anchor else { continue };
        if resolved.extension().is_none_or(|e| e != "md") || resolved.is_dir() {
            continue;
        }
        let target_text = fs::read_to_string(&resolved).expect("read a link's target");
        if !anchors(&target_text).contains(anchor) {
            problems.push(format!(
                "{shown}:{line}: link '{target}': no heading of {} has the anchor '#{anchor}'",
                resolved.display()
            ));
        }
    }
    (problems, checked)
}

#[test]
fn every_relative_link_in_the_readme_and_docs_resolves() {
    let files = doc_files();
    assert!(
        files.len() > 1,
        "expected README.md and docs/*.md, found {files:?}"
    );
    let mut problems = Vec::new();
    for file in &files {
        let (mut p, checked) = check_file(file);
        println!(
            "{}: {checked} relative links checked, {} broken",
            file.strip_prefix(root()).unwrap_or(file).display(),
            p.len()
        );
        problems.append(&mut p);
    }
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_readme_stays_within_its_size() {
    let bytes = fs::metadata(root().join("README.md"))
        .expect("README.md")
        .len();
    println!("README.md: {bytes} bytes (at most {README_MAX_BYTES})");
    assert!(
        bytes <= README_MAX_BYTES,
        "README.md is {bytes} bytes; keep it at most {README_MAX_BYTES} and move detail into docs/"
    );
}

#[test]
fn the_checker_finds_links_and_anchors_as_github_does() {
    let text = "See [a](docs/guide.md#how-it-works), ![img](x.png \"t\") and `[c](code.md)`.\n\
                ```\n[d](fenced.md)\n```\n[e](https://example.com) [f](#local)";
    let targets: Vec<String> = link_targets(text).into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        targets,
        [
            "docs/guide.md#how-it-works",
            "x.png",
            "https://example.com",
            "#local"
        ]
    );
    assert_eq!(slug("CPU fast path (OpenVINO)"), "cpu-fast-path-openvino");
    assert_eq!(
        slug("Cadence: `--cadence preserve` vs `smooth`"),
        "cadence---cadence-preserve-vs-smooth"
    );
    let a = anchors("# Title\n## Same\n## Same\n```\n# not a heading\n```\n");
    assert_eq!(
        a,
        ["title", "same", "same-1"]
            .into_iter()
            .map(String::from)
            .collect::<BTreeSet<_>>()
    );
}
