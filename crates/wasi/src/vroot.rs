//! The virtual root: `/` and the directories above the preopened ones.
//!
//! WASI has no root directory: a guest sees only its preopens, and wasi-libc resolves an
//! absolute path by the longest preopen prefix. A guest given `/home/u/proj` and
//! `/usr/local` therefore cannot `stat("/")`, list `/home` or find that `/home/u` exists,
//! which native programs (and python3's `pathlib`, `os.path.ismount`, `os.walk` upwards)
//! take for granted. With [`WasiCtxBuilder::virtual_root`](crate::WasiCtxBuilder::virtual_root)
//! the context preopens one more directory, `/`, backed by no host directory at all: a
//! read-only tree holding exactly the guest paths of the other preopens and their
//! ancestors. Listing `/home/u` shows `proj`; everything else is absent (`ENOENT`),
//! nothing can be created (`EPERM`, as under a read-only preopen), and no host path is
//! ever touched, so the sandbox is unchanged. Paths inside a preopen still resolve through
//! that preopen (wasi-libc prefers the longer prefix).

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::errno::Errno;
use crate::types::{filetype, Filestat};

/// The device number virtual directories report (host devices are never 0 in practice).
const DEVICE: u64 = 0;

/// The tree of virtual directories; node 0 is `/`.
#[derive(Debug)]
pub struct VirtualTree {
    nodes: Vec<Node>,
}

#[derive(Debug)]
struct Node {
    parent: usize,
    children: BTreeMap<String, usize>,
}

impl VirtualTree {
    /// The root, `/`.
    pub const ROOT: usize = 0;

    /// The tree of every absolute path in `mounts` and their ancestors (relative guest
    /// paths are not below `/` and are left out).
    pub fn new<'a>(mounts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut tree = Self {
            nodes: vec![Node {
                parent: Self::ROOT,
                children: BTreeMap::new(),
            }],
        };
        for mount in mounts {
            if !mount.starts_with('/') {
                continue;
            }
            let mut at = Self::ROOT;
            for name in mount.split('/') {
                at = match name {
                    "" | "." => at,
                    ".." => tree.nodes[at].parent,
                    _ => match tree.nodes[at].children.get(name) {
                        Some(&child) => child,
                        None => {
                            let child = tree.nodes.len();
                            tree.nodes.push(Node {
                                parent: at,
                                children: BTreeMap::new(),
                            });
                            tree.nodes[at].children.insert(name.to_owned(), child);
                            child
                        }
                    },
                };
            }
        }
        tree
    }

    /// The node `path` names, relative to `from`: `.` and empty components stay, `..`
    /// goes up (from `/` to itself, as `/..` is `/`). `ENOENT` for a name that is not
    /// there; `EPERM` for an absolute path (WASI paths are relative, as cap-std says).
    pub fn resolve(&self, from: usize, path: &Path) -> Result<usize, Errno> {
        let path = path.as_os_str().as_bytes();
        if path.starts_with(b"/") {
            return Err(Errno::PERM);
        }
        let mut at = from;
        for name in path.split(|&b| b == b'/') {
            at = match name {
                b"" | b"." => at,
                b".." => self.node(at)?.parent,
                // A name that is not UTF-8 is not in the tree (its names come from strings).
                _ => {
                    let name = std::str::from_utf8(name).map_err(|_| Errno::NOENT)?;
                    *self.node(at)?.children.get(name).ok_or(Errno::NOENT)?
                }
            };
        }
        self.node(at).map(|_| at)
    }

    fn node(&self, node: usize) -> Result<&Node, Errno> {
        self.nodes.get(node).ok_or(Errno::BADF)
    }

    /// The children of `node`, by name.
    pub fn children(&self, node: usize) -> impl Iterator<Item = (&str, usize)> {
        self.nodes.get(node).into_iter().flat_map(|n| {
            n.children
                .iter()
                .map(|(name, &child)| (name.as_str(), child))
        })
    }

    /// The inode number of `node` (unique within the tree).
    pub fn ino(node: usize) -> u64 {
        node as u64 + 1
    }

    /// What `stat` says about `node`: an empty, timeless directory (`nlink` counts `.`,
    /// the entry in the parent and each subdirectory's `..`, as for a host directory).
    pub fn filestat(&self, node: usize) -> Filestat {
        let subdirs = self.children(node).count() as u64;
        Filestat {
            dev: DEVICE,
            ino: Self::ino(node),
            filetype: filetype::DIRECTORY,
            nlink: 2 + subdirs,
            ..Filestat::default()
        }
    }

    /// The parent of `node` (`/` for `/`).
    pub fn parent(&self, node: usize) -> usize {
        self.nodes.get(node).map_or(Self::ROOT, |n| n.parent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> VirtualTree {
        VirtualTree::new([
            "/home/u/proj",
            "/usr/local",
            "/usr/local/share",
            "data",
            "/",
        ])
    }

    /// What `path` resolves to from `/`.
    fn at(t: &VirtualTree, path: &str) -> Result<usize, Errno> {
        t.resolve(VirtualTree::ROOT, Path::new(path))
    }

    fn names(t: &VirtualTree, node: usize) -> Vec<&str> {
        t.children(node).map(|(n, _)| n).collect()
    }

    #[test]
    fn the_tree_holds_the_mounts_and_their_ancestors_only() {
        let t = tree();
        assert_eq!(names(&t, VirtualTree::ROOT), ["home", "usr"]);
        let u = at(&t, "home/u").unwrap();
        assert_eq!(names(&t, u), ["proj"]);
        let local = at(&t, "usr/local").unwrap();
        assert_eq!(names(&t, local), ["share"]);
        // A relative guest path is not under `/`.
        assert_eq!(at(&t, "data"), Err(Errno::NOENT));
        assert_eq!(at(&t, "etc/passwd"), Err(Errno::NOENT));
    }

    #[test]
    fn dot_dot_goes_up_and_stops_at_the_root() {
        let t = tree();
        let proj = at(&t, "home/u/proj").unwrap();
        assert_eq!(
            t.resolve(proj, Path::new("..")).unwrap(),
            at(&t, "home/u").unwrap()
        );
        assert_eq!(
            t.resolve(proj, Path::new("../../../../..")).unwrap(),
            VirtualTree::ROOT
        );
        assert_eq!(at(&t, "..").unwrap(), VirtualTree::ROOT);
        assert_eq!(
            at(&t, "./usr//local/").unwrap(),
            at(&t, "usr/local").unwrap()
        );
        assert_eq!(at(&t, ""), Ok(VirtualTree::ROOT));
        assert_eq!(at(&t, "/usr"), Err(Errno::PERM));
    }

    #[test]
    fn stat_is_a_directory_with_distinct_inodes() {
        let t = tree();
        let root = t.filestat(VirtualTree::ROOT);
        assert_eq!((root.filetype, root.nlink), (filetype::DIRECTORY, 4));
        let usr = at(&t, "usr").unwrap();
        assert_ne!(t.filestat(usr).ino, root.ino);
        assert_eq!(t.parent(usr), VirtualTree::ROOT);
    }
}
