//! QR codes for enrollment URIs, drawn in-process (SEC-2): the `otpauth://` URI carries the
//! secret, so it must never be sent to a third-party QR service.
//!
//! Error correction level M (15 % recovery): enough for a photographed screen, while keeping a
//! ~120-character URI at a version phones read easily. Both renderings keep the 4-module quiet
//! zone scanners need to find the code.

use std::io::Cursor;

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Pixels per module: a default display size for the SVG (which scales through its viewBox) and
/// the PNG's resolution, comfortably above the 4 px phones need from a screen.
const MODULE_PX: u32 = 8;

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("data too long for a QR code")]
    TooLong,
    #[error("png encoding: {0}")]
    Png(String),
}

fn encode(data: &str) -> Result<QrCode, QrError> {
    // With an automatic version and plain bytes, running out of capacity is the only way the
    // encoder can fail; its other errors concern explicit versions or Kanji/ECI segments.
    QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).map_err(|_| QrError::TooLong)
}

/// SVG markup for inline use in HTML or JSON: no XML prolog, a viewBox so it scales, quiet zone
/// kept, dark modules black on white.
pub fn svg(data: &str) -> Result<String, QrError> {
    let markup = encode(data)?
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .module_dimensions(MODULE_PX, MODULE_PX)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // qrcode writes a standalone document; an `<?xml …?>` prolog is invalid inside HTML. Its
    // opening tag already carries a viewBox (0.14), which the tests pin.
    Ok(match markup.find("<svg") {
        Some(start) => markup[start..].to_owned(),
        None => markup,
    })
}

/// PNG bytes (8-bit grayscale), `MODULE_PX` pixels per module, quiet zone kept.
pub fn png(data: &str) -> Result<Vec<u8>, QrError> {
    let image = encode(data)?
        .render::<image::Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(MODULE_PX, MODULE_PX)
        .build();
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| QrError::Png(e.to_string()))?;
    Ok(out.into_inner())
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
