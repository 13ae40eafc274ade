//! CPR-only fields (`void_ptr`, `fd`) below any nesting form are refused in
//! a mode that does not allow them before any hook runs or any byte moves,
//! naming the field's full path; types without them carry an empty set.

use std::cell::Cell;
use std::collections::{BTreeMap, LinkedList, VecDeque};
use std::os::fd::OwnedFd;
use std::ptr::NonNull;

use vmstate_core::codec::VmTmp;
use vmstate_core::error::BoxError;
use vmstate_core::stream::Placeholders;
use vmstate_core::{Context, CprFields, ErrorKind, FdPassing, MigMode, Reader, VmState, Writer};

thread_local! {
    static HOOKS: Cell<u32> = const { Cell::new(0) };
}

fn hook<E>() -> Result<(), E> {
    HOOKS.with(|h| h.set(h.get() + 1));
    Ok(())
}

fn hooks_run() -> u32 {
    HOOKS.with(Cell::get)
}

/// The CPR-only leaf: a pointer used as an identifier.
#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "leaf", version = 1, pre_save = Self::pre_save, pre_load = Self::pre_load)]
struct Leaf {
    a: u8,
    #[vmstate(void_ptr)]
    ptr: Option<NonNull<u8>>,
}

impl Leaf {
    fn pre_save(&mut self) -> Result<(), BoxError> {
        hook()
    }
    fn pre_load(&mut self) -> Result<(), BoxError> {
        hook()
    }
}

impl PartialOrd for Leaf {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Eq for Leaf {}
impl Ord for Leaf {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.a.cmp(&o.a)
    }
}

/// One outer type per nesting form: a leading byte (so a late refusal
/// would have written it), hooks that count, and the leaf somewhere below.
macro_rules! outer {
    ($ty:ident, $name:literal, { $($field:tt)* }) => {
        #[derive(VmState, Clone, Debug, Default)]
        #[vmstate(name = $name, version = 1, pre_save = Self::pre_save, pre_load = Self::pre_load)]
        struct $ty {
            first: u8,
            $($field)*
        }
        impl $ty {
            fn pre_save(&mut self) -> Result<(), BoxError> {
                hook()
            }
            fn pre_load(&mut self) -> Result<(), BoxError> {
                hook()
            }
        }
    };
}

