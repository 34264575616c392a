//! A baseline JPEG at 1/8 of its size, from the DC coefficients alone.
//!
//! The DC coefficient of each 8 x 8 block is the block's mean, so the 1/8-scale image is
//! the DC coefficients, dequantised: no inverse DCT, no full-size buffer. The scan must
//! still be entropy-decoded to find where each block ends, but the AC coefficients are
//! only skipped, never stored. `jpeg-decoder` (what the bigger scales use) computes
//! exactly the same values when asked for 1/8 (`dequantize_and_idct_block_1x1`) but
//! stores every coefficient, runs each block through its IDCT stage and hands rows to
//! worker threads: on 24 MP camera JPEGs this reader takes two thirds of its time
//! (`benches/camera_jpeg.rs`).
//!
//! Only what this fast path needs is read: 8-bit baseline or extended Huffman frames with
//! one (grey) or three (YCbCr or RGB) components, any sampling factors, interleaved or
//! not, with restart intervals. Anything else (progressive, arithmetic coding, 12-bit,
//! CMYK, a truncated or damaged scan) gives `None`, and the caller uses the full decoder,
//! which reads it or reports it. Every read is bounds-checked; there is no `unsafe`.

/// An RGB8 image, `width * height * 3` bytes, rows top to bottom.
pub struct DcImage {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

/// `jpeg` at 1/8 of its size (each side rounded up, as `jpeg-decoder` scales), or `None`
/// when this reader does not handle the file (see the module's documentation).
pub fn decode_eighth(jpeg: &[u8]) -> Option<DcImage> {
    let mut parser = Parser::default();
    let mut pos = 2;
    if jpeg.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    loop {
        let (marker, body, next) = segment(jpeg, pos)?;
        pos = next;
        match marker {
            0xC0 | 0xC1 => parser.frame(body)?,
            // Progressive, lossless, hierarchical or arithmetic-coded frames.
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xC4 => parser.huffman_tables(body)?,
            0xDB => parser.quantisation_tables(body)?,
            0xDD => parser.restart_interval = u16::from_be_bytes([*body.first()?, *body.get(1)?]),
            0xEE => parser.adobe_app14(body),
            0xE0 if body.starts_with(b"JFIF\0") => parser.jfif = true,
            0xDA => {
                let end = parser.scan(body, jpeg, pos)?;
                pos = end;
                if parser.scans_done() {
                    return parser.finish();
                }
            }
            0xD9 => return None, // EOI before every component was decoded.
            _ => {}
        }
    }
}

/// The marker at `pos`, its segment's body and where the next marker starts.
fn segment(jpeg: &[u8], mut pos: usize) -> Option<(u8, &[u8], usize)> {
    // Fill bytes (0xFF repeated) may precede a marker.
    while *jpeg.get(pos)? == 0xFF && *jpeg.get(pos + 1)? == 0xFF {
        pos += 1;
    }
    if *jpeg.get(pos)? != 0xFF {
        return None;
    }
    let marker = *jpeg.get(pos + 1)?;
    if marker == 0xD9 || (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
        return Some((marker, &[], pos + 2));
    }
    let length = usize::from(u16::from_be_bytes([
        *jpeg.get(pos + 2)?,
        *jpeg.get(pos + 3)?,
    ]));
    let body = jpeg.get(pos + 4..(pos + 2).checked_add(length)?)?;
    Some((marker, body, pos + 2 + length))
}

#[derive(Clone, Copy)]
struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant: usize,
    /// Blocks across and down, padded to whole MCUs.
    blocks_w: usize,
    blocks_h: usize,
}

#[derive(Default)]
struct Parser {
    width: usize,
    height: usize,
    components: Vec<Component>,
    /// The DC (first) entry of each quantisation table.
    quant_dc: [Option<u16>; 4],
    dc_tables: [Option<Huffman>; 4],
    ac_tables: [Option<Huffman>; 4],
    restart_interval: u16,
    jfif: bool,
    adobe_transform: Option<u8>,
    /// Each component's DC values, one per block, `blocks_w * blocks_h`.
    planes: Vec<Vec<i32>>,
    /// Each component's DC quantiser, as it was when its scan was decoded.
    dc_quant: Vec<i32>,
    decoded: Vec<bool>,
    mcus_w: usize,
    mcus_h: usize,
    h_max: usize,
    v_max: usize,
}

