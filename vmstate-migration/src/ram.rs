//! The payload of the iterative section `ram` (docs/wire-format.md#ram): a sequence of
//! be64 headers whose low bits (below the target page size) are flags.
//!
//! Each record is kept with its raw header, so a payload re-encodes byte
//! for byte. Records follow QEMU's loader (`ram_load_precopy`): a header
//! holds exactly one of `MEM_SIZE`, `ZERO`, `PAGE`, `EOS` (or, from 10.x,
//! `MULTIFD_FLUSH`), with `CONTINUE` allowed on `ZERO` and `PAGE`.
//! `XBZRLE`, `HOOK` (RDMA) and `COMPRESS_PAGE` records are refused.

use std::collections::BTreeMap;

use vmstate_core::stream::{Reader, Source};

use super::error::{StreamError, StreamErrorKind, StreamResult};

/// One page of zeros (fill byte follows).
pub const FLAG_ZERO: u64 = 0x002;
/// The block list (START).
pub const FLAG_MEM_SIZE: u64 = 0x004;
/// A full page follows.
pub const FLAG_PAGE: u64 = 0x008;
/// End of this section's RAM payload.
pub const FLAG_EOS: u64 = 0x010;
/// Same block as the previous page (no block name follows).
pub const FLAG_CONTINUE: u64 = 0x020;
/// XBZRLE delta page (refused).
pub const FLAG_XBZRLE: u64 = 0x040;
/// RDMA hook (refused).
pub const FLAG_HOOK: u64 = 0x080;
/// Compressed page, 7.2 only (refused).
pub const FLAG_COMPRESS_PAGE: u64 = 0x100;
/// multifd sync point (10.x).
pub const FLAG_MULTIFD_FLUSH: u64 = 0x200;

/// The largest target page size accepted (the vmdesc's `page_size` is
/// untrusted, and sizes one buffer per page).
pub const MAX_PAGE_SIZE: u64 = 1 << 20;

/// Options of the RAM decoder.
#[derive(Clone, Copy, Debug)]
pub struct RamOptions {
    /// The target page size (power of two); flags are the bits below it.
    pub page_size: u64,
    /// Whether each block of the block list carries a be64 memory-region
    /// address (the `x-ignore-shared` capability of the configuration).
    pub ignore_shared: bool,
    /// Keep page contents (needed to re-emit the stream); when false, pages
    /// are skipped and the payload can only be summarised.
    pub keep_pages: bool,
}

/// A RAM section payload (START, PART or END): its records, `EOS` last.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RamPayload {
    /// The records in stream order.
    pub records: Vec<RamRecord>,
}

/// One RAM record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RamRecord {
    /// The be64 header as read: address (or total size) | flags.
    pub header: u64,
    /// The block name after the header of a `ZERO`/`PAGE` record without
    /// `CONTINUE`.
    pub block: Option<String>,
    /// What follows.
    pub body: RamBody,
}

/// What follows a RAM record's header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RamBody {
    /// `MEM_SIZE`: the block list.
    MemSize(Vec<RamBlockInfo>),
    /// `ZERO`: the fill byte.
    Zero(u8),
    /// `PAGE`: the page (None when pages were not kept).
    Page(Option<Box<[u8]>>),
    /// `EOS`.
    Eos,
    /// `MULTIFD_FLUSH`.
    MultifdFlush,
}

/// One entry of the `MEM_SIZE` block list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RamBlockInfo {
    /// The RAMBlock idstr (`pc.ram`, `/rom@etc/acpi/tables`).
    pub name: String,
    /// Its used length in bytes.
    pub used_length: u64,
    /// The memory-region address (only with `x-ignore-shared`).
    pub mr_addr: Option<u64>,
}

impl RamRecord {
    /// The flag bits of the header.
    pub fn flags(&self, page_size: u64) -> u64 {
        self.header & page_size.wrapping_sub(1)
    }

    /// The address (or, for `MEM_SIZE`, the total size) of the header.
    pub fn addr(&self, page_size: u64) -> u64 {
        self.header & !page_size.wrapping_sub(1)
    }
}

impl RamPayload {
    /// Decodes one RAM payload (up to and including `EOS`) from `r`.
    pub fn decode<S: Source>(r: &mut Reader<S>, opts: &RamOptions) -> StreamResult<RamPayload> {
        Self::decode_some(r, opts, usize::MAX)
    }

    /// Whether the payload ends with `EOS` (a payload read in pieces by
    /// [`decode_some`](Self::decode_some) has more to come otherwise).
    pub fn is_complete(&self) -> bool {
        matches!(
            self.records.last(),
            Some(RamRecord {
                body: RamBody::Eos,
                ..
            })
        )
    }

