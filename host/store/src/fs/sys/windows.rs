//! The Windows calls of the write protocol.
//!
//! - Replace (`replace`): a POSIX-semantics rename through the temp file's handle, else
//!   `MoveFileExW(MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)`. Windows cannot
//!   fsync a directory; write-through (the temp file's handle is opened with it, and the
//!   flag) stands in for it, returning only once the rename is on disk. A program that
//!   holds the document open without `FILE_SHARE_DELETE` makes the replace fail with a
//!   sharing violation or access denied: it is retried for [`REPLACE_PATIENCE`], then
//!   reported with that cause. (confine's own readers share delete access.)
//! - No permission bits: a new document gets its directory's inherited ACL.
//! - Symlinks: cap-std opens with `FILE_FLAG_OPEN_REPARSE_POINT` when not following and
//!   refuses a symlink with `ERROR_STOPPED_ON_SYMLINK`; that is the refusal here.
//!
//! The directory's path for `MoveFileExW` comes from its handle
//! (`GetFinalPathNameByHandleW`), as cap-std's own rename on Windows does.

// Calls into the Windows API, each with its SAFETY argument.
#![allow(unsafe_code)]
use std::ffi::OsString;
use std::io;
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::os::windows::io::AsRawHandle;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cap_std::fs::{Dir, File, FileExt, Metadata, OpenOptions, OpenOptionsExt};
use windows_sys::Win32::Foundation::{
    ERROR_ACCESS_DENIED, ERROR_CANT_RESOLVE_FILENAME, ERROR_INVALID_FUNCTION, ERROR_INVALID_PARAMETER,
    ERROR_NOT_SUPPORTED, ERROR_SHARING_VIOLATION, ERROR_STOPPED_ON_SYMLINK, ERROR_TOO_MANY_LINKS, GENERIC_READ,
    GENERIC_WRITE, HANDLE,
};
use windows_sys::Win32::Storage::FileSystem::{
    DELETE, FILE_FLAG_WRITE_THROUGH, FILE_NAME_NORMALIZED, FILE_RENAME_INFO, FileRenameInfoEx,
    GetFinalPathNameByHandleW, MOVEFILE_REPLACE_EXISTING, MOVEFILE_WRITE_THROUGH, MoveFileExW,
    SetFileInformationByHandle, VOLUME_NAME_DOS,
};

/// Windows cannot fsync a directory; `replace` writes through instead.
pub(crate) const SYNCS_DIRECTORIES: bool = false;

/// How long a replace waits for another program to close the document.
pub(crate) const REPLACE_PATIENCE: Duration = Duration::from_secs(2);

/// Nothing to add: Windows has no FIFOs that could hang an open.
pub(crate) fn nonblocking(options: &mut OpenOptions) -> &mut OpenOptions {
    options
}

/// Nothing to add: Windows files have no permission bits.
pub(crate) fn create_mode(options: &mut OpenOptions, _mode: u32) -> &mut OpenOptions {
    options
}

pub(crate) fn mode_of(_metadata: &Metadata) -> Option<u32> {
    None
}

pub(crate) fn set_mode(_file: &File, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// Whether an open was refused because the name is a symlink (or a link loop).
pub(crate) fn is_symlink_refusal(e: &io::Error) -> bool {
    let code = e.raw_os_error();
    [ERROR_STOPPED_ON_SYMLINK, ERROR_TOO_MANY_LINKS, ERROR_CANT_RESOLVE_FILENAME]
        .iter()
        .any(|c| code == Some(*c as i32))
}

/// Windows answers "access denied" for a directory opened as a file, as for much else, so
/// this cannot tell; the metadata check after the open does where the open succeeds.
pub(crate) fn is_not_a_file_refusal(_e: &io::Error) -> bool {
    false
}

/// Writes `bytes` at `offset`.
pub(crate) fn write_at(file: &File, mut bytes: &[u8], mut offset: u64) -> io::Result<()> {
    while !bytes.is_empty() {
        let written = file.seek_write(bytes, offset)?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        bytes = &bytes[written..];
        offset += written as u64;
    }
    Ok(())
}

/// Reads into `buffer` from `offset`.
pub(crate) fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    file.seek_read(buffer, offset)
}

/// Makes the file's data and metadata durable (`FlushFileBuffers`).
pub(crate) fn sync(file: &File) -> io::Result<()> {
    file.sync_all()
}

/// The access and flags a temp file needs for `replace`: delete access, to be renamed
/// through its handle, and write-through, so that the rename is on disk when it returns.
pub(crate) fn temp_file(options: &mut OpenOptions) -> &mut OpenOptions {
    options.access_mode(GENERIC_READ | GENERIC_WRITE | DELETE).custom_flags(FILE_FLAG_WRITE_THROUGH)
}