impl Parser {
    fn frame(&mut self, body: &[u8]) -> Option<()> {
        if !self.components.is_empty() || *body.first()? != 8 {
            return None;
        }
        self.height = usize::from(u16::from_be_bytes([*body.get(1)?, *body.get(2)?]));
        self.width = usize::from(u16::from_be_bytes([*body.get(3)?, *body.get(4)?]));
        let count = usize::from(*body.get(5)?);
        if self.width == 0 || self.height == 0 || !(count == 1 || count == 3) {
            return None;
        }
        // Bounded work and memory on any file (the caller checks its own limit first;
        // a larger picture is left to the full decoder, which checks it again).
        if (self.width * self.height) as u64 > crate::read::limits::DEFAULT_MAX_PIXELS {
            return None;
        }
        for i in 0..count {
            let spec = body.get(6 + 3 * i..9 + 3 * i)?;
            let (h, v) = (usize::from(spec[1] >> 4), usize::from(spec[1] & 15));
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) || spec[2] > 3 {
                return None;
            }
            self.components.push(Component {
                id: spec[0],
                h,
                v,
                quant: usize::from(spec[2]),
                blocks_w: 0,
                blocks_h: 0,
            });
        }
        // A single-component frame is never interleaved: its MCU is one block.
        if count == 1 {
            self.components[0].h = 1;
            self.components[0].v = 1;
        }
        self.h_max = self.components.iter().map(|c| c.h).max()?;
        self.v_max = self.components.iter().map(|c| c.v).max()?;
        self.mcus_w = self.width.div_ceil(8 * self.h_max);
        self.mcus_h = self.height.div_ceil(8 * self.v_max);
        for c in &mut self.components {
            c.blocks_w = self.mcus_w * c.h;
            c.blocks_h = self.mcus_h * c.v;
        }
        self.planes = self
            .components
            .iter()
            .map(|c| vec![0; c.blocks_w * c.blocks_h])
            .collect();
        self.decoded = vec![false; count];
        self.dc_quant = vec![0; count];
        Some(())
    }

    fn huffman_tables(&mut self, mut body: &[u8]) -> Option<()> {
        while !body.is_empty() {
            let (class, id) = (body[0] >> 4, usize::from(body[0] & 15));
            let counts: [u8; 16] = body.get(1..17)?.try_into().ok()?;
            let total: usize = counts.iter().map(|&n| usize::from(n)).sum();
            let symbols = body.get(17..17 + total)?;
            let table = Some(Huffman::new(&counts, symbols)?);
            match (class, id) {
                (0, 0..=3) => self.dc_tables[id] = table,
                (1, 0..=3) => self.ac_tables[id] = table,
                _ => return None,
            }
            body = &body[17 + total..];
        }
        Some(())
    }

    fn quantisation_tables(&mut self, mut body: &[u8]) -> Option<()> {
        while !body.is_empty() {
            let (precision, id) = (body[0] >> 4, usize::from(body[0] & 15));
            let (dc, size) = match precision {
                0 => (u16::from(*body.get(1)?), 65),
                1 => (u16::from_be_bytes([*body.get(1)?, *body.get(2)?]), 129),
                _ => return None,
            };
            *self.quant_dc.get_mut(id)? = Some(dc);
            body = body.get(size..)?;
        }
        Some(())
    }

    fn adobe_app14(&mut self, body: &[u8]) {
        if body.len() >= 12 && body.starts_with(b"Adobe") {
            self.adobe_transform = Some(body[11]);
        }
    }

    /// Decodes the scan whose header is `header` and whose data starts at `data_start`;
    /// returns where the data ends (the next marker that is not a restart).
    fn scan(&mut self, header: &[u8], jpeg: &[u8], data_start: usize) -> Option<usize> {
        let count = usize::from(*header.first()?);
        if self.components.is_empty() || count == 0 || count > self.components.len() {
            return None;
        }
        let mut members = Vec::with_capacity(count);
        for i in 0..count {
            let spec = header.get(1 + 2 * i..3 + 2 * i)?;
            let index = self.components.iter().position(|c| c.id == spec[0])?;
            let dc = self.dc_tables.get(usize::from(spec[1] >> 4))?.as_ref()?;
            let ac = self.ac_tables.get(usize::from(spec[1] & 15))?.as_ref()?;
            members.push((index, dc, ac));
        }
        let mut reader = BitReader::new(jpeg, data_start);
        let mut predictions = vec![0i32; count];
        // An interleaved scan walks MCUs of h x v blocks per component; a scan of one
        // component walks that component's blocks that hold image pixels.
        let (units_w, units_h) = if count == 1 {
            let c = &self.components[members[0].0];
            (
                (self.width * c.h).div_ceil(8 * self.h_max),
                (self.height * c.v).div_ceil(8 * self.v_max),
            )
        } else {
            (self.mcus_w, self.mcus_h)
        };
        let restart = usize::from(self.restart_interval);
        for unit in 0..units_w * units_h {
            // Data used up (a file cut short, or a header claiming a huge picture for a
            // few bytes of data): give up now, not after every block of zeros.
            if reader.overran() {
                return None;
            }
            if restart > 0 && unit > 0 && unit % restart == 0 {
                reader.restart()?;
                predictions.iter_mut().for_each(|p| *p = 0);
            }
            let (ux, uy) = (unit % units_w, unit / units_w);
            for (slot, &(index, dc, ac)) in members.iter().enumerate() {
                let c = self.components[index];
                let (h, v) = if count == 1 { (1, 1) } else { (c.h, c.v) };
                for by in 0..v {
                    for bx in 0..h {
                        let size = dc.decode(&mut reader)?;
                        if size > 11 {
                            return None;
                        }
                        predictions[slot] += extend(reader.bits(size), size);
                        skip_ac(&mut reader, ac)?;
                        let (x, y) = (ux * h + bx, uy * v + by);
                        *self.planes[index].get_mut(y * c.blocks_w + x)? = predictions[slot];
                    }
                }
            }
        }
        for &(index, _, _) in &members {
            self.decoded[index] = true;
            self.dc_quant[index] = i32::from(self.quant_dc[self.components[index].quant]?);
        }
        reader.end()
    }

    fn scans_done(&self) -> bool {
        self.decoded.iter().all(|&d| d)
    }

    /// The decoded planes as RGB8, 1/8 size, chroma repeated to the luma's resolution.
    fn finish(&self) -> Option<DcImage> {
        let (width, height) = (self.width.div_ceil(8), self.height.div_ceil(8));
        // Each component's sample levels, as jpeg-decoder's 1x1 IDCT gives them:
        // (dc * q + 1024) / 8, clamped.
        let levels: Vec<Vec<u8>> = self
            .planes
            .iter()
            .zip(&self.dc_quant)
            .map(|(plane, &q)| {
                plane
                    .iter()
                    .map(|&dc| ((dc * q + 1024) / 8).clamp(0, 255) as u8)
                    .collect()
            })
            .collect();
        // For each component, the block column of every output column.
        let columns: Vec<Vec<usize>> = self
            .components
            .iter()
            .map(|c| (0..width).map(|x| x * c.h / self.h_max).collect())
            .collect();
        let row = |index: usize, y: usize| -> Option<(&[u8], &[usize])> {
            let c = &self.components[index];
            let by = y * c.v / self.v_max;
            let line = levels[index].get(by * c.blocks_w..(by + 1) * c.blocks_w)?;
            Some((line, &columns[index]))
        };
        let transform = self.colour_transform()?;
        let mut rgb = Vec::with_capacity(width * height * 3);
        for y in 0..height {
            let rows: Vec<(&[u8], &[usize])> = (0..self.components.len())
                .map(|i| row(i, y))
                .collect::<Option<_>>()?;
            let at = |i: usize, x: usize| rows[i].0.get(rows[i].1[x]).copied();
            for x in 0..width {
                let pixel = match transform {
                    Transform::Grey => {
                        let l = at(0, x)?;
                        [l, l, l]
                    }
                    Transform::Rgb => [at(0, x)?, at(1, x)?, at(2, x)?],
                    Transform::YCbCr => ycbcr_to_rgb(at(0, x)?, at(1, x)?, at(2, x)?),
                };
                rgb.extend_from_slice(&pixel);
            }
        }
        Some(DcImage {
            width: u32::try_from(width).ok()?,
            height: u32::try_from(height).ok()?,
            rgb,
        })
    }

    /// What the three components are, as `jpeg-decoder` decides it (component ids, then
    /// JFIF, then Adobe's transform flag); `None` for the rare big-gamut variants.
    fn colour_transform(&self) -> Option<Transform> {
        if self.components.len() == 1 {
            return Some(Transform::Grey);
        }
        let ids: Vec<u8> = self.components.iter().map(|c| c.id).collect();
        match ids[..] {
            [1, 2, 3] => return Some(Transform::YCbCr),
            [82, 71, 66] => return Some(Transform::Rgb),
            [1, 34, 35] | [114, 103, 98] => return None,
            _ => {}
        }
        if self.jfif {
            return Some(Transform::YCbCr);
        }
        match self.adobe_transform {
            Some(0) => Some(Transform::Rgb),
            _ => Some(Transform::YCbCr),
        }
    }
}