    /// Decodes at most `max_records` records of a RAM payload (at least
    /// one), stopping after `EOS`: a section of any length is read in
    /// pieces of bounded size. [`is_complete`](Self::is_complete) says
    /// whether `EOS` was reached.
    pub fn decode_some<S: Source>(
        r: &mut Reader<S>,
        opts: &RamOptions,
        max_records: usize,
    ) -> StreamResult<RamPayload> {
        let ps = opts.page_size;
        if !ps.is_power_of_two() || !(2 * FLAG_MULTIFD_FLUSH..=MAX_PAGE_SIZE).contains(&ps) {
            return Err(StreamError::invalid(
                format!("page size {ps} is not a power of two from 1 KiB to 1 MiB"),
                r.offset(),
            ));
        }
        let mut records = Vec::new();
        loop {
            let at = r.offset();
            let header = r.get_u64()?;
            let flags = header & (ps - 1);
            let addr = header & !(ps - 1);
            let (block, body) = match flags & !FLAG_CONTINUE {
                FLAG_MEM_SIZE if flags & FLAG_CONTINUE == 0 => {
                    (None, RamBody::MemSize(decode_blocks(r, addr, opts)?))
                }
                FLAG_ZERO => {
                    let block = read_block_name(r, flags)?;
                    (block, RamBody::Zero(r.get_u8()?))
                }
                FLAG_PAGE => {
                    let block = read_block_name(r, flags)?;
                    let page = if opts.keep_pages {
                        let mut buf = vec![0u8; ps as usize].into_boxed_slice();
                        r.get_bytes(&mut buf)?;
                        Some(buf)
                    } else {
                        r.skip(ps)?;
                        None
                    };
                    (block, RamBody::Page(page))
                }
                FLAG_EOS if flags & FLAG_CONTINUE == 0 => (None, RamBody::Eos),
                FLAG_MULTIFD_FLUSH if flags & FLAG_CONTINUE == 0 => (None, RamBody::MultifdFlush),
                _ => {
                    let what = if flags & FLAG_XBZRLE != 0 {
                        "XBZRLE pages are not supported"
                    } else if flags & FLAG_HOOK != 0 {
                        "RDMA hook records are not supported"
                    } else if flags & FLAG_COMPRESS_PAGE != 0 {
                        "compressed pages are not supported"
                    } else {
                        "unknown combination of RAM flags"
                    };
                    return Err(StreamError::invalid(
                        format!("{what}: header {header:#018x}, flags {flags:#x}"),
                        at,
                    ));
                }
            };
            let eos = matches!(body, RamBody::Eos);
            records.push(RamRecord {
                header,
                block,
                body,
            });
            if eos || records.len() >= max_records {
                return Ok(RamPayload { records });
            }
        }
    }

    /// Encodes the payload, appending to `out`. Fails when pages were not
    /// kept.
    pub fn encode(&self, out: &mut Vec<u8>) -> StreamResult<()> {
        for rec in &self.records {
            let at = out.len() as u64;
            out.extend_from_slice(&rec.header.to_be_bytes());
            if let Some(b) = &rec.block {
                put_name(out, b, at)?;
            }
            match &rec.body {
                RamBody::MemSize(blocks) => {
                    for b in blocks {
                        put_name(out, &b.name, at)?;
                        out.extend_from_slice(&b.used_length.to_be_bytes());
                        if let Some(a) = b.mr_addr {
                            out.extend_from_slice(&a.to_be_bytes());
                        }
                    }
                }
                RamBody::Zero(fill) => out.push(*fill),
                RamBody::Page(Some(p)) => out.extend_from_slice(p),
                RamBody::Page(None) => {
                    return Err(StreamError::mismatch(
                        "RAM page contents were not kept (RamOptions::keep_pages)",
                        at,
                    ))
                }
                RamBody::Eos | RamBody::MultifdFlush => {}
            }
        }
        Ok(())
    }

    /// The blocks of every `MEM_SIZE` record, in order.
    pub fn blocks(&self) -> impl Iterator<Item = &RamBlockInfo> {
        self.records.iter().flat_map(|r| match &r.body {
            RamBody::MemSize(b) => b.as_slice(),
            _ => &[],
        })
    }
}

/// RAM pages gathered from all RAM payloads of a stream, per block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RamImage {
    /// Block name → used length, in block-list order.
    pub blocks: Vec<RamBlockInfo>,
    /// Block name → page address → page. A page sent twice keeps the last.
    pub pages: BTreeMap<String, BTreeMap<u64, Page>>,
}

/// One page of a [`RamImage`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Page {
    /// Every byte is the fill byte.
    Fill(u8),
    /// The page's bytes (None when they were not kept).
    Data(Option<Box<[u8]>>),
}

