//! QR codes for enrollment URIs, drawn in-process (SEC-2): the `otpauth://` URI carries the
//! secret, so it must never be sent to a third-party QR service.
//!
//! Error correction level M (15 % recovery): enough for a photographed screen, while keeping a
//! ~120-character URI at a version phones read easily. Both renderings keep the 4-module quiet
//! zone scanners need to find the code.

use std::fmt::Write as _;
use std::io::Cursor;

use qrcode::EcLevel;
use qrcode::canvas::Canvas;

mod mask;

/// Pixels per module: a default display size for the SVG (which scales through its viewBox) and
/// the PNG's resolution, comfortably above the 4 px phones need from a screen.
const MODULE_PX: u32 = 8;
/// The light margin scanners need to find the code, in modules on each side.
const QUIET: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("data too long for a QR code")]
    TooLong,
    #[error("png encoding: {0}")]
    Png(String),
}

/// An encoded QR code: which modules are dark, row by row, quiet zone not included. Drawn once
/// and rendered as often as needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qr {
    width: usize,
    dark: Vec<bool>,
}

/// Encodes `data` as `qrcode` does (automatic version, optimal segments, level M), with the mask
/// chosen by [`mask::best`].
pub fn encode(data: &str) -> Result<Qr, QrError> {
    // With an automatic version and plain bytes, running out of capacity is the only way the
    // encoder can fail; its other errors concern explicit versions or Kanji/ECI segments.
    let bits =
        qrcode::bits::encode_auto(data.as_bytes(), EcLevel::M).map_err(|_| QrError::TooLong)?;
    let version = bits.version();
    let (data, ec) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, EcLevel::M)
        .map_err(|_| QrError::TooLong)?;
    let width = usize::try_from(version.width()).map_err(|_| QrError::TooLong)?;
    let mut canvas = Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ec);
    Ok(Qr {
        width,
        dark: mask::best(&canvas, width),
    })
}

impl Qr {
    /// Modules per side, quiet zone not included.
    pub fn width(&self) -> usize {
        self.width
    }

    fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// SVG markup for inline use in HTML or JSON: no XML prolog, a viewBox in modules so it
    /// scales, quiet zone kept, dark modules black on white. The dark modules are one `path` of
    /// horizontal runs: a third of the size of a rectangle per module, and one element to paint.
    pub fn svg(&self) -> String {
        let side = self.width + 2 * QUIET;
        let px = u32::try_from(side)
            .unwrap_or(u32::MAX)
            .saturating_mul(MODULE_PX);
        let mut out = String::with_capacity(64 * self.width + 400);
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{px}\" \
             height=\"{px}\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
             <rect width=\"{side}\" height=\"{side}\" fill=\"#ffffff\"/><path fill=\"#000000\" d=\""
        );
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < self.width && self.is_dark(x, y) {
                    x += 1;
                }
                let run = x - start;
                let _ = write!(out, "M{} {}h{run}v1h-{run}z", start + QUIET, y + QUIET);
            }
        }
        out.push_str("\"/></svg>");
        out
    }

    /// PNG bytes (8-bit grayscale), `MODULE_PX` pixels per module, quiet zone kept.
    pub fn png(&self) -> Result<Vec<u8>, QrError> {
        let side = u32::try_from(self.width + 2 * QUIET).map_err(|_| QrError::TooLong)?;
        // The module under a pixel, if it is inside the code (not in the quiet zone).
        let module = |p: u32| {
            usize::try_from(p / MODULE_PX)
                .ok()
                .and_then(|m| m.checked_sub(QUIET))
                .filter(|m| *m < self.width)
        };
        let image = image::GrayImage::from_fn(side * MODULE_PX, side * MODULE_PX, |px, py| {
            let dark = matches!((module(px), module(py)), (Some(x), Some(y)) if self.is_dark(x, y));
            image::Luma([if dark { 0 } else { 255 }])
        });
        let mut out = Cursor::new(Vec::new());
        image
            .write_to(&mut out, image::ImageFormat::Png)
            .map_err(|e| QrError::Png(e.to_string()))?;
        Ok(out.into_inner())
    }
}

/// SVG markup of the QR code of `data` (see [`Qr::svg`]).
pub fn svg(data: &str) -> Result<String, QrError> {
    Ok(encode(data)?.svg())
}