/// Replaces `to` with the temp file `temp` (named `from`) in one directory, on disk when it
/// returns, retrying while another program holds `to` open in a way that forbids it.
///
/// First as POSIX does (`FileRenameInfoEx` with `POSIX_SEMANTICS`, Windows 10 1607 and
/// later on NTFS): the name moves to the new file at once, even while readers that share
/// delete access hold the old one open. Where that is not supported (FAT, older Windows,
/// Wine), `MoveFileExW(REPLACE_EXISTING | WRITE_THROUGH)`, which fails while *any* handle
/// of the old file is open, confine's own readers' included, so it is retried.
pub(crate) fn replace(parent: &Dir, temp: &File, from: &str, to: &str) -> io::Result<()> {
    let deadline = Instant::now() + REPLACE_PATIENCE;
    let mut delay = Duration::from_micros(100);
    let mut paths = None;
    loop {
        let attempt = match rename_by_handle(temp, to) {
            Err(e) if is_unsupported(&e) => {
                if paths.is_none() {
                    let directory = final_path(parent)?;
                    paths = Some((wide(&directory.join(from)), wide(&directory.join(to))));
                }
                let (from, to) = paths.as_ref().map(|(from, to)| (from.as_ptr(), to.as_ptr())).unwrap_or_default();
                // SAFETY: both are NUL-terminated UTF-16 strings that live across the call.
                if unsafe { MoveFileExW(from, to, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) } != 0 {
                    Ok(())
                } else {
                    Err(io::Error::last_os_error())
                }
            }
            other => other,
        };
        let error = match attempt {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        let busy =
            [ERROR_SHARING_VIOLATION, ERROR_ACCESS_DENIED].iter().any(|c| error.raw_os_error() == Some(*c as i32));
        if !busy {
            return Err(error);
        }
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                error.kind(),
                format!(
                    "{error} (retried for {} s: another program keeps the document open without \
                     FILE_SHARE_DELETE, or the document is read-only)",
                    REPLACE_PATIENCE.as_secs()
                ),
            ));
        }
        // Short and growing slowly: a reader's open lasts microseconds, the gaps are short.
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(5));
    }
}

/// `FileRenameInfoEx` with replace and POSIX semantics, renaming within the directory.
fn rename_by_handle(file: &File, to: &str) -> io::Result<()> {
    let name: Vec<u16> = to.encode_utf16().collect();
    let header = std::mem::offset_of!(FILE_RENAME_INFO, FileName);
    let size = header + std::mem::size_of_val(name.as_slice());
    let size = size.max(std::mem::size_of::<FILE_RENAME_INFO>());
    // u64s: FILE_RENAME_INFO's alignment (a HANDLE's) is at most 8.
    let mut buffer = vec![0u64; size.div_ceil(8)];
    let info = buffer.as_mut_ptr().cast::<FILE_RENAME_INFO>();
    // SAFETY: `buffer` is large enough and aligned for the header and the name; every
    // field is written before the call reads them, and the handle is open for the call.
    unsafe {
        (*info).Anonymous.Flags = RENAME_REPLACE_IF_EXISTS | RENAME_POSIX_SEMANTICS;
        (*info).RootDirectory = std::ptr::null_mut();
        (*info).FileNameLength = std::mem::size_of_val(name.as_slice()) as u32;
        std::ptr::copy_nonoverlapping(
            name.as_ptr(),
            std::ptr::addr_of_mut!((*info).FileName).cast::<u16>(),
            name.len(),
        );
        if SetFileInformationByHandle(file.as_raw_handle() as HANDLE, FileRenameInfoEx, info.cast(), size as u32) == 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// `FILE_RENAME_FLAG_REPLACE_IF_EXISTS` and `FILE_RENAME_FLAG_POSIX_SEMANTICS` (winbase.h),
/// which windows-sys does not define.
const RENAME_REPLACE_IF_EXISTS: u32 = 0x1;
const RENAME_POSIX_SEMANTICS: u32 = 0x2;

/// The answers of a system or filesystem without POSIX renames.
fn is_unsupported(e: &io::Error) -> bool {
    [ERROR_INVALID_PARAMETER, ERROR_NOT_SUPPORTED, ERROR_INVALID_FUNCTION]
        .iter()
        .any(|c| e.raw_os_error() == Some(*c as i32))
}

/// A path by which ReadDirectoryChangesW can watch `dir`: its final path.
pub(crate) fn watch_path(dir: &Dir) -> io::Result<PathBuf> {
    final_path(dir)
}

/// The path of an open directory, `\\?\`-prefixed.
fn final_path(dir: &Dir) -> io::Result<PathBuf> {
    let handle = dir.as_raw_handle() as HANDLE;
    let mut buffer = vec![0u16; 512];
    loop {
        // SAFETY: `buffer` is writable for the length passed.
        let length = unsafe {
            GetFinalPathNameByHandleW(
                handle,
                buffer.as_mut_ptr(),
                buffer.len() as u32,
                FILE_NAME_NORMALIZED | VOLUME_NAME_DOS,
            )
        } as usize;
        if length == 0 {
            return Err(io::Error::last_os_error());
        }
        if length < buffer.len() {
            return Ok(PathBuf::from(OsString::from_wide(&buffer[..length])));
        }
        // Too small: `length` is the size needed, terminator included.
        buffer.resize(length, 0);
    }
}

fn wide(path: &Path) -> Vec<u16> {
    path.as_os_str().encode_wide().chain(Some(0)).collect()
}
