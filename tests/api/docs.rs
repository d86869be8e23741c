//! The documentation a user reads: every relative link of README.md and docs/ leads somewhere
//! (a file of the repository, and a heading of it when the link names one), and nothing in the
//! repository points outside it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages.sort();
    pages
}

/// The targets of Markdown links `[text](target)` and images `![alt](target)`, outside code.
pub fn links(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_fence = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        // Inline code spans may hold `](` that is no link.
        let text: String = line.split('`').step_by(2).collect::<Vec<_>>().join("");
        let mut rest = text.as_str();
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            found.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    found
}

/// GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens.
pub fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut in_fence = false;
    let mut set = BTreeSet::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence && line.starts_with('#') {
            set.insert(anchor(line.trim_start_matches('#')));
        }
    }
    set
}

fn check(page: &Path, target: &str) -> Result<(), String> {
    if target.starts_with("http://") || target.starts_with("https://") {
        return Ok(());
    }
    let (file, fragment) = match target.split_once('#') {
        Some((f, a)) => (f, Some(a)),
        None => (target, None),
    };
    let path = if file.is_empty() {
        page.to_path_buf()
    } else {
        page.parent().unwrap().join(file)
    };
    let resolved = path
        .canonicalize()
        .map_err(|_| format!("{target}: no such file"))?;
    if !resolved.starts_with(root().canonicalize().unwrap()) {
        return Err(format!("{target}: outside the repository"));
    }
    if let Some(fragment) = fragment {
        let text = std::fs::read_to_string(&resolved).map_err(|e| format!("{target}: {e}"))?;
        if !anchors(&text).contains(fragment) {
            return Err(format!("{target}: no heading #{fragment}"));
        }
    }
    Ok(())
}

#[test]
fn every_link_of_the_docs_leads_somewhere() {
    let mut broken = Vec::new();
    let mut count = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for target in links(&text) {
            count += 1;
            if let Err(e) = check(&page, &target) {
                broken.push(format!("{}: {e}", page.display()));
            }
        }
    }
    assert!(
        count > 20,
        "only {count} links found: is the parser broken?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_readme_links_every_page_of_docs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let linked: BTreeSet<String> = links(&readme)
        .into_iter()
        .map(|t| t.split('#').next().unwrap_or_default().to_string())
        .collect();
    for page in pages().iter().skip(1) {
        let name = format!("docs/{}", page.file_name().unwrap().to_string_lossy());
        assert!(linked.contains(&name), "README.md does not link {name}");
    }
}

#[test]
fn nothing_points_outside_the_repository() {
    let files = std::process::Command::new("git")
        .args(["ls-files", "-co", "--exclude-standard"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(files.status.success(), "git ls-files failed");
    let needle = ["..", "/shared/"].concat();
    let mut offenders = Vec::new();
    for file in String::from_utf8_lossy(&files.stdout).lines() {
        if let Ok(text) = std::fs::read_to_string(root().join(file))
            && text.contains(&needle)
        {
            offenders.push(file.to_string());
        }
    }
    assert!(
        offenders.is_empty(),
        "files that point outside: {offenders:?}"
    );
}

#[test]
fn the_link_parser_finds_links_and_images_outside_code() {
    let md = "see [a](docs/a.md#x) and ![i](s.png)\n`[no](code)`\n```\n[no](fence)\n```\n";
    assert_eq!(links(md), vec!["docs/a.md#x", "s.png"]);
    assert_eq!(anchor(" Docker Compose"), "docker-compose");
    assert_eq!(
        anchor(" Codes, lockout and limits"),
        "codes-lockout-and-limits"
    );
}
