//! Escape attempts against the sandbox: each asserts the exact errno the guest sees, and
//! that nothing outside the preopened directories was read, created, changed or removed.
//!
//! Layout (fd 3 = `sandbox/` as "/sandbox", fd 4 = `ro/` as "/ro", read-only):
//!
//! ```text
//! outside/secret.txt, outside/dir/
//! sandbox/file.txt, sandbox/sub/inner.txt
//! sandbox/sub/up -> ..             (stays inside)
//! sandbox/sub/up2 -> ../..         (leaves)
//! sandbox/link_abs -> <absolute path of outside/secret.txt>
//! sandbox/link_rel_out -> ../outside/secret.txt
//! sandbox/link_dir_out -> ../outside
//! sandbox/loop1 -> loop2, sandbox/loop2 -> loop1, sandbox/self_loop -> self_loop
//! sandbox/link_in -> file.txt     (stays inside)
//! ro/data.txt, ro/rsub/
//! ```

mod common;

use std::os::unix::fs::symlink;

use common::{Guest, TempDir, OUT};
use wasmi_py_core::Val;
use wasmi_py_wasi::{types, Errno, WasiCtx};

const SB: u32 = 3;
const RO: u32 = 4;

fn setup() -> (TempDir, Guest) {
    let t = TempDir::new("sandbox");
    let root = t.path();
    std::fs::create_dir_all(root.join("outside/dir")).unwrap();
    std::fs::write(root.join("outside/secret.txt"), "secret").unwrap();
    let sb = root.join("sandbox");
    std::fs::create_dir_all(sb.join("sub")).unwrap();
    std::fs::write(sb.join("file.txt"), "inside").unwrap();
    std::fs::write(sb.join("sub/inner.txt"), "inner").unwrap();
    symlink("..", sb.join("sub/up")).unwrap();
    symlink("../..", sb.join("sub/up2")).unwrap();
    symlink(root.join("outside/secret.txt"), sb.join("link_abs")).unwrap();
    symlink("../outside/secret.txt", sb.join("link_rel_out")).unwrap();
    symlink("../outside", sb.join("link_dir_out")).unwrap();
    symlink("loop2", sb.join("loop1")).unwrap();
    symlink("loop1", sb.join("loop2")).unwrap();
    symlink("self_loop", sb.join("self_loop")).unwrap();
    symlink("file.txt", sb.join("link_in")).unwrap();
    std::fs::create_dir_all(root.join("ro/rsub")).unwrap();
    std::fs::write(root.join("ro/data.txt"), "data").unwrap();
    let ctx = WasiCtx::builder()
        .preopen_dir(&sb, "/sandbox", false)
        .preopen_dir(root.join("ro"), "/ro", true)
        .build()
        .unwrap();
    (t, Guest::new(ctx))
}

/// The outside directory is exactly as `setup` made it.
fn assert_outside_untouched(t: &TempDir) {
    let out = t.path().join("outside");
    let mut names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["dir", "secret.txt"]);
    assert_eq!(
        std::fs::read_to_string(out.join("secret.txt")).unwrap(),
        "secret"
    );
    assert_eq!(std::fs::read_dir(out.join("dir")).unwrap().count(), 0);
}

// ---- `..` and absolute paths -------------------------------------------------------

#[test]
fn dotdot_to_sibling() {
    let (t, mut g) = setup();
    assert_eq!(g.open(SB, "../outside/secret.txt"), Err(Errno::PERM));
    assert_outside_untouched(&t);
}

#[test]
fn dotdot_after_descending() {
    let (_t, mut g) = setup();
    assert_eq!(g.open(SB, "sub/../../outside/secret.txt"), Err(Errno::PERM));
}

#[test]
fn long_dotdot_chain_to_etc_passwd() {
    let (_t, mut g) = setup();
    let path = format!("{}etc/passwd", "../".repeat(40));
    assert_eq!(g.open(SB, &path), Err(Errno::PERM));
}

#[test]
fn dot_then_dotdot() {
    let (_t, mut g) = setup();
    assert_eq!(g.open(SB, "./.././outside/secret.txt"), Err(Errno::PERM));
}