#[derive(Clone, Copy)]
enum Transform {
    Grey,
    Rgb,
    YCbCr,
}

/// JFIF's YCbCr to RGB, in the fixed point `jpeg-decoder` uses.
fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    const SHIFT: i32 = 20;
    const HALF: i32 = 1 << (SHIFT - 1);
    let fix = |x: f32| (x * (1 << SHIFT) as f32 + 0.5) as i32;
    let y = i32::from(y) << SHIFT;
    let (cb, cr) = (i32::from(cb) - 128, i32::from(cr) - 128);
    let clamp = |v: i32| ((v + HALF) >> SHIFT).clamp(0, 255) as u8;
    [
        clamp(y + fix(1.40200) * cr),
        clamp(y - fix(0.34414) * cb - fix(0.71414) * cr),
        clamp(y + fix(1.77200) * cb),
    ]
}

/// The value of `size` magnitude bits (JPEG's EXTEND).
fn extend(bits: u32, size: u8) -> i32 {
    if size == 0 {
        return 0;
    }
    let bits = bits as i32;
    if bits < 1 << (size - 1) {
        bits - (1 << size) + 1
    } else {
        bits
    }
}

/// Reads past one block's 63 AC coefficients.
fn skip_ac(reader: &mut BitReader, table: &Huffman) -> Option<()> {
    let mut k = 1;
    while k < 64 {
        reader.fill();
        // After a fill at least 57 bits are buffered: five coefficients whose code and
        // magnitude fit the lookup (at most 10 bits each) are skipped from registers.
        let (mut buffer, mut count) = (reader.buffer, reader.count);
        let mut slow = false;
        for _ in 0..5 {
            let skip = table.ac_skip[(buffer >> (64 - LOOKUP_BITS)) as usize & LOOKUP_MASK];
            if skip.bits == 0 {
                slow = true;
                break;
            }
            buffer <<= skip.bits;
            count -= skip.bits;
            if skip.coefficients == 0 {
                (reader.buffer, reader.count) = (buffer, count);
                return Some(()); // End of block.
            }
            k += usize::from(skip.coefficients);
            if k >= 64 {
                break;
            }
        }
        (reader.buffer, reader.count) = (buffer, count);
        if !slow || k >= 64 {
            continue;
        }
        let symbol = table.decode(reader)?;
        let (run, size) = (symbol >> 4, symbol & 15);
        if size == 0 {
            if run != 15 {
                return Some(());
            }
            k += 16;
        } else {
            reader.fill();
            reader.consume(size);
            k += usize::from(run) + 1;
        }
    }
    (k == 64).then_some(())
}

