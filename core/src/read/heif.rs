//! HEIC / HEIF / AVIF photos (phones, recent cameras) through the system's libheif,
//! loaded when the first such photo is met (`dlopen`, via `libloading`).
//!
//! Why at run time: the maintained Rust binding (`libheif-rs`) needs libheif 1.17 or
//! newer, while Debian 12 ships 1.15; building libheif in would pull a C++ build and its
//! codecs into every build. The dozen C functions used here exist unchanged since
//! libheif 1.0, so any libheif the system has works (`apt install libheif1`; HEVC and
//! AV1 decoding come with it). Without it, each such photo is reported as "HEIC support
//! is not built in … (install libheif)", never skipped. libheif applies the file's own
//! rotation and mirroring (`irot`/`imir`) while decoding, so the image comes out as the
//! phone showed it.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::path::Path;
use std::sync::OnceLock;

use image::RgbImage;

use crate::support::error::{Error, Result};

/// `struct heif_error`, returned by value.
#[repr(C)]
struct HeifError {
    code: c_int,
    subcode: c_int,
    message: *const c_char,
}

const COLORSPACE_RGB: c_int = 1;
const CHROMA_INTERLEAVED_RGB: c_int = 10;
const CHANNEL_INTERLEAVED: c_int = 10;

type ContextAlloc = unsafe extern "C" fn() -> *mut c_void;
type ContextFree = unsafe extern "C" fn(*mut c_void);
type ReadFromMemory =
    unsafe extern "C" fn(*mut c_void, *const c_void, usize, *const c_void) -> HeifError;
type PrimaryHandle = unsafe extern "C" fn(*mut c_void, *mut *mut c_void) -> HeifError;
type HandleRelease = unsafe extern "C" fn(*const c_void);
type HandleSize = unsafe extern "C" fn(*const c_void) -> c_int;
type DecodeImage =
    unsafe extern "C" fn(*const c_void, *mut *mut c_void, c_int, c_int, *const c_void) -> HeifError;
type ImageRelease = unsafe extern "C" fn(*const c_void);
type ImageSize = unsafe extern "C" fn(*const c_void, c_int) -> c_int;
type PlaneReadonly = unsafe extern "C" fn(*const c_void, c_int, *mut c_int) -> *const u8;

/// The libheif functions lookalike calls.
struct LibHeif {
    context_alloc: ContextAlloc,
    context_free: ContextFree,
    read_from_memory: ReadFromMemory,
    primary_handle: PrimaryHandle,
    handle_release: HandleRelease,
    handle_width: HandleSize,
    handle_height: HandleSize,
    decode_image: DecodeImage,
    image_release: ImageRelease,
    image_width: ImageSize,
    image_height: ImageSize,
    plane_readonly: PlaneReadonly,
    /// Keeps the library loaded as long as the function pointers above live.
    _library: libloading::Library,
}

/// The system's libheif, loaded once; `Err` says why it is not there.
fn libheif() -> std::result::Result<&'static LibHeif, &'static str> {
    static LIBRARY: OnceLock<std::result::Result<LibHeif, String>> = OnceLock::new();
    LIBRARY.get_or_init(load).as_ref().map_err(String::as_str)
}

fn load() -> std::result::Result<LibHeif, String> {
    const NAMES: [&str; 4] = ["libheif.so.1", "libheif.so", "libheif.1.dylib", "heif.dll"];
    // SAFETY: loading libheif runs its initialisers, which only set up its own state.
    let library = NAMES
        .iter()
        .find_map(|name| unsafe { libloading::Library::new(name) }.ok())
        .ok_or("libheif was not found on this system (on Debian/Ubuntu: apt install libheif1)")?;
    macro_rules! symbol {
        ($name:literal) => {
            // SAFETY: the type is the function's C signature in libheif's heif.h.
            *unsafe { library.get(concat!($name, "\0").as_bytes()) }
                .map_err(|e| format!("libheif lacks {}: {e}", $name))?
        };
    }
    Ok(LibHeif {
        context_alloc: symbol!("heif_context_alloc"),
        context_free: symbol!("heif_context_free"),
        read_from_memory: symbol!("heif_context_read_from_memory_without_copy"),
        primary_handle: symbol!("heif_context_get_primary_image_handle"),
        handle_release: symbol!("heif_image_handle_release"),
        handle_width: symbol!("heif_image_handle_get_width"),
        handle_height: symbol!("heif_image_handle_get_height"),
        decode_image: symbol!("heif_decode_image"),
        image_release: symbol!("heif_image_release"),
        image_width: symbol!("heif_image_get_width"),
        image_height: symbol!("heif_image_get_height"),
        plane_readonly: symbol!("heif_image_get_plane_readonly"),
        _library: library,
    })
}

/// Whether this system can read HEIC / HEIF / AVIF (libheif found).
pub fn available() -> bool {
    libheif().is_ok()
}