#[test]
fn open_parent_directory_itself() {
    let (_t, mut g) = setup();
    assert_eq!(g.open_dir(SB, ".."), Err(Errno::PERM));
}

#[test]
fn absolute_path() {
    let (_t, mut g) = setup();
    assert_eq!(g.open(SB, "/etc/passwd"), Err(Errno::PERM));
}

#[test]
fn absolute_path_to_the_preopen_itself() {
    let (t, mut g) = setup();
    let host = t.path().join("sandbox/file.txt");
    assert_eq!(g.open(SB, host.to_str().unwrap()), Err(Errno::PERM));
}

#[test]
fn stat_through_dotdot() {
    let (_t, mut g) = setup();
    assert_eq!(g.stat(SB, "../outside", true), Err(Errno::PERM));
}

#[test]
fn dotdot_from_an_opened_subdirectory() {
    let (_t, mut g) = setup();
    let sub = g.open_dir(SB, "sub").unwrap();
    // The parent is inside the preopen, but the subdirectory is a capability of its own.
    assert_eq!(g.open(sub, "../file.txt"), Err(Errno::PERM));
    assert_eq!(g.open(sub, "inner.txt").map(|_| ()), Ok(()));
}

#[test]
fn root_preopen_dot_is_fine_dotdot_is_not() {
    let (_t, mut g) = setup();
    assert!(g.open_dir(SB, ".").is_ok());
    assert_eq!(g.open_dir(SB, "./sub/.."), Ok(g.u32_at(OUT)));
    assert_eq!(g.open_dir(SB, "./sub/../.."), Err(Errno::PERM));
}

// ---- symlinks ------------------------------------------------------------------------

#[test]
fn preexisting_absolute_symlink() {
    let (_t, mut g) = setup();
    assert_eq!(g.open(SB, "link_abs"), Err(Errno::PERM));
}

#[test]
fn preexisting_relative_symlink_out() {
    let (_t, mut g) = setup();
    assert_eq!(g.open(SB, "link_rel_out"), Err(Errno::PERM));
}

#[test]
fn symlink_as_intermediate_directory() {
    let (_t, mut g) = setup();
    assert_eq!(g.open(SB, "link_dir_out/secret.txt"), Err(Errno::PERM));
}

#[test]
fn symlink_to_grandparent_inside_a_subdirectory() {
    let (_t, mut g) = setup();
    assert_eq!(g.open(SB, "sub/up2/outside/secret.txt"), Err(Errno::PERM));
}

#[test]
fn symlink_staying_inside_is_followed() {
    let (_t, mut g) = setup();
    let fd = g.open(SB, "sub/up/link_in").unwrap();
    assert_eq!(g.read_fd(fd, 64).unwrap(), b"inside");
}

#[test]
fn nofollow_on_a_symlink_is_eloop() {
    let (_t, mut g) = setup();
    assert_eq!(
        g.open_with(SB, b"link_rel_out", 0, 0, types::rights::FD_READ, 0),
        Err(Errno::LOOP)
    );
}

#[test]
fn directory_open_through_outside_symlink() {
    let (_t, mut g) = setup();
    assert_eq!(g.open_dir(SB, "link_dir_out"), Err(Errno::PERM));
}

#[test]
fn guest_created_relative_symlink_out() {
    let (t, mut g) = setup();
    // Creating it is allowed (it is just a name with a string in it) …
    assert_eq!(
        g.symlink("../outside/secret.txt", SB, "mine"),
        Errno::SUCCESS
    );
    // … but following it is not.
    assert_eq!(g.open(SB, "mine"), Err(Errno::PERM));
    assert_eq!(g.stat(SB, "mine", true), Err(Errno::PERM));
    assert_outside_untouched(&t);
}

#[test]
fn guest_created_absolute_symlink_is_refused() {
    let (t, mut g) = setup();
    assert_eq!(g.symlink("/etc/passwd", SB, "abs"), Errno::PERM);
    assert!(!t.path().join("sandbox/abs").exists());
}

