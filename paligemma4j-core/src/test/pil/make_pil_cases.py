#!/usr/bin/python3
"""Regenerates the PIL cross-check cases under src/test/resources/org/paligemma4j/image/pil.

Run by hand with Debian's python3-pil (apt-get install python3-pil python3-numpy):
    /usr/bin/python3 paligemma4j-core/src/test/pil/make_pil_cases.py

It writes small image files in every supported format, and for each the pixels that
PIL's Image.open(f).convert("RGB") gives (decoded_<file>.npy); and random uint8 images
with PIL's resize of them (resize_<case>.in.npy / .out.npy). manifest.json lists the
cases and the Pillow / libjpeg / libwebp versions used. The Java tests compare against
these files; nothing here is read from the shared fixtures.
"""
import io
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageCms, features, __version__ as pil_version

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "..", "resources", "org", "paligemma4j", "image", "pil")
rng = np.random.RandomState(20240607)
manifest = {"pillow": pil_version, "libjpeg": features.version("jpg"),
            "libjpeg_turbo": features.check("libjpeg_turbo"), "libwebp": features.version("webp"),
            "decode": [], "resize": []}


def photo(w, h, seed):
    """A smooth picture with edges, so lossy codecs and resizing have real work."""
    r = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([128 + 100 * np.sin(x / (3 + seed % 5) + c) * np.cos(y / 4.0 - c) for c in range(3)], -1)
    img[(x // 7 + y // 5) % 3 == 0] += 60
    img += r.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def save(name, data, note):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data)
    im = Image.open(path)
    mode = im.mode
    rgb = np.asarray(im.convert("RGB"))
    np.save(os.path.join(OUT, "decoded_" + name + ".npy"), rgb)
    manifest["decode"].append({"file": name, "pil_mode": mode, "width": rgb.shape[1],
                               "height": rgb.shape[0], "note": note})


def pil_bytes(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)


def raw_png(w, h, bit_depth, color_type, rows, extra=b"", interlace=0):
    """A PNG written by hand (filter 0 rows), for layouts PIL does not write."""
    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, interlace))
            + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


W, H = 37, 23
rgb = photo(W, H, 1)
gray = rgb[..., 1].copy()
alpha = rng.randint(0, 256, (H, W)).astype(np.uint8)

# ---- PNG
save("rgb8.png", pil_bytes(Image.fromarray(rgb), "PNG"), "RGB 8-bit")