impl RamImage {
    /// Adds the records of one payload (in stream order).
    pub fn add(&mut self, payload: &RamPayload, page_size: u64, last_block: &mut Option<String>) {
        for rec in &payload.records {
            if let Some(b) = &rec.block {
                *last_block = Some(b.clone());
            }
            let page = match &rec.body {
                RamBody::MemSize(blocks) => {
                    self.blocks.extend(blocks.iter().cloned());
                    continue;
                }
                RamBody::Zero(f) => Page::Fill(*f),
                RamBody::Page(p) => Page::Data(p.clone()),
                RamBody::Eos | RamBody::MultifdFlush => continue,
            };
            if let Some(b) = last_block {
                self.pages
                    .entry(b.clone())
                    .or_default()
                    .insert(rec.addr(page_size), page);
            }
        }
    }
}

fn put_name(out: &mut Vec<u8>, name: &str, at: u64) -> StreamResult<()> {
    let len = u8::try_from(name.len())
        .map_err(|_| StreamError::mismatch("RAM block name longer than 255 bytes", at))?;
    out.push(len);
    out.extend_from_slice(name.as_bytes());
    Ok(())
}

fn read_name<S: Source>(r: &mut Reader<S>) -> StreamResult<String> {
    let len = r.get_u8()?;
    let at = r.offset();
    let mut buf = [0u8; 255];
    let dst = buf.get_mut(..usize::from(len)).unwrap_or_default();
    r.get_bytes(dst)?;
    String::from_utf8(dst.to_vec())
        .map_err(|_| StreamError::invalid("RAM block name is not UTF-8", at))
}

fn read_block_name<S: Source>(r: &mut Reader<S>, flags: u64) -> StreamResult<Option<String>> {
    if flags & FLAG_CONTINUE != 0 {
        Ok(None)
    } else {
        read_name(r).map(Some)
    }
}

fn decode_blocks<S: Source>(
    r: &mut Reader<S>,
    total: u64,
    opts: &RamOptions,
) -> StreamResult<Vec<RamBlockInfo>> {
    let mut left = total;
    let mut blocks = Vec::new();
    while left > 0 {
        let at = r.offset();
        let name = read_name(r)?;
        let used_length = r.get_u64()?;
        let mr_addr = if opts.ignore_shared {
            Some(r.get_u64()?)
        } else {
            None
        };
        left = left.checked_sub(used_length).ok_or_else(|| {
            StreamError::new(
                StreamErrorKind::Invalid {
                    message: format!(
                        "RAM block `{name}` of {used_length:#x} bytes exceeds the {left:#x} bytes \
                         left of the announced total {total:#x}"
                    ),
                },
                at,
            )
        })?;
        blocks.push(RamBlockInfo {
            name,
            used_length,
            mr_addr,
        });
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> RamOptions {
        RamOptions {
            page_size: 4096,
            ignore_shared: false,
            keep_pages: true,
        }
    }

    #[test]
    fn decodes_and_reencodes() {
        let mut s = Vec::new();
        s.extend_from_slice(&(0x2000u64 | FLAG_MEM_SIZE).to_be_bytes());
        s.push(2);
        s.extend_from_slice(b"ab");
        s.extend_from_slice(&0x2000u64.to_be_bytes());
        s.extend_from_slice(&FLAG_ZERO.to_be_bytes());
        s.push(2);
        s.extend_from_slice(b"ab");
        s.push(0);
        s.extend_from_slice(&(0x1000 | FLAG_PAGE | FLAG_CONTINUE).to_be_bytes());
        s.resize(s.len() + 4096, 7);
        s.extend_from_slice(&FLAG_EOS.to_be_bytes());
        let mut r = Reader::from_slice(&s);
        let p = RamPayload::decode(&mut r, &opts()).unwrap();
        assert_eq!(r.remaining().len(), 0);
        assert_eq!(p.records.len(), 4);
        assert_eq!(p.blocks().next().unwrap().used_length, 0x2000);
        let mut out = Vec::new();
        p.encode(&mut out).unwrap();
        assert_eq!(out, s);
        let mut img = RamImage::default();
        img.add(&p, 4096, &mut None);
        assert_eq!(img.pages["ab"].len(), 2);
    }

    #[test]
    fn refuses_unknown_flags_and_overlong_blocks() {
        let s = (FLAG_XBZRLE | FLAG_CONTINUE).to_be_bytes();
        let e = RamPayload::decode(&mut Reader::from_slice(&s), &opts()).unwrap_err();
        assert!(e.to_string().contains("XBZRLE"));
        let s = (FLAG_EOS | FLAG_ZERO).to_be_bytes();
        assert!(RamPayload::decode(&mut Reader::from_slice(&s), &opts()).is_err());
        let mut s = (0x1000u64 | FLAG_MEM_SIZE).to_be_bytes().to_vec();
        s.push(1);
        s.push(b'x');
        s.extend_from_slice(&0x2000u64.to_be_bytes());
        let e = RamPayload::decode(&mut Reader::from_slice(&s), &opts()).unwrap_err();
        assert_eq!(e.offset(), 8);
    }
}