#[test]
fn guest_created_symlink_to_dotdot_then_descend() {
    let (_t, mut g) = setup();
    assert_eq!(g.symlink("..", SB, "parent"), Errno::SUCCESS);
    assert_eq!(g.open(SB, "parent/outside/secret.txt"), Err(Errno::PERM));
    assert_eq!(g.open_dir(SB, "parent"), Err(Errno::PERM));
}

#[test]
fn guest_symlink_chain_out() {
    let (_t, mut g) = setup();
    assert_eq!(g.symlink("sub/up2", SB, "hop1"), Errno::SUCCESS);
    assert_eq!(g.symlink("hop1/outside", SB, "hop2"), Errno::SUCCESS);
    assert_eq!(g.open(SB, "hop2/secret.txt"), Err(Errno::PERM));
}

#[test]
fn symlink_loop() {
    let (_t, mut g) = setup();
    assert_eq!(g.open(SB, "loop1"), Err(Errno::LOOP));
}

#[test]
fn self_referential_symlink() {
    let (_t, mut g) = setup();
    assert_eq!(g.open(SB, "self_loop"), Err(Errno::LOOP));
}

#[test]
fn readlink_of_absolute_outside_link_is_refused() {
    let (_t, mut g) = setup();
    assert_eq!(g.readlink(SB, "link_abs"), Err(Errno::PERM));
}

#[test]
fn readlink_of_relative_outside_link_gives_only_the_string() {
    let (_t, mut g) = setup();
    assert_eq!(
        g.readlink(SB, "link_rel_out").unwrap(),
        "../outside/secret.txt"
    );
    assert_eq!(g.readlink(SB, "../outside/secret.txt"), Err(Errno::PERM));
}

#[test]
fn lstat_of_outside_link_sees_only_the_link() {
    let (_t, mut g) = setup();
    let st = g.stat(SB, "link_abs", false).unwrap();
    assert_eq!(st[16], types::filetype::SYMBOLIC_LINK);
    assert_eq!(g.stat(SB, "link_abs", true), Err(Errno::PERM));
}

// ---- rename, link, create, remove --------------------------------------------------

#[test]
fn rename_file_to_outside() {
    let (t, mut g) = setup();
    assert_eq!(
        g.rename(SB, "file.txt", SB, "../outside/stolen.txt"),
        Errno::PERM
    );
    assert!(t.path().join("sandbox/file.txt").exists());
    assert_outside_untouched(&t);
}

#[test]
fn rename_outside_file_in() {
    let (t, mut g) = setup();
    assert_eq!(
        g.rename(SB, "../outside/secret.txt", SB, "stolen.txt"),
        Errno::PERM
    );
    assert_outside_untouched(&t);
}

#[test]
fn rename_directory_out() {
    let (t, mut g) = setup();
    assert_eq!(g.rename(SB, "sub", SB, "../outside/sub"), Errno::PERM);
    assert_outside_untouched(&t);
}

#[test]
fn rename_into_symlinked_outside_directory() {
    let (t, mut g) = setup();
    assert_eq!(g.rename(SB, "file.txt", SB, "link_dir_out/x"), Errno::PERM);
    assert_outside_untouched(&t);
}

#[test]
fn hard_link_to_outside() {
    let (t, mut g) = setup();
    assert_eq!(
        g.link(SB, false, "file.txt", SB, "../outside/hard"),
        Errno::PERM
    );
    assert_outside_untouched(&t);
}

#[test]
fn hard_link_outside_file_in() {
    let (t, mut g) = setup();
    assert_eq!(
        g.link(SB, false, "../outside/secret.txt", SB, "hard"),
        Errno::PERM
    );
    assert!(!t.path().join("sandbox/hard").exists());
}

#[test]
fn hard_link_following_an_outside_symlink() {
    let (t, mut g) = setup();
    assert_eq!(g.link(SB, true, "link_rel_out", SB, "hard"), Errno::PERM);
    assert!(!t.path().join("sandbox/hard").exists());
    // Linking the symlink itself (no follow) is fine: it is still just a symlink.
    assert_eq!(
        g.link(SB, false, "link_rel_out", SB, "hard2"),
        Errno::SUCCESS
    );
    assert_eq!(g.open(SB, "hard2"), Err(Errno::PERM));
}

