//! Streams of any size generated as they are read (never stored): a list
//! of segments, each fixed bytes or bytes computed from their offset. They
//! read and seek like a file.

use std::io::{self, Read, Seek, SeekFrom};

/// Fills `out` with the segment's bytes from offset `at` on.
pub type Fill = Box<dyn Fn(u64, &mut [u8]) + Send>;

pub enum Segment {
    Bytes(Vec<u8>),
    Gen { len: u64, fill: Fill },
}

impl Segment {
    fn len(&self) -> u64 {
        match self {
            Segment::Bytes(b) => b.len() as u64,
            Segment::Gen { len, .. } => *len,
        }
    }
}

pub struct GenStream {
    segs: Vec<Segment>,
    pos: u64,
    len: u64,
}

impl GenStream {
    pub fn new(segs: Vec<Segment>) -> Self {
        let len = segs.iter().map(Segment::len).sum();
        GenStream { segs, pos: 0, len }
    }

    pub fn len(&self) -> u64 {
        self.len
    }
}

impl Read for GenStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut start = 0u64;
        for s in &self.segs {
            let end = start + s.len();
            if self.pos < end {
                let at = self.pos - start;
                let n = ((end - self.pos) as usize).min(buf.len());
                match s {
                    Segment::Bytes(b) => {
                        buf[..n].copy_from_slice(&b[at as usize..at as usize + n]);
                    }
                    Segment::Gen { fill, .. } => fill(at, &mut buf[..n]),
                }
                self.pos += n as u64;
                return Ok(n);
            }
            start = end;
        }
        Ok(0)
    }
}

impl Seek for GenStream {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let p = match to {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::End(d) => self.len as i128 + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if p < 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "before start"));
        }
        self.pos = p as u64;
        Ok(self.pos)
    }
}

pub fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

/// A FULL section header.
pub fn full_header(out: &mut Vec<u8>, id: u32, idstr: &str, instance: u32, version: u32) {
    out.push(0x04);
    out.extend_from_slice(&be32(id));
    out.push(idstr.len() as u8);
    out.extend_from_slice(idstr.as_bytes());
    out.extend_from_slice(&be32(instance));
    out.extend_from_slice(&be32(version));
}

pub fn footer(out: &mut Vec<u8>, id: u32) {
    out.push(0x7e);
    out.extend_from_slice(&be32(id));
}

/// EOF and a vmdesc trailer of `devices` (JSON objects).
pub fn eof_and_trailer(devices: &[String]) -> Vec<u8> {
    let json = format!(
        "{{\"page_size\": 4096, \"devices\": [{}]}}",
        devices.join(", ")
    );
    let mut out = vec![0x00, 0x06];
    out.extend_from_slice(&be32(json.len() as u32));
    out.extend_from_slice(json.as_bytes());
    out
}

/// The vmdesc entry of a device with fields given as JSON.
pub fn device(name: &str, instance: u32, fields: &str) -> String {
    format!(
        "{{\"name\": \"{name}\", \"instance_id\": {instance}, \"vmsd_name\": \"{name}\", \"version\": 1, \"fields\": [{fields}]}}"
    )
}

pub const HEADER: [u8; 8] = [b'Q', b'E', b'V', b'M', 0, 0, 0, 3];

/// A stream whose RAM section is `zero_pages` zero-page records (9 bytes
/// each) before its EOS, then one device section `d` (a `uint8` field `x`).
pub fn zero_pages(zero_pages: u64) -> GenStream {
    pages(zero_pages, false)
}

/// [`zero_pages`] with full pages instead (4104 bytes each, contents a
/// pattern of their offset), as a stream of non-zero guest RAM has.
pub fn full_pages(full_pages: u64) -> GenStream {
    pages(full_pages, true)
}

fn pages(n: u64, full: bool) -> GenStream {
    let mut head = HEADER.to_vec();
    // RAM START: block list with one block, then the first zero page.
    head.push(0x01);
    head.extend_from_slice(&be32(1));
    head.push(3);
    head.extend_from_slice(b"ram");
    head.extend_from_slice(&be32(0));
    head.extend_from_slice(&be32(4));
    let total: u64 = 1 << 44;
    head.extend_from_slice(&(total | 0x04).to_be_bytes());
    head.push(6);
    head.extend_from_slice(b"pc.ram");
    head.extend_from_slice(&total.to_be_bytes());
    head.extend_from_slice(&0x02u64.to_be_bytes());
    head.push(6);
    head.extend_from_slice(b"pc.ram");
    head.push(0);
    let (size, flags) = if full { (4104, 0x28) } else { (9, 0x22) };
    let fill: Fill = Box::new(move |at, out: &mut [u8]| {
        for (i, b) in out.iter_mut().enumerate() {
            let o = at + i as u64;
            let (rec, k) = (o / size, (o % size) as usize);
            let header = (((rec + 1) * 4096) % (1 << 44)) | flags;
            *b = match k {
                0..8 => header.to_be_bytes()[k],
                _ if full => (o % 251) as u8 | 1,
                _ => 0,
            };
        }
    });
    let mut tail = 0x10u64.to_be_bytes().to_vec();
    footer(&mut tail, 1);
    full_header(&mut tail, 2, "d", 0, 1);
    tail.push(7);
    footer(&mut tail, 2);
    tail.extend_from_slice(&eof_and_trailer(&[device(
        "d",
        0,
        r#"{"name": "x", "type": "uint8", "size": 1}"#,
    )]));
    GenStream::new(vec![
        Segment::Bytes(head),
        Segment::Gen {
            len: n * size,
            fill,
        },
        Segment::Bytes(tail),
    ])
}

/// A stream with a device section `big` holding a `len`-byte buffer, then
/// a one-byte section `d`.
pub fn big_buffer(len: u64) -> GenStream {
    let mut head = HEADER.to_vec();
    full_header(&mut head, 0, "big", 0, 1);
    let fill: Fill = Box::new(|at, out: &mut [u8]| {
        for (i, b) in out.iter_mut().enumerate() {
            *b = ((at + i as u64) % 251) as u8;
        }
    });
    let mut tail = Vec::new();
    footer(&mut tail, 0);
    full_header(&mut tail, 1, "d", 0, 1);
    tail.push(7);
    footer(&mut tail, 1);
    tail.extend_from_slice(&eof_and_trailer(&[
        device(
            "big",
            0,
            &format!(r#"{{"name": "data", "type": "buffer", "size": {len}}}"#),
        ),
        device("d", 0, r#"{"name": "x", "type": "uint8", "size": 1}"#),
    ]));
    GenStream::new(vec![
        Segment::Bytes(head),
        Segment::Gen { len, fill },
        Segment::Bytes(tail),
    ])
}

/// `n` tiny device sections (one byte each), idstrs `dev0`, `dev1`, …,
/// each described by the trailer.
pub fn tiny_sections(n: u32) -> GenStream {
    let mut body = HEADER.to_vec();
    let mut devices = Vec::with_capacity(n as usize);
    for i in 0..n {
        let name = format!("dev{i}");
        full_header(&mut body, i, &name, 0, 1);
        body.push(i as u8);
        footer(&mut body, i);
        devices.push(device(
            &name,
            0,
            r#"{"name": "x", "type": "uint8", "size": 1}"#,
        ));
    }
    body.extend_from_slice(&eof_and_trailer(&devices));
    GenStream::new(vec![Segment::Bytes(body)])
}
