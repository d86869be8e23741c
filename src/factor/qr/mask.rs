//! Choosing the mask: the same rules and the same choice as `qrcode`'s `apply_best_mask`. The
//! crate scores each of the eight masked canvases module by module through closures and boxed
//! iterators, which made the choice ~1 ms of a 1.1 ms enrollment QR. Here each row and column is
//! a 128-bit word and the rules are shifts, masks and popcounts (a code of up to 128 modules a
//! side: version 27, far above any enrollment URI); larger codes are scored module by module.
//! The scores are the crate's (a test compares the codes module by module).

use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::types::Color;

/// ISO/IEC 18004 order; the first of equal scores wins, as in `qrcode`.
const PATTERNS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// The dark modules, row by row, of `canvas` under the mask with the lowest penalty.
pub(super) fn best(canvas: &Canvas, width: usize) -> Vec<bool> {
    let mut best: Option<(u32, Vec<bool>)> = None;
    for pattern in PATTERNS {
        let mut masked = canvas.clone();
        masked.apply_mask(pattern);
        let dark: Vec<bool> = masked
            .into_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        let score = match Lines::of(&dark, width) {
            Some(lines) => lines.penalty(),
            None => penalty(&dark, width),
        };
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((score, dark));
        }
    }
    best.map(|(_, dark)| dark).unwrap_or_default()
}

/// The rows and the columns of a code as bit words: module `k` of a line is bit `k`.
struct Lines {
    rows: Vec<u128>,
    columns: Vec<u128>,
    width: usize,
}

impl Lines {
    fn of(dark: &[bool], width: usize) -> Option<Lines> {
        if !(7..=128).contains(&width) {
            return None;
        }
        let (mut rows, mut columns) = (vec![0u128; width], vec![0u128; width]);
        // Branch-free: which modules are dark is as good as random.
        for (y, row) in dark.chunks_exact(width).enumerate() {
            let mut word = 0;
            for (x, d) in row.iter().enumerate() {
                let bit = u128::from(*d);
                word |= bit << x;
                columns[x] |= bit << y;
            }
            rows[y] = word;
        }
        Some(Lines {
            rows,
            columns,
            width,
        })
    }

    /// The four rules of [`penalty`], on words.
    fn penalty(&self) -> u32 {
        let w = self.width;
        let mut score = 0;
        for line in self.rows.iter().chain(&self.columns) {
            score += runs(*line, w) + finders(*line, w);
        }
        score = score.saturating_sub(2 * 360);
        // Rule 2: bit k of `same` says modules k and k + 1 of a line match.
        let inner = (1u128 << (w - 1)) - 1;
        let same = |r: u128| !(r ^ (r >> 1)) & inner;
        for pair in self.rows.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            score += 3 * (same(a) & same(b) & !(a ^ b)).count_ones();
        }
        let dark: u32 = self.rows.iter().map(|r| r.count_ones()).sum();
        let total = u32::try_from(w * w).unwrap_or(u32::MAX);
        score + (dark * 200 / total).abs_diff(100)
    }
}

/// Rule 1 on one line: a run of 5 + n modules of one colour costs 3 + n.
fn runs(line: u128, w: usize) -> u32 {
    // Bit k: a run ends at module k (the next differs, or the line ends).
    let mut ends = ((line ^ (line >> 1)) & ((1u128 << (w - 1)) - 1)) | (1u128 << (w - 1));
    let (mut score, mut start) = (0, 0);
    while ends != 0 {
        let end = ends.trailing_zeros();
        let run = end + 1 - start;
        if run >= 5 {
            score += run - 2;
        }
        start = end + 1;
        ends &= ends - 1;
    }
    score
}

/// Rule 3 on one line: dark light dark dark dark light dark, with no dark module among the four
/// before it or among the four after it (the edge counts as light), costs 40.
fn finders(line: u128, w: usize) -> u32 {
    let l = line;
    let starts = (1u128 << (w - 6)) - 1;
    let found = l & !(l >> 1) & (l >> 2) & (l >> 3) & (l >> 4) & !(l >> 5) & (l >> 6) & starts;
    let dark_before = (l << 1) | (l << 2) | (l << 3) | (l << 4);
    let dark_after = (l >> 7) | (l >> 8) | (l >> 9) | (l >> 10);
    40 * (found & !(dark_before & dark_after)).count_ones()
}

/// The four penalty rules, scored module by module as `qrcode` 0.14 scores them.
fn penalty(dark: &[bool], w: usize) -> u32 {
    let at = |x: usize, y: usize| dark[y * w + x];
    let mut score: u32 = 0;
    for horizontal in [true, false] {
        let line = |i: usize, j: usize| if horizontal { at(j, i) } else { at(i, j) };
        for i in 0..w {
            // Rule 1: a run of 5 + n modules of one colour costs 3 + n.
            let mut run: u32 = 1;
            for j in 1..=w {
                if j < w && line(i, j) == line(i, j - 1) {
                    run += 1;
                } else {
                    if run >= 5 {
                        score += run - 2;
                    }
                    run = 1;
                }
            }
            // Rule 3: 1:1:3:1:1 (dark light dark dark dark light dark) with four light modules
            // (or the edge) on at least one side costs 40.
            for j in 0..w.saturating_sub(6) {
                let finder = line(i, j)
                    && !line(i, j + 1)
                    && line(i, j + 2)
                    && line(i, j + 3)
                    && line(i, j + 4)
                    && !line(i, j + 5)
                    && line(i, j + 6);
                if !finder {
                    continue;
                }
                let dark_before = (j.saturating_sub(4)..j).any(|k| line(i, k));
                let dark_after = (j + 7..(j + 11).min(w)).any(|k| line(i, k));
                if !dark_before || !dark_after {
                    score += 40;
                }
            }
        }
    }
    // The three finder patterns match rule 3 on three lines each way: `qrcode` subtracts them.
    score = score.saturating_sub(2 * 360);
    // Rule 2: each 2×2 block of one colour (overlaps counted) costs 3.
    for y in 0..w.saturating_sub(1) {
        for x in 0..w - 1 {
            let c = at(x, y);
            if at(x + 1, y) == c && at(x, y + 1) == c && at(x + 1, y + 1) == c {
                score += 3;
            }
        }
    }
    // Rule 4: the distance of the dark share from one half, linearly (not in 5 % steps).
    let total = dark.len().max(1);
    let ratio = dark.iter().filter(|d| **d).count() * 200 / total;
    score + u32::try_from(ratio.abs_diff(100)).unwrap_or(u32::MAX)
}