#[test]
fn create_directory_outside() {
    let (t, mut g) = setup();
    assert_eq!(
        g.path_op("path_create_directory", SB, "../outside/new"),
        Errno::PERM
    );
    assert_outside_untouched(&t);
}

#[test]
fn create_file_outside() {
    let (t, mut g) = setup();
    assert_eq!(g.create(SB, "../outside/new.txt"), Err(Errno::PERM));
    assert_eq!(g.create(SB, "link_dir_out/new.txt"), Err(Errno::PERM));
    assert_outside_untouched(&t);
}

#[test]
fn unlink_outside_file() {
    let (t, mut g) = setup();
    assert_eq!(
        g.path_op("path_unlink_file", SB, "../outside/secret.txt"),
        Errno::PERM
    );
    assert_eq!(
        g.path_op("path_unlink_file", SB, "link_dir_out/secret.txt"),
        Errno::PERM
    );
    assert_outside_untouched(&t);
}

#[test]
fn remove_outside_directory() {
    let (t, mut g) = setup();
    assert_eq!(
        g.path_op("path_remove_directory", SB, "../outside/dir"),
        Errno::PERM
    );
    assert_eq!(g.path_op("path_remove_directory", SB, ".."), Errno::PERM);
    assert_outside_untouched(&t);
}

#[test]
fn set_times_outside() {
    let (t, mut g) = setup();
    let (p, l) = g.alloc(b"../outside/secret.txt");
    let e = g.call_vals(
        "path_filestat_set_times",
        &[
            Val::I32(SB as i32),
            Val::I32(1),
            Val::I32(p as i32),
            Val::I32(l as i32),
            Val::I64(0),
            Val::I64(0),
            Val::I32(i32::from(types::fstflags::ATIM | types::fstflags::MTIM)),
        ],
    );
    assert_eq!(e, Errno::PERM);
    assert_outside_untouched(&t);
}

#[test]
fn truncate_through_symlink_out() {
    let (t, mut g) = setup();
    assert_eq!(
        g.open_with(
            SB,
            b"link_rel_out",
            types::lookupflags::SYMLINK_FOLLOW,
            u32::from(types::oflags::TRUNC),
            types::rights::FD_WRITE,
            0
        ),
        Err(Errno::PERM)
    );
    assert_outside_untouched(&t);
}

// ---- malformed paths and descriptors ------------------------------------------------

#[test]
fn nul_byte_in_path() {
    let (_t, mut g) = setup();
    assert_eq!(
        g.open_with(
            SB,
            b"file.txt\0../../outside/secret.txt",
            1,
            0,
            types::rights::FD_READ,
            0
        ),
        Err(Errno::INVAL)
    );
}

#[test]
fn invalid_utf8_path() {
    let (_t, mut g) = setup();
    assert_eq!(
        g.open_with(SB, b"\xff\xfe/../x", 1, 0, types::rights::FD_READ, 0),
        Err(Errno::ILSEQ)
    );
}

#[test]
fn very_long_component() {
    let (_t, mut g) = setup();
    assert_eq!(g.open(SB, &"a".repeat(300)), Err(Errno::NAMETOOLONG));
}

#[test]
fn very_long_path() {
    let (_t, mut g) = setup();
    let path = "sub/".repeat(2000) + "x";
    assert_eq!(g.open(SB, &path), Err(Errno::NAMETOOLONG));
}

#[test]
fn very_long_dotdot_path() {
    let (_t, mut g) = setup();
    // 6,000+ bytes: longer than PATH_MAX, refused before any component is resolved.
    let path = "sub/..".repeat(1000) + "/../outside/secret.txt";
    assert_eq!(g.open(SB, &path), Err(Errno::NAMETOOLONG));
    // Just under PATH_MAX, the `..` at the end is caught.
    let path = "sub/../".repeat(500) + "../outside/secret.txt";
    assert_eq!(g.open(SB, &path), Err(Errno::PERM));
}