/// PNG bytes of the QR code of `data` (see [`Qr::png`]).
pub fn png(data: &str) -> Result<Vec<u8>, QrError> {
    encode(data)?.png()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_png(bytes: &[u8]) -> String {
        let image = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
            .unwrap()
            .to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(image);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        grids[0].decode().unwrap().1
    }

    const URI: &str = "otpauth://totp/twofold:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
                       &issuer=twofold&algorithm=SHA1&digits=6&period=30";

    #[test]
    fn png_round_trips_through_an_independent_decoder() {
        assert!(URI.len() > 110);
        assert_eq!(decode_png(&png(URI).unwrap()), URI);
        let encoded = "otpauth://totp/Acme%20Co:bob%3Asmith%2Fx%3Fy%23z?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\
                       &issuer=Acme%20Co&algorithm=SHA512&digits=8&period=60";
        assert_eq!(decode_png(&png(encoded).unwrap()), encoded);
    }

    #[test]
    fn png_keeps_quiet_zone_and_module_size() {
        let image = image::load_from_memory(&png(URI).unwrap())
            .unwrap()
            .to_luma8();
        let modules = u32::try_from(encode(URI).unwrap().width()).unwrap();
        assert_eq!(image.width(), (modules + 8) * MODULE_PX);
        let border = 4 * MODULE_PX;
        for (x, y, pixel) in image.enumerate_pixels() {
            let inside = (border..image.width() - border).contains(&x)
                && (border..image.height() - border).contains(&y);
            if !inside {
                assert_eq!(pixel.0, [255], "({x},{y})");
            }
        }
    }

    /// Random-looking enrollment URIs of several lengths (so several versions and masks).
    fn uris() -> Vec<String> {
        (0..40)
            .map(|i| {
                let secret = crate::crypto::random_id().unwrap().to_uppercase();
                let label = "u".repeat(i * 3);
                format!("otpauth://totp/Shop:{label}?secret={secret}&issuer=Shop&digits=6")
            })
            .chain([format!("otpauth://totp/Shop:{}?secret=A", "v".repeat(1500))])
            .collect()
    }

    #[test]
    fn encoding_is_the_one_qrcode_chooses() {
        for uri in uris().iter().map(String::as_str).chain([URI]) {
            let theirs =
                qrcode::QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M).unwrap();
            let ours = encode(uri).unwrap();
            assert_eq!(ours.width(), theirs.width(), "{uri}");
            // Above 128 modules a side, the module-by-module scorer is the one compared.
            let dark: Vec<bool> = theirs
                .to_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect();
            assert!(ours.dark == dark, "{uri}: another mask than qrcode's");
        }
    }

    /// Paints the SVG's path (its own `M x yh n v1h-n z` runs, in modules) into an image.
    fn rasterize_svg(markup: &str) -> image::GrayImage {
        let side: u32 = between(markup, "viewBox=\"0 0 ", " ").parse().unwrap();
        let d = between(markup, "<path fill=\"#000000\" d=\"", "\"");
        let mut image = image::GrayImage::from_pixel(side * 4, side * 4, image::Luma([255]));
        for run in d.split('M').filter(|r| !r.is_empty()) {
            let (xy, rest) = run.split_once('h').unwrap();
            let (x, y) = xy.split_once(' ').unwrap();
            let (x, y): (u32, u32) = (x.parse().unwrap(), y.parse().unwrap());
            let n: u32 = rest.split_once('v').unwrap().0.parse().unwrap();
            assert_eq!(rest, format!("{n}v1h-{n}z"));
            for px in x * 4..(x + n) * 4 {
                for py in y * 4..(y + 1) * 4 {
                    image.put_pixel(px, py, image::Luma([0]));
                }
            }
        }
        image
    }

    fn between<'a>(s: &'a str, from: &str, to: &str) -> &'a str {
        let start = s.find(from).unwrap() + from.len();
        &s[start..start + s[start..].find(to).unwrap()]
    }

    #[test]
    fn svg_path_round_trips_through_an_independent_decoder() {
        for uri in uris().iter().take(5).map(String::as_str).chain([URI]) {
            let mut prepared = rqrr::PreparedImage::prepare(rasterize_svg(&svg(uri).unwrap()));
            let grids = prepared.detect_grids();
            assert_eq!(grids.len(), 1);
            assert_eq!(grids[0].decode().unwrap().1, uri);
        }
    }

    #[test]
    fn svg_is_one_path_of_merged_runs() {
        let markup = svg(URI).unwrap();
        assert_eq!(markup.matches("<path").count(), 1);
        let code = encode(URI).unwrap();
        let runs = markup.matches('M').count();
        let dark = code.dark.iter().filter(|d| **d).count();
        // Each run is at least one module, and runs of two or more are common.
        assert!(runs < dark * 2 / 3, "{runs} runs for {dark} dark modules");
        assert!(markup.len() < 12_000, "{} bytes", markup.len());
    }

    #[test]
    fn svg_is_inline_markup_with_viewbox() {
        let markup = svg(URI).unwrap();
        assert!(markup.starts_with("<svg"), "{}", &markup[..60]);
        assert!(!markup.contains("<?xml"));
        assert!(markup.contains("viewBox=\"0 0 "));
        assert!(markup.contains("fill=\"#000000\""));
        assert!(markup.contains("fill=\"#ffffff\""));
        assert!(markup.ends_with("</svg>"));
    }

    #[test]
    fn too_long_is_an_error() {
        let huge = "x".repeat(5000);
        assert!(matches!(svg(&huge), Err(QrError::TooLong)));
        assert!(matches!(png(&huge), Err(QrError::TooLong)));
    }
}