const LOOKUP_BITS: u8 = 10;
const LOOKUP_MASK: usize = (1 << LOOKUP_BITS) - 1;

/// What a code and the magnitude bits after it come to, when both fit the lookup.
#[derive(Clone, Copy, Default)]
struct AcSkip {
    /// Bits to drop (0: not in the lookup).
    bits: u8,
    /// Coefficients passed (0: end of block).
    coefficients: u8,
}

/// A canonical Huffman table: codes of up to `LOOKUP_BITS` bits in one lookup, longer
/// ones by length.
struct Huffman {
    /// For each prefix: (code length, symbol); length 0 means a longer code.
    lookup: Vec<(u8, u8)>,
    /// For each prefix, read as an AC table: the whole coefficient, when it fits.
    ac_skip: Vec<AcSkip>,
    /// For each length 1..=16: the largest code of that length, plus one (0: none).
    max_code: [u32; 17],
    /// For each length: index in `symbols` of its first code, minus that code.
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Self> {
        let mut lookup = vec![(0u8, 0u8); 1 << LOOKUP_BITS];
        let mut ac_skip = vec![AcSkip::default(); 1 << LOOKUP_BITS];
        let mut max_code = [0u32; 17];
        let mut offset = [0i32; 17];
        let mut code = 0u32;
        let mut index = 0usize;
        for length in 1..=16u8 {
            let n = usize::from(counts[usize::from(length) - 1]);
            offset[usize::from(length)] = index as i32 - code as i32;
            for _ in 0..n {
                if code >= 1 << length {
                    return None; // More codes than this length can hold.
                }
                let symbol = *symbols.get(index)?;
                if length <= LOOKUP_BITS {
                    let shift = LOOKUP_BITS - length;
                    let first = (code << shift) as usize;
                    lookup[first..first + (1 << shift)].fill((length, symbol));
                    let (run, size) = (symbol >> 4, symbol & 15);
                    let skip = match (run, size) {
                        (15, 0) => AcSkip {
                            bits: length,
                            coefficients: 16,
                        },
                        (_, 0) => AcSkip {
                            bits: length,
                            coefficients: 0,
                        },
                        _ if length + size <= LOOKUP_BITS => AcSkip {
                            bits: length + size,
                            coefficients: run + 1,
                        },
                        _ => AcSkip::default(),
                    };
                    ac_skip[first..first + (1 << shift)].fill(skip);
                }
                code += 1;
                index += 1;
            }
            max_code[usize::from(length)] = if n > 0 { code } else { 0 };
            code <<= 1;
        }
        Some(Self {
            lookup,
            ac_skip,
            max_code,
            offset,
            symbols: symbols.to_vec(),
        })
    }