#[test]
fn path_out_of_guest_memory() {
    let (_t, mut g) = setup();
    let e = g.call_vals(
        "path_open",
        &[
            Val::I32(SB as i32),
            Val::I32(0),
            Val::I32(-16),
            Val::I32(64),
            Val::I32(0),
            Val::I64(2),
            Val::I64(2),
            Val::I32(0),
            Val::I32(OUT as i32),
        ],
    );
    assert_eq!(e, Errno::FAULT);
}

#[test]
fn path_ops_on_non_directory_descriptors() {
    let (_t, mut g) = setup();
    let file = g.open(SB, "file.txt").unwrap();
    assert_eq!(g.open(file, "x"), Err(Errno::NOTDIR));
    assert_eq!(g.open(1, "etc/passwd"), Err(Errno::NOTDIR));
    assert_eq!(g.open(99, "file.txt"), Err(Errno::BADF));
}

#[test]
fn renumbered_file_over_preopen_cannot_open_paths() {
    let (_t, mut g) = setup();
    let file = g.open(SB, "file.txt").unwrap();
    assert_eq!(g.call("fd_renumber", &[file, SB]), Errno::SUCCESS);
    assert_eq!(g.open(SB, "file.txt"), Err(Errno::NOTDIR));
}

// ---- the read-only preopen -------------------------------------------------------------

#[test]
fn read_only_preopen_refuses_every_change() {
    let (t, mut g) = setup();
    let ro = t.path().join("ro");
    assert!(g.open(RO, "data.txt").is_ok());
    assert_eq!(
        g.open_with(RO, b"data.txt", 1, 0, types::rights::FD_WRITE, 0),
        Err(Errno::PERM)
    );
    assert_eq!(g.create(RO, "new.txt"), Err(Errno::PERM));
    assert_eq!(
        g.open_with(
            RO,
            b"data.txt",
            1,
            u32::from(types::oflags::TRUNC),
            types::rights::FD_READ,
            0
        ),
        Err(Errno::PERM)
    );
    assert_eq!(g.path_op("path_unlink_file", RO, "data.txt"), Errno::PERM);
    assert_eq!(g.path_op("path_create_directory", RO, "d"), Errno::PERM);
    assert_eq!(g.path_op("path_remove_directory", RO, "rsub"), Errno::PERM);
    assert_eq!(g.rename(RO, "data.txt", RO, "moved.txt"), Errno::PERM);
    assert_eq!(g.rename(RO, "data.txt", SB, "moved.txt"), Errno::PERM);
    assert_eq!(g.rename(SB, "file.txt", RO, "file.txt"), Errno::PERM);
    assert_eq!(
        g.link(RO, false, "data.txt", SB, "writable_name"),
        Errno::PERM
    );
    assert_eq!(g.symlink("data.txt", RO, "l"), Errno::PERM);
    let fd = g.open(RO, "data.txt").unwrap();
    assert_eq!(g.write_fd(fd, b"x"), Err(Errno::BADF));
    let e = g.call_vals(
        "fd_filestat_set_times",
        &[
            Val::I32(fd as i32),
            Val::I64(0),
            Val::I64(0),
            Val::I32(i32::from(types::fstflags::MTIM)),
        ],
    );
    assert_eq!(e, Errno::PERM);
    // A directory opened beneath a read-only preopen is read-only too.
    let sub = g.open_dir(RO, "rsub").unwrap();
    assert_eq!(g.create(sub, "x"), Err(Errno::PERM));
    assert_eq!(
        std::fs::read_to_string(ro.join("data.txt")).unwrap(),
        "data"
    );
    let mut names: Vec<_> = std::fs::read_dir(&ro)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["data.txt", "rsub"]);
    assert!(!t.path().join("sandbox/moved.txt").exists());
    assert!(!t.path().join("sandbox/writable_name").exists());
}

#[test]
fn read_only_preopen_escape_is_still_an_escape() {
    let (_t, mut g) = setup();
    assert_eq!(g.open(RO, "../sandbox/file.txt"), Err(Errno::PERM));
}
