"""Reads uploads and masks safely (size limits, truncation, bombs) and writes PNGs atomically."""

from __future__ import annotations

import errno
import io
import math
import os
import re
import secrets
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from sceneshop.tools.errors import InputError, SceneshopError

DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_BYTES = 25 * 2**20

Source = str | Path | bytes


def load_image(
    source: Source, max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES
) -> Image.Image:
    """Opens a photo from a path or raw bytes and returns it fully decoded, upright (EXIF
    orientation applied), as RGB, or RGBA when the file carries an alpha channel.

    Every failure is an InputError naming the file and the fix: missing file, a folder, empty or
    too many bytes, not an image, truncated data, zero size, or more than `max_pixels` pixels (the
    header size is checked before anything is decoded, so a decompression bomb costs nothing)."""
    name, data = _read_bytes(source, max_bytes)
    try:
        with warnings.catch_warnings():
            # We enforce our own, lower pixel limit below; Pillow's warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            _check_size(name, image.size, max_pixels)
            image.load()  # full decode now, so truncation surfaces here and not in a later step
    except InputError:
        raise
    except Image.DecompressionBombError as exc:
        raise InputError(_bomb_message(name, _pixels_from_bomb_error(exc), None, max_pixels)) from None
    except UnidentifiedImageError:
        if 0 in (_png_header_size(data) or (1, 1)):
            raise InputError(
                f"{name} has zero size (a PNG of width or height 0); upload a real photo"
            ) from None
        raise InputError(
            f"{name} is not an image Sceneshop can read; upload a PNG, JPEG or WebP photo"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputError(
            f"{name} is damaged or truncated ({_short(exc)}); export or download it again and re-upload"
        ) from None
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block should not reject an otherwise good photo
        pass
    return _normalise_mode(image)


def load_mask(source: Source, size: tuple[int, int], max_bytes: int = DEFAULT_MAX_BYTES) -> Image.Image:
    """Reads a user mask as an "L" image (255 = product), no threshold applied. A mask with a
    varying alpha channel (a cut-out, or strokes on a transparent layer) is taken from its alpha;
    any other image from its grey levels. Its size must equal `size` (the photo's)."""
    image = load_image(source, max_bytes=max_bytes)
    if image.mode == "RGBA":
        alpha = image.getchannel("A")
        lo, hi = alpha.getextrema()
        mask = alpha if lo != hi else image.convert("L")
    else:
        mask = image.convert("L")
    size = (int(size[0]), int(size[1]))
    if mask.size != size:
        raise InputError(
            f"mask {_display_name(source)} is {mask.size[0]}x{mask.size[1]} but the photo is "
            f"{size[0]}x{size[1]}; make the mask from this photo (same width and height)"
        )
    return mask


def save_png(image: Image.Image, path: str | Path, metadata: dict[str, str] | None = None) -> Path:
    """Writes `image` as PNG at `path` atomically (temp file in the same folder, then os.replace):
    readers see the old file or the complete new one, never a partial one. `metadata` is stored as
    text chunks in key order, so the same image and metadata always give the same bytes (no
    timestamps). Raises SceneshopError saying what failed and where (disk full, permission)."""
    return write_atomic(path, encode_png(image, metadata))


def encode_png(image: Image.Image, metadata: dict[str, str] | None = None) -> bytes:
    """The PNG bytes `save_png` writes (metadata as text chunks in key order, no timestamps), for
    callers that send a picture elsewhere before it is saved (a Ray worker to the batch's caller)."""
    info = None
    if metadata:
        info = PngImagePlugin.PngInfo()
        for key in sorted(metadata):
            info.add_text(str(key), str(metadata[key]))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Writes `data` to `path` through a temp file in the same folder and os.replace, so readers
    see the old file or the complete new one, never a partial one (a full disk included). Raises
    SceneshopError saying what failed and where.

    Only a regular file (or nothing) is replaced. A device, fifo or socket at `path` (`-o /dev/null`)
    is refused with an InputError, and so is a folder: os.replace would swap a regular file in for
    it (as root, /dev/null became one). A symlink is followed: where it points is the user's choice,
    so its target is what gets written (the same rule applies to the target) and the link stays a
    link. Returns the path written, the link's target for a symlink."""
    path = _output_target(Path(path))
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # os.open with 0o666 lets the umask decide permissions, as for any normal new file.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            # Checked again just before the swap: whatever appeared meanwhile is not replaced blindly.
            # (Someone who can write in the folder can still swap a device in between these two lines;
            # no portable rename refuses a non-regular target.)
            _output_target(path)
            os.replace(tmp, path)
        except BaseException:
            _remove_quietly(tmp)
            raise
    except OSError as exc:
        raise SceneshopError(_save_error_message(path, exc)) from None
    return path


def _output_target(path: Path) -> Path:
    """The file to write for `path`: itself, or a symlink's final target; InputError when what is
    there is not a regular file. Never opens anything (opening a fifo would block)."""
    if path.is_symlink():
        try:
            path = path.resolve(strict=False)
        except (OSError, RuntimeError):  # a symlink loop
            raise InputError(
                f"'{path}' is a symlink that leads back to itself (a loop); choose another output path"
            ) from None
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return path  # a new file
    except OSError:
        return path  # let the write itself report it (permission, a file where a folder should be)
    if stat.S_ISREG(mode):
        return path
    kind = (
        "a folder" if stat.S_ISDIR(mode)
        else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a fifo (named pipe)" if stat.S_ISFIFO(mode)
        else "a socket" if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    raise InputError(
        f"'{path}' is {kind}; Sceneshop only replaces regular files — give the path of a new or "
        "existing image file"
    )


# ---------------------------------------------------------------- helpers


def _display_name(source: Source) -> str:
    if isinstance(source, bytes | bytearray):
        return "the uploaded image"
    return f"'{source}'"


def _read_bytes(source: Source, max_bytes: int) -> tuple[str, bytes]:
    name = _display_name(source)
    limit = _format_bytes(max_bytes)
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
    else:
        path = Path(source)
        if path.is_dir():
            raise InputError(f"{name} is a folder, not an image file; give the path of one photo")
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise InputError(f"{name} does not exist; check the path and spelling") from None
        except OSError as exc:
            raise InputError(f"{name} cannot be read ({exc.strerror}); check the path") from None
        if size > max_bytes:
            raise InputError(
                f"{name} is {_format_bytes(size)}; the limit is {limit} — save it as a JPEG or "
                "downscale it and upload again"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{name} cannot be read ({exc.strerror}); check its permissions") from None
    if not data:
        raise InputError(f"{name} is empty (0 bytes); upload the photo again")
    if len(data) > max_bytes:
        raise InputError(
            f"{name} is {_format_bytes(len(data))}; the limit is {limit} — save it as a JPEG or "
            "downscale it and upload again"
        )
    return name, data


def _check_size(name: str, size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise InputError(f"{name} has zero size ({width}x{height}); upload a real photo")
    if width * height > max_pixels:
        raise InputError(_bomb_message(name, width * height, size, max_pixels))


def _bomb_message(name: str, pixels: int | None, size: tuple[int, int] | None, max_pixels: int) -> str:
    limit = f"{max_pixels / 1e6:g} MP"
    if pixels is None:
        return f"{name} is too large to decode safely; the limit is {limit} — downscale it and upload again"
    scale = math.sqrt(max_pixels / pixels)
    if size is None:
        # Pillow refused it before we saw the dimensions: suggest the square equivalent.
        side = max(100, int(math.isqrt(pixels) * scale) // 100 * 100)
        return (
            f"{name} is {pixels / 1e6:.0f} megapixels; the limit is {limit} — downscale it to "
            f"under {limit} (about {side}x{side} for a square photo) and upload again"
        )
    # Round the suggestion down to a whole hundred so it is comfortably under the limit.
    w, h = (max(100, int(s * scale) // 100 * 100) for s in size)
    return (
        f"{name} is {size[0]}x{size[1]}, {pixels / 1e6:.0f} megapixels; the limit is {limit} — "
        f"downscale it to under {w}x{h} and upload again"
    )


def _pixels_from_bomb_error(exc: Exception) -> int | None:
    match = re.search(r"\((\d+) pixels\)", str(exc))
    return int(match.group(1)) if match else None


def _png_header_size(data: bytes) -> tuple[int, int] | None:
    # Pillow refuses a 0-pixel PNG as "unidentified"; reading IHDR lets us say what is wrong.
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None


def _normalise_mode(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        return image
    if mode.startswith("I") or mode == "F":
        # 16-bit and float greyscale: scale to 8 bit instead of letting convert() clip at 255.
        arr = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        if mode == "F":
            top = max(1.0, float(arr.max()))
        grey = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    has_alpha = mode in ("LA", "La", "PA", "RGBa") or (mode in ("P", "L") and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def _format_bytes(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:.1f} MB"
    if n >= 2**10:
        return f"{n / 2**10:.1f} KB"
    return f"{n} bytes"


def _short(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:120]


def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _save_error_message(path: Path, exc: OSError) -> str:
    folder = path.parent
    if exc.errno == errno.ENOSPC:
        fix = f"the disk is full; free some space on the drive holding {folder} and save again"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = f"no permission to write in {folder}; choose a folder you can write to"
    elif exc.errno in (errno.ENOTDIR, errno.EEXIST):
        fix = f"{folder} is not a folder; choose another output path"
    else:
        fix = f"{exc.strerror or exc}; check the output folder {folder}"
    return f"could not save the image to {path}: {fix}"