/// Decodes the primary image of a HEIF file (HEIC, HEIF, AVIF) to RGB8, turned as the
/// file says; refuses images above `max_pixels` before decoding them.
pub fn decode(
    path: &Path,
    bytes: &[u8],
    max_pixels: u64,
    format: &'static str,
) -> Result<RgbImage> {
    let lib = libheif().map_err(|why| Error::NotBuiltIn {
        path: path.to_path_buf(),
        format,
        why,
    })?;
    let fail = |reason: String| failure(path, reason);
    let check = |error: HeifError| checked(path, error);
    // Every pointer below is owned by one of these guards and released on any return.
    // SAFETY: heif_context_alloc has no preconditions.
    let context = Owned(unsafe { (lib.context_alloc)() }, lib.context_free);
    if context.0.is_null() {
        return Err(fail("libheif could not allocate a context".into()));
    }
    // SAFETY: `bytes` outlives the context (dropped at the end of this function).
    check(unsafe {
        (lib.read_from_memory)(
            context.0,
            bytes.as_ptr().cast(),
            bytes.len(),
            std::ptr::null(),
        )
    })?;
    let mut handle = std::ptr::null_mut();
    // SAFETY: the context is valid; libheif writes the handle pointer.
    check(unsafe { (lib.primary_handle)(context.0, &mut handle) })?;
    let handle = Released(handle, lib.handle_release);
    // SAFETY: the handle is valid.
    let (width, height) = unsafe { ((lib.handle_width)(handle.0), (lib.handle_height)(handle.0)) };
    let (width, height) = (width.max(0) as u32, height.max(0) as u32);
    crate::read::limits::check_pixels(path, width, height, max_pixels)?;
    let mut image = std::ptr::null_mut();
    // SAFETY: the handle is valid; null options mean libheif's defaults (which apply
    // the file's rotation and mirroring).
    check(unsafe {
        (lib.decode_image)(
            handle.0,
            &mut image,
            COLORSPACE_RGB,
            CHROMA_INTERLEAVED_RGB,
            std::ptr::null(),
        )
    })?;
    let image = Released(image, lib.image_release);
    copy_rgb(lib, &image, path)
}

/// A decoding error of the file at `path`.
fn failure(path: &Path, reason: String) -> Error {
    Error::Decode {
        path: path.to_path_buf(),
        reason,
    }
}

/// libheif's answer as a result: its message is the error's reason.
fn checked(path: &Path, error: HeifError) -> Result<()> {
    if error.code == 0 {
        return Ok(());
    }
    let message = if error.message.is_null() {
        String::from("unknown error")
    } else {
        // SAFETY: libheif's error messages are static NUL-terminated strings.
        unsafe { CStr::from_ptr(error.message) }
            .to_string_lossy()
            .into_owned()
    };
    Err(failure(path, format!("libheif: {message}")))
}

/// The pixels of a decoded interleaved-RGB image, copied out of libheif's plane.
fn copy_rgb(lib: &LibHeif, image: &Released, path: &Path) -> Result<RgbImage> {
    let fail = |reason: &str| failure(path, reason.to_string());
    // SAFETY: the image is valid and interleaved RGB, as requested.
    let (w, h) = unsafe {
        (
            (lib.image_width)(image.0, CHANNEL_INTERLEAVED),
            (lib.image_height)(image.0, CHANNEL_INTERLEAVED),
        )
    };
    let mut stride: c_int = 0;
    // SAFETY: as above; libheif writes the row stride in bytes.
    let plane = unsafe { (lib.plane_readonly)(image.0, CHANNEL_INTERLEAVED, &mut stride) };
    let (w, h, stride) = (w.max(0) as usize, h.max(0) as usize, stride.max(0) as usize);
    if plane.is_null() || w == 0 || h == 0 || stride < 3 * w {
        return Err(fail("libheif returned no RGB plane"));
    }
    // SAFETY: libheif guarantees `h` rows of `stride` bytes at `plane` while the image
    // lives; we copy them out before it is released.
    let rows = unsafe { std::slice::from_raw_parts(plane, stride * (h - 1) + 3 * w) };
    let mut rgb = Vec::with_capacity(3 * w * h);
    for y in 0..h {
        rgb.extend_from_slice(&rows[y * stride..y * stride + 3 * w]);
    }
    RgbImage::from_raw(w as u32, h as u32, rgb).ok_or_else(|| fail("bad image size"))
}

/// A libheif object freed with `free` when dropped.
struct Owned(*mut c_void, ContextFree);

impl Drop for Owned {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from the matching allocation and is freed once.
            unsafe { (self.1)(self.0) }
        }
    }
}

/// A libheif handle or image released with `release` when dropped.
struct Released(*mut c_void, unsafe extern "C" fn(*const c_void));

impl Drop for Released {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from libheif and is released once.
            unsafe { (self.1)(self.0) }
        }
    }
}
