//! What a save wrote, for QEMU's vmdesc (the JSON trailer of a stream).
//!
//! QEMU describes each saved section in the stream's trailer: every field
//! that was written, with the bytes it took, nested structs, and the
//! subsections that were sent. The sizes depend on the state (`exists`
//! tests, `needed` subsections, variable lengths), so they are recorded
//! while saving: a [`Writer::recording`](crate::Writer::recording) collects
//! events from the generated code and builds a [`VmsdRecord`]. A writer that
//! does not record pays one predictable branch per event.
//!
//! The record is plain data; the `vmstate-migration` crate renders it as
//! QEMU's vmdesc JSON.

use crate::desc::Vmsd;

/// One saved description: its fields and the subsections that were sent.
#[derive(Clone, Debug)]
pub struct VmsdRecord {
    /// The description.
    pub vmsd: &'static Vmsd,
    /// The version it was saved at.
    pub version: u32,
    /// The fields written, in order.
    pub fields: Vec<FieldRecord>,
    /// The subsections written, in order.
    pub subsections: Vec<VmsdRecord>,
}

/// One field that was written.
#[derive(Clone, Debug)]
pub struct FieldRecord {
    /// Its index in the description's field table.
    pub index: usize,
    /// Bytes written for the whole field.
    pub size: u64,
    /// Elements with nested descriptions (struct fields), in order; empty
    /// for leaf fields.
    pub elems: Vec<ElemRecord>,
}

/// One struct element of a field.
#[derive(Clone, Debug)]
pub struct ElemRecord {
    /// Bytes written for it, nested subsections included.
    pub size: u64,
    /// The element's description, if it was saved through one.
    pub nested: Option<VmsdRecord>,
}

#[derive(Debug)]
enum Frame {
    Vmsd(VmsdRecord),
    Field(FieldRecord, u64),
    Elem(ElemRecord, u64),
}

/// Collects save events into a [`VmsdRecord`] tree.
#[derive(Debug, Default)]
pub struct Recorder {
    stack: Vec<Frame>,
    done: Option<VmsdRecord>,
}

impl Recorder {
    /// A description starts (after its `pre_save`).
    pub fn enter(&mut self, vmsd: &'static Vmsd, version: u32) {
        let rec = VmsdRecord {
            vmsd,
            version,
            fields: Vec::new(),
            subsections: Vec::new(),
        };
        self.stack.push(Frame::Vmsd(rec));
    }

    /// Field `index` of the current description starts at `offset`.
    pub fn field(&mut self, index: usize, offset: u64) {
        let rec = FieldRecord {
            index,
            size: 0,
            elems: Vec::new(),
        };
        self.stack.push(Frame::Field(rec, offset));
    }

    /// An element of the current field starts at `offset`.
    pub fn elem(&mut self, offset: u64) {
        self.stack.push(Frame::Elem(
            ElemRecord {
                size: 0,
                nested: None,
            },
            offset,
        ));
    }

    /// The innermost open description, field or element ends at `offset`.
    pub fn end(&mut self, offset: u64) {
        let Some(top) = self.stack.pop() else {
            return;
        };
        match top {
            Frame::Vmsd(rec) => match self.stack.last_mut() {
                Some(Frame::Elem(elem, _)) => elem.nested = Some(rec),
                // A single struct field: one element holding it.
                Some(Frame::Field(field, start)) => field.elems.push(ElemRecord {
                    size: offset.saturating_sub(*start),
                    nested: Some(rec),
                }),
                // Straight inside a description: one of its subsections.
                Some(Frame::Vmsd(parent)) => parent.subsections.push(rec),
                None => self.done = Some(rec),
            },
            Frame::Field(mut rec, start) => {
                rec.size = offset.saturating_sub(start);
                if let Some(Frame::Vmsd(parent)) = self.stack.last_mut() {
                    parent.fields.push(rec);
                }
            }
            Frame::Elem(mut rec, start) => {
                rec.size = offset.saturating_sub(start);
                if let Some(Frame::Field(field, _)) = self.stack.last_mut() {
                    field.elems.push(rec);
                }
            }
        }
    }

    /// The finished record of the outermost description.
    pub fn finish(self) -> Option<VmsdRecord> {
        self.done
    }
}