def adam7(img):
    """The RGB image as interlaced (Adam7) PNG rows: 7 passes, each a sub-image of filter-0 rows."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    rows = []
    for x0, y0, dx, dy in passes:
        sub = img[y0::dy, x0::dx]
        if sub.shape[0] and sub.shape[1]:
            rows += [sub[y].tobytes() for y in range(sub.shape[0])]
    return rows


save("rgb8_adam7.png", raw_png(W, H, 8, 2, adam7(rgb), interlace=1), "interlaced (Adam7)")
save("rgba8.png", pil_bytes(Image.fromarray(np.dstack([rgb, alpha])), "PNG"), "RGBA: alpha dropped, not composited")
save("gray8.png", pil_bytes(Image.fromarray(gray), "PNG"), "L")
save("gray_alpha8.png", pil_bytes(Image.fromarray(np.dstack([gray, alpha]), "LA"), "PNG"), "LA")
for bits in (1, 2, 4):
    levels = (gray.astype(int) >> (8 - bits)).astype(np.uint8)
    rows = []
    for y in range(H):
        v = 0
        n = 0
        out = bytearray()
        for x in range(W):
            v = (v << bits) | int(levels[y, x])
            n += bits
            if n == 8:
                out.append(v)
                v = n = 0
        if n:
            out.append(v << (8 - n))
        rows.append(bytes(out))
    save("gray%d.png" % bits, raw_png(W, H, bits, 0, rows), "%d-bit gray" % bits)
g16 = (rgb[..., 0].astype(np.uint16) * 3 + rgb[..., 2].astype(np.uint16) * 251)
save("gray16.png", raw_png(W, H, 16, 0, [g16[y].astype(">u2").tobytes() for y in range(H)]),
     "16-bit gray: PIL mode I;16, values above 255 saturate")
rgb16 = rgb.astype(np.uint16) * 257 + rng.randint(0, 256, rgb.shape).astype(np.uint16) - 128
rgb16 = np.clip(rgb16, 0, 65535).astype(np.uint16)
save("rgb16.png", raw_png(W, H, 16, 2, [rgb16[y].astype(">u2").tobytes() for y in range(H)]), "16-bit RGB: high byte")
rgba16 = np.dstack([rgb16, (alpha.astype(np.uint16) * 257)])
save("rgba16.png", raw_png(W, H, 16, 6, [rgba16[y].astype(">u2").tobytes() for y in range(H)]), "16-bit RGBA")
la16 = np.dstack([g16, alpha.astype(np.uint16) * 257])
save("gray_alpha16.png", raw_png(W, H, 16, 4, [la16[y].astype(">u2").tobytes() for y in range(H)]), "16-bit LA: high byte")
save("gray8_trns.png", raw_png(W, H, 8, 0, [gray[y].tobytes() for y in range(H)], chunk(b"tRNS", b"\x00\x80")),
     "gray with a transparent colour key")
save("rgb8_trns.png", raw_png(W, H, 8, 2, [rgb[y].tobytes() for y in range(H)], chunk(b"tRNS", b"\x00\x10\x00\x20\x00\x30")),
     "RGB with a transparent colour key")
pal = Image.fromarray(rgb).quantize(40)
save("palette8.png", pil_bytes(pal, "PNG", transparency=3), "P with tRNS")
pal_idx = np.asarray(pal)
for bits in (1, 2, 4):
    n = 1 << bits
    idx = (pal_idx % n).astype(np.uint8)
    palette = bytes(rng.randint(0, 256, 3 * n).astype(np.uint8))
    rows = []
    for y in range(H):
        v = k = 0
        out = bytearray()
        for x in range(W):
            v = (v << bits) | int(idx[y, x]); k += bits
            if k == 8:
                out.append(v); v = k = 0
        if k:
            out.append(v << (8 - k))
        rows.append(bytes(out))
    save("palette%d.png" % bits, raw_png(W, H, bits, 3, rows, chunk(b"PLTE", palette) + chunk(b"tRNS", b"\x00")),
         "%d-bit palette with tRNS" % bits)

# ---- JPEG
big = photo(97, 61, 2)
save("baseline420.jpg", pil_bytes(Image.fromarray(big), "JPEG", quality=85), "baseline 4:2:0")
save("baseline422.jpg", pil_bytes(Image.fromarray(big), "JPEG", quality=90, subsampling=1), "baseline 4:2:2")
save("baseline444.jpg", pil_bytes(Image.fromarray(big), "JPEG", quality=95, subsampling=0), "baseline 4:4:4")
save("progressive.jpg", pil_bytes(Image.fromarray(big), "JPEG", quality=80, progressive=True), "progressive 4:2:0")
save("optimized_q30.jpg", pil_bytes(Image.fromarray(big), "JPEG", quality=30, optimize=True), "optimized Huffman, q30")
save("gray.jpg", pil_bytes(Image.fromarray(big[..., 0]), "JPEG", quality=85), "grayscale")
save("cmyk.jpg", pil_bytes(Image.fromarray(big).convert("CMYK"), "JPEG", quality=90), "Adobe CMYK")
def segments(jpeg):
    """(marker, start, end) of each marker segment before the first scan."""
    out, pos = [], 2
    while jpeg[pos + 1] != 0xDA:
        length = struct.unpack(">H", jpeg[pos + 2:pos + 4])[0]
        out.append((jpeg[pos + 1], pos, pos + 2 + length))
        pos += 2 + length
    return out


def without(jpeg, marker):
    for m, a, b in segments(jpeg):
        if m == marker:
            return jpeg[:a] + jpeg[b:]
    raise ValueError("no marker %x" % marker)


def adobe(transform):
    return b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00" + bytes([transform])


cmyk_jpeg = pil_bytes(Image.fromarray(big).convert("CMYK"), "JPEG", quality=90)
save("ycck.jpg", b"\xff\xd8" + adobe(2) + without(cmyk_jpeg, 0xEE)[2:], "4 components, Adobe transform 2 (YCCK)")
save("cmyk_no_adobe.jpg", without(cmyk_jpeg, 0xEE), "4 components, no Adobe marker (CMYK)")
ycc_jpeg = pil_bytes(Image.fromarray(big), "JPEG", quality=85)
save("adobe_transform0.jpg", b"\xff\xd8" + adobe(0) + without(ycc_jpeg, 0xE0)[2:],
     "3 components, Adobe transform 0: taken as RGB, no conversion")
save("no_jfif_ids123.jpg", without(ycc_jpeg, 0xE0), "3 components, no JFIF or Adobe, ids 1 2 3: YCbCr")
rgb_ids = bytearray(without(ycc_jpeg, 0xE0))
for m, a, b in segments(bytes(rgb_ids)):
    if m == 0xC0:
        for c, ident in enumerate(b"RGB"):
            rgb_ids[a + 4 + 6 + 3 * c] = ident
sos = bytes(rgb_ids).index(b"\xff\xda")
for c, ident in enumerate(b"RGB"):  # the scan names its components by id too
    rgb_ids[sos + 5 + 2 * c] = ident
save("no_jfif_ids_rgb.jpg", bytes(rgb_ids), "3 components, ids 'R' 'G' 'B': taken as RGB")

icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
save("icc.jpg", pil_bytes(Image.fromarray(big), "JPEG", quality=85, icc_profile=icc), "embedded ICC profile (ignored)")
odd = photo(33, 17, 3)
save("odd_size420.jpg", pil_bytes(Image.fromarray(odd), "JPEG", quality=75), "odd size, 4:2:0 edge blocks")

# ---- GIF
save("global_palette.gif", pil_bytes(pal, "GIF"), "global palette")
save("transparent.gif", pil_bytes(pal, "GIF", transparency=5), "transparency index")


def gif_frame_offset():
    """Logical screen 40x30, one 20x10 frame at (7, 9) with a local palette and a transparent index."""
    fw, fh = 20, 10
    idx = (np.arange(fw * fh) % 7 + 1).astype(np.uint8).reshape(fh, fw)
    sub = Image.fromarray(idx, "P")
    sub.putpalette(list(rng.randint(0, 256, 24)))
    data = pil_bytes(sub, "GIF")
    # take PIL's LZW stream for the frame and rebuild the container around it
    i = data.index(b",")
    flags = data[i + 9]
    lct = 3 << ((flags & 7) + 1) if flags & 0x80 else 0
    gct_flags = data[10]
    gct = 3 << ((gct_flags & 7) + 1) if gct_flags & 0x80 else 0
    palette = data[13:13 + gct] if gct else data[i + 10:i + 10 + lct]
    lzw = data[i + 10 + lct:data.rindex(b";")]
    bits = (len(palette) // 3 - 1).bit_length() - 1
    out = b"GIF89a" + struct.pack("<HH", 40, 30) + bytes([0x80 | 2, 0, 0]) + bytes(rng.randint(0, 256, 24).astype(np.uint8))
    out += b"!\xf9\x04\x01\x00\x00\x03\x00"  # transparent index 3
    out += b"," + struct.pack("<HHHH", 7, 9, fw, fh) + bytes([0x80 | bits]) + palette + lzw + b";"
    return out


save("frame_offset.gif", gif_frame_offset(), "frame smaller than the screen, local palette, transparent fill")
save("interlaced.gif", pil_bytes(pal, "GIF", interlace=True), "interlaced")

# ---- BMP
save("rgb24.bmp", pil_bytes(Image.fromarray(rgb), "BMP"), "24-bit")
save("palette8.bmp", pil_bytes(pal, "BMP"), "8-bit palette")
save("gray8.bmp", pil_bytes(Image.fromarray(gray), "BMP"), "8-bit gray palette")
save("bilevel1.bmp", pil_bytes(Image.fromarray(gray > 128), "BMP"), "1-bit")


def bmp16(masks):
    """A 16-bit BI_BITFIELDS bottom-up BMP; masks (r, g, b)."""
    rbits = [bin(m).count("1") for m in masks]
    shifts = [(m & -m).bit_length() - 1 for m in masks]
    stride = (W * 2 + 3) // 4 * 4
    rows = []
    for y in range(H - 1, -1, -1):
        row = bytearray()
        for x in range(W):
            v = 0
            for c in range(3):
                v |= (int(rgb[y, x, c]) >> (8 - rbits[c])) << shifts[c]
            row += struct.pack("<H", v)
        rows.append(bytes(row) + b"\0" * (stride - 2 * W))
    pix = b"".join(rows)
    dib = struct.pack("<IiiHHIIiiII", 40, W, H, 1, 16, 3, len(pix), 2835, 2835, 0, 0) + struct.pack("<III", *masks)
    off = 14 + len(dib)
    return b"BM" + struct.pack("<IHHI", off + len(pix), 0, 0, off) + dib + pix


save("rgb565.bmp", bmp16((0xF800, 0x07E0, 0x001F)), "16-bit 5-6-5 bitfields")
save("rgb555.bmp", bmp16((0x7C00, 0x03E0, 0x001F)), "16-bit 5-5-5 bitfields")


def bmp_topdown32():
    pix = b"".join(np.concatenate([rgb[y, :, ::-1], alpha[y][:, None]], axis=1).tobytes() for y in range(H))
    dib = struct.pack("<IiiHHIIiiII", 40, W, -H, 1, 32, 0, len(pix), 2835, 2835, 0, 0)
    off = 14 + len(dib)
    return b"BM" + struct.pack("<IHHI", off + len(pix), 0, 0, off) + dib + pix


save("topdown32.bmp", bmp_topdown32(), "32-bit BI_RGB top-down (4th byte ignored)")

# ---- WebP
save("lossless.webp", pil_bytes(Image.fromarray(rgb), "WEBP", lossless=True), "VP8L lossless RGB")
save("lossless_alpha.webp", pil_bytes(Image.fromarray(np.dstack([rgb, alpha])), "WEBP", lossless=True), "VP8L lossless RGBA")
save("lossy.webp", pil_bytes(Image.fromarray(big), "WEBP", quality=80), "VP8 lossy")
save("lossy_alpha.webp", pil_bytes(Image.fromarray(np.dstack([big, photo(97, 61, 5)[..., 0]])), "WEBP", quality=80),
     "VP8X lossy with alpha")

# ---- resize
cases = [
    ("down_bicubic", (150, 110), (56, 56), Image.BICUBIC),
    ("down_bilinear", (150, 110), (56, 56), Image.BILINEAR),
    ("up_bicubic", (13, 9), (64, 48), Image.BICUBIC),
    ("up_bilinear", (13, 9), (64, 48), Image.BILINEAR),
    ("mixed_bicubic", (31, 120), (64, 17), Image.BICUBIC),
    ("row_1x1000_bicubic", (1000, 1), (56, 56), Image.BICUBIC),
    ("col_1000x1_bicubic", (1, 1000), (56, 56), Image.BICUBIC),
    ("row_1x1000_bilinear", (1000, 1), (56, 56), Image.BILINEAR),
    ("pixel_1x1_bicubic", (1, 1), (56, 56), Image.BICUBIC),
    ("exact_size_bicubic", (56, 56), (56, 56), Image.BICUBIC),
    ("same_width_bicubic", (56, 90), (56, 56), Image.BICUBIC),
    ("same_height_bicubic", (90, 56), (56, 56), Image.BICUBIC),
    ("to_1x1_bicubic", (45, 37), (1, 1), Image.BICUBIC),
    ("prime_up_bicubic", (67, 91), (150, 150), Image.BICUBIC),
]
for name, (w, h), (tw, th), f in cases:
    src = rng.randint(0, 256, (h, w, 3)).astype(np.uint8)
    if w > 5 and h > 5:  # mostly smooth with hard edges: overshoot gets clipped
        src = photo(w, h, len(name))
        src[::7] = 255 - src[::7]
    out = np.asarray(Image.fromarray(src).resize((tw, th), f))
    np.save(os.path.join(OUT, "resize_%s.in.npy" % name), src)
    np.save(os.path.join(OUT, "resize_%s.out.npy" % name), out)
    manifest["resize"].append({"name": name, "filter": int(f), "width": tw, "height": th})

with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
    f.write("\n")