outer!(Nested, "nested", { inner: Leaf, });
outer!(Array, "array", { cells: [Leaf; 2], });
outer!(Array2d, "array2d", { cells: [[Leaf; 2]; 2], });
outer!(Boxed, "boxed", { inner: Box<Leaf>, });
outer!(Slots, "slots", { slots: [Option<Box<Leaf>>; 2], });
outer!(VStruct, "vstruct", { #[vmstate(struct_version = 1)] inner: Leaf, });
outer!(Tailq, "tailq", { #[vmstate(qtailq)] q: VecDeque<Leaf>, });
outer!(Qlist, "qlist", { #[vmstate(qlist)] q: LinkedList<Leaf>, });
outer!(Tree, "tree", { #[vmstate(gtree)] t: BTreeMap<u64, Leaf>, });
outer!(TreeKey, "treekey", { #[vmstate(gtree)] t: BTreeMap<Leaf, Plain>, });
outer!(Deep, "deep", { mid: Mid, });
// Keys whose generated code names `self` next to the user's tokens, through
// `macro_rules!`.
outer!(MacroSub, "macrosub", { #[vmstate(subsection)] sub: MacroSubState, });
outer!(MacroTmp, "macrotmp", { #[vmstate(tmp = MacroTmpState)] _t: (), });

#[derive(VmState, Clone, Debug, Default)]
#[vmstate(name = "withsub", version = 1, pre_save = Self::pre_save, pre_load = Self::pre_load)]
struct WithSub {
    first: u8,
    #[vmstate(subsection)]
    sub: Sub,
}

#[derive(VmState, Clone, Debug, Default)]
#[vmstate(name = "withtmp", version = 1, pre_save = Self::pre_save, pre_load = Self::pre_load)]
struct WithTmp {
    first: u8,
    #[vmstate(tmp = PtrTmp)]
    _t: (),
}

#[derive(VmState, Clone, Debug, Default)]
#[vmstate(name = "var", version = 1, pre_save = Self::pre_save, pre_load = Self::pre_load)]
struct VarArray {
    n: u8,
    #[vmstate(count = n)]
    items: Vec<Leaf>,
}

impl VarArray {
    fn pre_save(&mut self) -> Result<(), BoxError> {
        hook()
    }
    fn pre_load(&mut self) -> Result<(), BoxError> {
        hook()
    }
}

impl WithSub {
    fn pre_save(&mut self) -> Result<(), BoxError> {
        hook()
    }
    fn pre_load(&mut self) -> Result<(), BoxError> {
        hook()
    }
}

impl WithTmp {
    fn pre_save(&mut self) -> Result<(), BoxError> {
        hook()
    }
    fn pre_load(&mut self) -> Result<(), BoxError> {
        hook()
    }
}

#[derive(VmState, Clone, Debug, Default)]
#[vmstate(name = "macrosub/sub", version = 1)]
struct MacroSubState {
    inner: Leaf,
}

#[derive(VmState, Clone, Debug, Default)]
#[vmstate(name = "macrotmp/tmp", version = 1)]
struct MacroTmpState {
    #[vmstate(void_ptr)]
    p: Option<NonNull<u8>>,
}

impl VmTmp<MacroTmp> for MacroTmpState {
    fn fill_from_parent(&mut self, _: &MacroTmp) -> Result<(), BoxError> {
        Ok(())
    }
    fn apply_to_parent(&mut self, _: &mut MacroTmp) -> Result<(), BoxError> {
        Ok(())
    }
}

#[derive(VmState, Clone, Debug, Default)]
#[vmstate(name = "mid", version = 1)]
struct Mid {
    x: u32,
    leaves: [Box<Leaf>; 1],
}

#[derive(VmState, Clone, Debug, Default)]
#[vmstate(name = "withsub/sub", version = 1)]
struct Sub {
    inner: Leaf,
}

#[derive(VmState, Clone, Debug, Default)]
#[vmstate(name = "withtmp/tmp", version = 1)]
struct PtrTmp {
    #[vmstate(void_ptr)]
    p: Option<NonNull<u8>>,
}

impl VmTmp<WithTmp> for PtrTmp {
    fn fill_from_parent(&mut self, _: &WithTmp) -> Result<(), BoxError> {
        Ok(())
    }
    fn apply_to_parent(&mut self, _: &mut WithTmp) -> Result<(), BoxError> {
        Ok(())
    }
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "plain", version = 1)]
struct Plain {
    a: u32,
    cells: [u16; 4],
    inner: Box<[u8; 3]>,
    #[vmstate(qtailq)]
    q: Vec<PlainElem>,
}

#[derive(VmState, Clone, Debug, Default, PartialEq)]
#[vmstate(name = "plain/elem", version = 1)]
struct PlainElem {
    b: u8,
}

/// Saves and loads `v` in normal mode: both must fail before any hook or
/// byte, with a `void_ptr` refusal naming `path`.
fn refused<T: VmState + Clone>(mut v: T, path: &str) {
    assert!(T::CPR_FIELDS.contains(CprFields::VOID_PTR));
    assert_eq!(T::VMSD.cpr_fields, T::CPR_FIELDS);
    let ctx = Context::new();
    HOOKS.with(|h| h.set(0));

    let mut out = Vec::new();
    let e = v.save(&mut Writer::new(&mut out), &ctx).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::VoidPtrRefused {
                mode: MigMode::Normal
            }
        ),
        "{e}"
    );
    assert_eq!(e.path(), path, "{e}");
    assert_eq!(e.offset(), 0);
    assert!(
        out.is_empty(),
        "{path}: bytes were written before the refusal"
    );
    assert_eq!(hooks_run(), 0, "{path}: a hook ran before the refusal");
    assert!(e.to_string().contains(path), "{e}");

    let bytes = [0u8; 64];
    let mut r = Reader::from_slice(&bytes);
    let e = v.load(&mut r, T::VMSD.version_id, &ctx).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::VoidPtrRefused { .. }), "{e}");
    assert_eq!(e.path(), path, "{e}");
    assert_eq!(r.offset(), 0, "{path}: bytes were read before the refusal");
    assert_eq!(hooks_run(), 0, "{path}: a hook ran before the refusal");
}

/// The same value saves in every CPR mode (the hooks then run).
fn allowed<T: VmState>(mut v: T) {
    for mode in [MigMode::CprReboot, MigMode::CprTransfer, MigMode::CprExec] {
        v.to_bytes(&Context::new().with_mode(mode)).unwrap();
    }
}

#[test]
fn nested_struct() {
    refused(Nested::default(), "nested/inner.ptr");
    allowed(Nested::default());
}

#[test]
fn array_of_structs() {
    refused(Array::default(), "array/cells[*].ptr");
    refused(Array2d::default(), "array2d/cells[*].ptr");
    allowed(Array::default());
}

#[test]
fn boxed_struct() {
    refused(Boxed::default(), "boxed/inner.ptr");
    allowed(Boxed::default());
}

#[test]
fn pointer_slots() {
    refused(Slots::default(), "slots/slots[*].ptr");
    // Null slots hold no pointer, but the type still does: refused.
    let s = Slots {
        first: 0,
        slots: [None, None],
    };
    refused(s, "slots/slots[*].ptr");
}

#[test]
fn variable_array() {
    refused(VarArray::default(), "var/items[*].ptr");
}

#[test]
fn vstruct() {
    refused(VStruct::default(), "vstruct/inner.ptr");
}

#[test]
fn queue_and_tree_elements() {
    refused(Tailq::default(), "tailq/q[*].ptr");
    refused(Qlist::default(), "qlist/q[*].ptr");
    refused(Tree::default(), "tree/t[*].ptr");
    // A struct key: the tables describe the value only, so the path ends
    // at the tree.
    refused(TreeKey::default(), "treekey/t[*]");
    let mut q = Tailq::default();
    q.q.push_back(Leaf::default());
    allowed(q);
}

#[test]
fn declared_through_macro_rules() {
    refused(MacroSub::default(), "macrosub/macrosub/sub/inner.ptr");
    refused(MacroTmp::default(), "macrotmp/tmp.p");
    allowed(MacroTmp::default());
}

#[test]
fn two_levels_through_a_box_array() {
    refused(Deep::default(), "deep/mid.leaves[*].ptr");
}

#[test]
fn subsection() {
    refused(WithSub::default(), "withsub/withsub/sub/inner.ptr");
    allowed(WithSub::default());
}

#[test]
fn tmp() {
    refused(WithTmp::default(), "withtmp/tmp.p");
    allowed(WithTmp::default());
}

#[test]
fn types_without_cpr_fields_carry_an_empty_set() {
    assert!(Plain::CPR_FIELDS.is_empty());
    assert!(Plain::VMSD.cpr_fields.is_empty());
    assert!(Plain::VMSD.fields.iter().all(|f| f.cpr_fields.is_empty()));
    let mut p = Plain::default();
    p.to_bytes(&Context::new()).unwrap();
}

#[test]
fn field_entries_carry_their_kinds() {
    let f = &Deep::VMSD.fields;
    assert!(f[0].cpr_fields.is_empty(), "first");
    assert_eq!(f[1].cpr_fields, CprFields::VOID_PTR, "mid");
}

// ---------------------------------------------------------------------------
// fd fields: cpr-transfer and cpr-exec only, and only on a channel that
// carries descriptors.
// ---------------------------------------------------------------------------

#[derive(VmState, Debug, Default)]
#[vmstate(name = "fdleaf", version = 1)]
struct FdLeaf {
    id: u32,
    #[vmstate(fd)]
    fd: Option<OwnedFd>,
}

#[derive(VmState, Debug, Default)]
#[vmstate(name = "fdouter", version = 1, pre_save = Self::pre_save)]
struct FdOuter {
    first: u8,
    #[vmstate(qlist)]
    list: Vec<FdLeaf>,
    #[vmstate(void_ptr)]
    p: Option<NonNull<u8>>,
}

impl FdOuter {
    fn pre_save(&mut self) -> Result<(), BoxError> {
        hook()
    }
}

#[test]
fn fd_fields_are_known_statically() {
    assert_eq!(FdLeaf::CPR_FIELDS, CprFields::FD);
    assert_eq!(
        FdOuter::CPR_FIELDS,
        CprFields::FD.union(CprFields::VOID_PTR)
    );
    assert_eq!(FdLeaf::VMSD.fields[1].info, "fd");
}

#[test]
fn fd_refused_outside_transfer_and_exec() {
    HOOKS.with(|h| h.set(0));
    for (mode, what) in [(MigMode::Normal, "void_ptr"), (MigMode::CprReboot, "fd")] {
        let mut v = FdOuter::default();
        let mut out = Vec::new();
        let e = v
            .save(
                &mut Writer::new(Placeholders::new(&mut out)),
                &Context::new().with_mode(mode),
            )
            .unwrap_err();
        match what {
            "void_ptr" => {
                assert!(matches!(e.kind(), ErrorKind::VoidPtrRefused { .. }), "{e}");
                assert_eq!(e.path(), "fdouter/p");
            }
            _ => {
                assert!(
                    matches!(
                        e.kind(),
                        ErrorKind::FdRefused {
                            mode: MigMode::CprReboot
                        }
                    ),
                    "{e}"
                );
                assert_eq!(e.path(), "fdouter/list[*].fd");
            }
        }
        assert!(out.is_empty());
        assert_eq!(hooks_run(), 0);
    }
}

#[test]
fn fd_on_a_plain_writer_or_reader_is_refused_up_front() {
    let ctx = Context::new().with_mode(MigMode::CprTransfer);
    let mut v = FdOuter::default();
    let mut out = Vec::new();
    let e = v.save(&mut Writer::new(&mut out), &ctx).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::FdChannel {
                mode: MigMode::CprTransfer,
                passing: FdPassing::None
            }
        ),
        "{e}"
    );
    assert_eq!(e.path(), "fdouter/list[*].fd");
    assert!(e.to_string().contains("plain Read/Write"), "{e}");
    assert!(out.is_empty());

    let e = v
        .load_state_in_place(&mut Reader::from_slice(&[0; 16]), 1, &ctx)
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::FdChannel { .. }), "{e}");

    // A placeholder channel is not what cpr-exec needs either.
    let ctx = Context::new().with_mode(MigMode::CprExec);
    let e = v
        .save(&mut Writer::new(Placeholders::new(&mut out)), &ctx)
        .unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::FdChannel {
                mode: MigMode::CprExec,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn fd_placeholders_round_trip_in_cpr_transfer() {
    let ctx = Context::new().with_mode(MigMode::CprTransfer);
    let mut v = FdOuter {
        first: 7,
        list: vec![FdLeaf { id: 1, fd: None }, FdLeaf { id: 2, fd: None }],
        p: None,
    };
    let mut w = Writer::new(Placeholders::new(Vec::new()));
    v.save(&mut w, &ctx).unwrap();
    let p = w.into_inner();
    assert_eq!(p.offsets(), [6, 12]);
    let bytes = p.into_inner();
    assert_eq!(
        bytes,
        [7, 1, 0, 0, 0, 1, 0x20, 1, 0, 0, 0, 2, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );

    let mut back = FdOuter::default();
    let mut r = Reader::with_source(Placeholders::new(vmstate_core::stream::SliceSource::new(
        &bytes,
    )));
    back.load_state_in_place(&mut r, 1, &ctx).unwrap();
    assert_eq!(back.list.len(), 2);
    assert_eq!(back.list[1].id, 2);
    assert_eq!(r.into_source().offsets(), [6, 12]);
}