    fn decode(&self, reader: &mut BitReader) -> Option<u8> {
        reader.fill();
        let (length, symbol) = self.lookup[reader.peek(LOOKUP_BITS) as usize];
        if length > 0 {
            reader.consume(length);
            return Some(symbol);
        }
        for length in LOOKUP_BITS + 1..=16 {
            let code = reader.peek(length);
            if code < self.max_code[usize::from(length)] {
                reader.consume(length);
                let at = self.offset[usize::from(length)] + code as i32;
                return self.symbols.get(usize::try_from(at).ok()?).copied();
            }
        }
        None
    }
}

/// Bits of entropy-coded data, with byte stuffing (0xFF 0x00) undone, stopping at a
/// marker. Past the marker it reads zeros and counts them (`padding`): a sound scan
/// never uses them, which `marker_position` checks, so the hot path has no check.
struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Bits not yet consumed, the next one at the top.
    buffer: u64,
    count: u8,
    /// A marker was reached: no more data bits (zeros are shifted in instead).
    at_marker: bool,
    padding: u8,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Self {
            data,
            pos,
            buffer: 0,
            count: 0,
            at_marker: false,
            padding: 0,
        }
    }

    /// Tops the buffer up to at least 57 bits.
    #[inline]
    fn fill(&mut self) {
        if self.count > 56 {
            return;
        }
        // Fast path: the next eight bytes hold no 0xFF (no stuffing, no marker).
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8)
            && let Ok(bytes) = <[u8; 8]>::try_from(chunk)
        {
            let word = u64::from_be_bytes(bytes);
            let has_ff = (!word).wrapping_sub(0x0101_0101_0101_0101) & word & 0x8080_8080_8080_8080;
            if has_ff == 0 {
                let n = (64 - u32::from(self.count)) / 8;
                let taken = if n == 8 {
                    word
                } else {
                    word >> (64 - 8 * n) << (64 - 8 * n)
                };
                self.buffer |= taken >> self.count;
                self.count += (8 * n) as u8;
                self.pos += n as usize;
                return;
            }
        }
        self.fill_slowly();
    }

    fn fill_slowly(&mut self) {
        while self.count <= 56 {
            let mut byte = 0;
            if !self.at_marker {
                match (self.data.get(self.pos), self.data.get(self.pos + 1)) {
                    (Some(0xFF), Some(0x00)) => {
                        byte = 0xFF;
                        self.pos += 2;
                    }
                    (Some(0xFF), _) | (None, _) => self.at_marker = true,
                    (Some(&b), _) => {
                        byte = b;
                        self.pos += 1;
                    }
                }
            }
            if self.at_marker {
                self.padding = self.padding.saturating_add(8);
            }
            self.buffer |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    #[inline]
    fn peek(&self, n: u8) -> u32 {
        (self.buffer >> (64 - u32::from(n))) as u32
    }

    /// Drops `n` bits (after `fill`, at most 57).
    #[inline]
    fn consume(&mut self, n: u8) {
        self.buffer <<= n;
        self.count = self.count.saturating_sub(n);
    }

    fn bits(&mut self, n: u8) -> u32 {
        if n == 0 {
            return 0;
        }
        self.fill();
        let value = self.peek(n);
        self.consume(n);
        value
    }

    /// Expects a restart marker: drops the rest of the byte and the marker.
    fn restart(&mut self) -> Option<()> {
        let marker = self.marker_position()?;
        let code = *self.data.get(marker + 1)?;
        if !(0xD0..=0xD7).contains(&code) {
            return None;
        }
        *self = Self::new(self.data, marker + 2);
        Some(())
    }

    /// Whether the decoding used bits past the data (see [`Self::marker_position`]).
    #[inline]
    fn overran(&self) -> bool {
        self.padding > self.count
    }

    /// Where the scan's data ends: the marker after it.
    fn end(&mut self) -> Option<usize> {
        self.marker_position()
    }

    /// The position of the marker that ends the data read so far, or `None` when the
    /// decoding used bits past it (a truncated or damaged scan).
    fn marker_position(&mut self) -> Option<usize> {
        if self.overran() {
            return None;
        }
        while !self.at_marker {
            self.buffer = 0;
            self.count = 0;
            self.fill_slowly();
        }
        (self.data.get(self.pos) == Some(&0xFF)).then_some(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_follows_the_standard() {
        assert_eq!(extend(0, 1), -1);
        assert_eq!(extend(1, 1), 1);
        assert_eq!(extend(0b010, 3), -5);
        assert_eq!(extend(0b110, 3), 6);
        assert_eq!(extend(0, 0), 0);
    }

    /// A textured 203 x 117 test card (odd sizes: partial blocks and MCUs on both edges).
    fn card() -> (u16, u16, Vec<u8>) {
        let (w, h) = (203u16, 117u16);
        let mut rgb = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
        for y in 0..h {
            for x in 0..w {
                let (fx, fy) = (f32::from(x), f32::from(y));
                rgb.push((128.0 + 100.0 * (fx * 0.05).sin() * (fy * 0.03).cos()) as u8);
                rgb.push(((fx + fy) * 0.8) as u8);
                rgb.push((255.0 - fy * 2.0).max(0.0) as u8);
            }
        }
        (w, h, rgb)
    }

    /// Every baseline layout decodes here (not through the fallback) to what
    /// `jpeg-decoder` gives at 1/8; progressive files are left to it.
    #[test]
    fn baseline_layouts_decode_like_jpeg_decoder_at_one_eighth() {
        use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
        let (w, h, rgb) = card();
        let grey: Vec<u8> = rgb.chunks(3).map(|p| p[1]).collect();
        let layouts = [
            ("4:4:4", SamplingFactor::R_4_4_4, 0, false, false),
            ("4:2:0", SamplingFactor::R_4_2_0, 0, false, false),
            ("4:2:2, restart 3", SamplingFactor::R_4_2_2, 3, false, false),
            ("grey, restart 1", SamplingFactor::R_4_4_4, 1, false, true),
            ("progressive", SamplingFactor::R_4_2_0, 0, true, false),
        ];
        for (name, sampling, restart, progressive, is_grey) in layouts {
            let mut bytes = Vec::new();
            let mut encoder = Encoder::new(&mut bytes, 90);
            encoder.set_sampling_factor(sampling);
            encoder.set_restart_interval(restart);
            encoder.set_progressive(progressive);
            if is_grey {
                encoder.encode(&grey, w, h, ColorType::Luma).unwrap();
            } else {
                encoder.encode(&rgb, w, h, ColorType::Rgb).unwrap();
            }
            let decoded = decode_eighth(&bytes);
            if progressive {
                assert!(decoded.is_none(), "{name}");
                continue;
            }
            let image = decoded.unwrap_or_else(|| panic!("{name}: not decoded"));
            assert_eq!((image.width, image.height), (26, 15), "{name}");
            let mut reference = jpeg_decoder::Decoder::new(bytes.as_slice());
            reference.scale(26, 15).unwrap();
            let mut pixels = reference.decode().unwrap();
            if is_grey {
                pixels = pixels.iter().flat_map(|&v| [v; 3]).collect();
            }
            assert_eq!(pixels.len(), image.rgb.len(), "{name}");
            let worst = image
                .rgb
                .iter()
                .zip(&pixels)
                .map(|(a, b)| a.abs_diff(*b))
                .max();
            // Subsampled chroma is repeated here, interpolated there.
            let allowed = if name.starts_with("4:4:4") || is_grey {
                1
            } else {
                24
            };
            assert!(
                worst <= Some(allowed),
                "{name}: a level differs by {worst:?}"
            );
        }
    }

    #[test]
    fn not_a_jpeg_or_a_broken_one_is_none() {
        assert!(decode_eighth(b"").is_none());
        assert!(decode_eighth(b"\x89PNG\r\n").is_none());
        assert!(decode_eighth(&[0xFF, 0xD8, 0xFF, 0xC0, 0x00]).is_none());
    }
}
