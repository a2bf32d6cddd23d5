//! Output paths: where a shard's outputs go under the output folder, and the guarantee that no
//! input path (absolute, with `..`, through a symlink, from stdin) can place them outside it.

use std::fs;
use std::path::{Component, Path, PathBuf};

/// An output path that would leave the output folder.
#[derive(Debug, thiserror::Error)]
#[error("refusing to write {path}: it would be outside the output folder {root}")]
pub struct PathError {
    path: String,
    root: String,
}

/// Joins `rel` (a shard's path relative to its input root) under `root/sub`, keeping only plain
/// components, and checks that the existing part of the result (after resolving symlinks)
/// stays inside `root`.
pub fn safe_output_path(root: &Path, sub: &str, rel: &Path) -> Result<PathBuf, PathError> {
    let err = || PathError {
        path: rel.display().to_string(),
        root: root.display().to_string(),
    };
    let mut out = root.join(sub);
    let mut any = false;
    for c in rel.components() {
        match c {
            Component::Normal(part) => {
                out.push(part);
                any = true;
            }
            // Absolute prefixes and `.` carry no location of their own: drop them.
            Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
            Component::ParentDir => return Err(err()),
        }
    }
    if !any {
        return Err(err());
    }
    // A symlink planted inside the output folder could still lead out: resolve the deepest
    // existing ancestor and check it.
    let canonical_root = fs::canonicalize(root).map_err(|_| err())?;
    let mut probe = out.as_path();
    loop {
        if let Ok(real) = fs::canonicalize(probe) {
            if !real.starts_with(&canonical_root) {
                return Err(err());
            }
            break;
        }
        match probe.parent() {
            Some(p) => probe = p,
            None => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_plain_paths_and_strips_roots() {
        let dir = tempfile::tempdir().unwrap();
        let p = safe_output_path(dir.path(), "attributes", Path::new("a/b.jsonl")).unwrap();
        assert_eq!(p, dir.path().join("attributes/a/b.jsonl"));
        let p = safe_output_path(dir.path(), "attributes", Path::new("/etc/passwd")).unwrap();
        assert_eq!(p, dir.path().join("attributes/etc/passwd"));
    }

    #[test]
    fn rejects_parent_components() {
        let dir = tempfile::tempdir().unwrap();
        assert!(safe_output_path(dir.path(), "attributes", Path::new("../x.jsonl")).is_err());
        assert!(safe_output_path(dir.path(), "attributes", Path::new("a/../../x")).is_err());
        assert!(safe_output_path(dir.path(), "attributes", Path::new("..")).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn rejects_symlink_escape() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("attributes")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("attributes/evil")).unwrap();
        assert!(safe_output_path(dir.path(), "attributes", Path::new("evil/x.jsonl")).is_err());
    }
}
