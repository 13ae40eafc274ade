//! The comparison itself: device types, descriptions, fields (with
//! substructs and padding lined up as QEMU's checker does), subsections.

use std::collections::HashMap;
use std::slice::Iter;

use super::finding::{Direction, Finding, Kind, Severity};
use super::renames::{renamed_type, same_name};
use crate::dump::{Description, DeviceType, DumpField, VmstateDump, MACHINE_KEY};

/// Collects the findings of one direction.
pub(crate) struct Checker {
    /// Both dumps give array lengths (`num`), so a missing one means a
    /// single value.
    arrays_known: bool,
    out: Vec<Finding>,
}

/// Whether a dump lists array lengths at all (QEMU 8.1 and later, and our
/// export, do; older QEMU never does).
fn lists_array_lengths(d: &VmstateDump) -> bool {
    fn desc(d: &Description) -> bool {
        d.fields
            .iter()
            .flatten()
            .any(|f| f.num.is_some() || f.description.as_ref().is_some_and(desc))
            || d.subsections.iter().flatten().any(desc)
    }
    d.types
        .iter()
        .any(|t| t.description.as_ref().is_some_and(desc))
}

impl Checker {
    pub(crate) fn run(src: &VmstateDump, dest: &VmstateDump) -> Vec<Finding> {
        let mut c = Checker {
            arrays_known: lists_array_lengths(src) && lists_array_lengths(dest),
            out: Vec::new(),
        };
        if let (Some(s), Some(d)) = (&src.machine, &dest.machine) {
            if s != d {
                c.push(
                    MACHINE_KEY,
                    &[],
                    Kind::MachineChanged,
                    Severity::Warning,
                    Some(s),
                    Some(d),
                    format!("machine type {s} on one side, {d} on the other"),
                );
            }
        }
        // Indexed: a dump may list thousands of types.
        let by_name: HashMap<&str, &DeviceType> = dest
            .types
            .iter()
            .rev()
            .map(|t| (t.name.as_str(), t))
            .collect();
        for s in &src.types {
            let d = by_name
                .get(s.name.as_str())
                .or_else(|| renamed_type(&s.name).and_then(|n| by_name.get(n)))
                .copied();
            match d {
                Some(d) => c.device(s, d),
                None => c.push(
                    &s.name,
                    &[],
                    Kind::TypeMissing,
                    Severity::Incompatible,
                    Some(&s.name),
                    None,
                    "device type missing on the destination".into(),
                ),
            }
        }
        c.out
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        device: &str,
        path: &[&str],
        kind: Kind,
        severity: Severity,
        src: Option<&str>,
        dest: Option<&str>,
        message: String,
    ) {
        self.out.push(Finding {
            device: device.to_owned(),
            path: path.iter().map(|s| (*s).to_owned()).collect(),
            kind,
            severity,
            direction: Direction::Forward,
            src: src.map(str::to_owned),
            dest: dest.map(str::to_owned),
            message,
        });
    }

    fn device(&mut self, s: &DeviceType, d: &DeviceType) {
        let dev = s.name.as_str();
        // The minimum of the type is the description's, checked there.
        if s.version_id > d.version_id {
            self.version_too_new(dev, &[], s.version_id, d.version_id);
        }
        match (&s.description, &d.description) {
            (Some(sd), Some(dd)) => self.description(dev, &[], sd, dd, true),
            (Some(_), None) => self.push(
                dev,
                &[],
                Kind::EntryMissing,
                Severity::Incompatible,
                Some("Description"),
                None,
                "no description on the destination".into(),
            ),
            _ => {}
        }
    }

    fn version_too_new(&mut self, dev: &str, path: &[&str], s: i64, d: i64) {
        self.push(
            dev,
            path,
            Kind::VersionTooNew,
            Severity::Incompatible,
            Some(&s.to_string()),
            Some(&d.to_string()),
            format!("version {s} is newer than the destination's {d}"),
        );
    }

    /// `versioned`: the stream carries this description's version (a
    /// section or a subsection), so a field of a newer version is known to
    /// be absent. A nested struct is loaded at the destination's own version.
    fn description(
        &mut self,
        dev: &str,
        parent: &[&str],
        s: &Description,
        d: &Description,
        versioned: bool,
    ) {
        let mut path = parent.to_vec();
        path.push(&s.name);
        if s.version_id > d.version_id {
            self.version_too_new(dev, &path, s.version_id, d.version_id);
        }
        if s.version_id < d.minimum_version_id {
            self.push(
                dev,
                &path,
                Kind::BelowMinimumVersion,
                Severity::Incompatible,
                Some(&s.version_id.to_string()),
                Some(&d.minimum_version_id.to_string()),
                format!(
                    "version {} is below the destination's minimum {}",
                    s.version_id, d.minimum_version_id
                ),
            );
        }
        if !same_name(dev, &s.name, &d.name) {
            self.push(
                dev,
                &path,
                Kind::DescriptionRenamed,
                Severity::Incompatible,
                Some(&s.name),
                Some(&d.name),
                format!("description {} is {} on the destination", s.name, d.name),
            );
            return;
        }
        match (&s.fields, &d.fields) {
            (Some(sf), Some(df)) => self.fields(dev, &path, s, sf, df, versioned),
            (Some(sf), None) => {
                if let Some(first) = sf.first() {
                    self.push(
                        dev,
                        &path,
                        Kind::EntryMissing,
                        Severity::Incompatible,
                        Some(&first.field),
                        None,
                        format!(
                            "the destination has no fields; the source sends {}",
                            first.field
                        ),
                    );
                }
            }
            _ => {}
        }
        let dsubs: HashMap<&str, &Description> = d
            .subsections
            .iter()
            .flatten()
            .rev()
            .map(|ds| (ds.name.as_str(), ds))
            .collect();
        for ss in s.subsections.iter().flatten() {
            match dsubs.get(ss.name.as_str()).copied() {
                Some(ds) => self.description(dev, &path, ss, ds, true),
                None => {
                    let mut p = path.clone();
                    p.push(&ss.name);
                    self.push(
                        dev,
                        &p,
                        Kind::SubsectionMissing,
                        Severity::Incompatible,
                        Some(&ss.name),
                        None,
                        format!(
                            "subsection {} unknown to the destination (fails when sent)",
                            ss.name
                        ),
                    );
                }
            }
        }
    }

    /// Walks both field lists in wire order. A field of one side may stand
    /// for a nested description of the other whose first field has its name
    /// (the struct was introduced without changing the wire), and padding
    /// (`unused`) may stand for several fields of the same total size.
    fn fields(
        &mut self,
        dev: &str,
        path: &[&str],
        desc: &Description,
        src: &[DumpField],
        dest: &[DumpField],
        versioned: bool,
    ) {
        let scope = desc.name.as_str();
        let mut s_iter = src.iter();
        let mut d_iter = dest.iter();
        let mut s_outer: Vec<Iter<'_, DumpField>> = Vec::new();
        let mut d_outer: Vec<Iter<'_, DumpField>> = Vec::new();
        let (mut next_src, mut next_dest) = (true, true);
        let mut s_item: Option<&DumpField> = None;
        let mut d_item: Option<&DumpField> = None;
        // Bytes of padding on one side not yet matched by the other's fields.
        let mut unused: i128 = 0;
        loop {
            if next_src {
                match s_iter.next() {
                    Some(f) => s_item = Some(f),
                    None => match s_outer.pop() {
                        Some(outer) => {
                            s_iter = outer;
                            continue;
                        }
                        None => {
                            let newer_than = versioned.then_some(desc.version_id);
                            self.added_fields(dev, path, newer_than, d_iter, d_outer);
                            return;
                        }
                    },
                }
            } else if unused == 0 {
                next_src = true;
            }
            let Some(s) = s_item else { return };
            if next_dest {
                match d_iter.next() {
                    Some(f) => d_item = Some(f),
                    None => match d_outer.pop() {
                        Some(outer) => {
                            d_iter = outer;
                            next_src = false;
                            continue;
                        }
                        None => {
                            self.push(
                                dev,
                                &with(path, &s.field),
                                Kind::FieldMissing,
                                Severity::Incompatible,
                                Some(&s.field),
                                None,
                                format!(
                                    "the source sends {}, the destination has no further fields",
                                    s.field
                                ),
                            );
                            return;
                        }
                    },
                }
            } else if unused == 0 {
                next_dest = true;
            }
            let Some(d) = d_item else { return };
            if unused != 0 {
                let (consumed, near) = if !next_dest { (s, s) } else { (d, d) };
                unused -= i128::from(consumed.size);
                if unused == 0 {
                    next_src = true;
                    next_dest = true;
                    continue;
                }
                if unused < 0 {
                    self.push(
                        dev,
                        &with(path, &near.field),
                        Kind::UnusedSizeMismatch,
                        Severity::Incompatible,
                        None,
                        None,
                        format!("padding does not end where {} begins", near.field),
                    );
                    return;
                }
                continue;
            }
            if !same_name(scope, &s.field, &d.field) {
                if starts_with_field(d, &s.field) {
                    if let Some(inner) = d.description.as_ref().and_then(|x| x.fields.as_ref()) {
                        d_outer.push(std::mem::replace(&mut d_iter, inner.iter()));
                        next_src = false;
                        continue;
                    }
                }
                if starts_with_field(s, &d.field) {
                    if let Some(inner) = s.description.as_ref().and_then(|x| x.fields.as_ref()) {
                        s_outer.push(std::mem::replace(&mut s_iter, inner.iter()));
                        next_dest = false;
                        continue;
                    }
                }
                if s.field == "unused" || d.field == "unused" {
                    let (ss, ds) = (i128::from(s.total_size()), i128::from(d.total_size()));
                    if ss == ds {
                        continue;
                    }
                    if d.field == "unused" {
                        next_dest = false;
                        unused = ds - ss;
                    } else {
                        next_src = false;
                        unused = ss - ds;
                    }
                    continue;
                }
                self.mismatch(dev, path, s, d, s_iter.as_slice(), d_iter.as_slice());
                return;
            }
            self.field(dev, path, s, d);
        }
    }

    /// Two fields with different names at one place: a swap, or a field
    /// removed, inserted or renamed. The rest of the list is not compared.
    fn mismatch(
        &mut self,
        dev: &str,
        path: &[&str],
        s: &DumpField,
        d: &DumpField,
        s_rest: &[DumpField],
        d_rest: &[DumpField],
    ) {
        let later = |rest: &[DumpField], name: &str| rest.iter().any(|f| f.field == name);
        let p = with(path, &s.field);
        if later(d_rest, &s.field) && later(s_rest, &d.field) {
            self.push(
                dev,
                &p,
                Kind::FieldsReordered,
                Severity::Incompatible,
                Some(&s.field),
                Some(&d.field),
                format!(
                    "fields reordered: the source sends {} where the destination reads {}",
                    s.field, d.field
                ),
            );
        } else {
            self.push(
                dev,
                &p,
                Kind::FieldMismatch,
                Severity::Incompatible,
                Some(&s.field),
                Some(&d.field),
                format!(
                    "the source sends {} where the destination reads {} (removed, inserted or renamed); rest not compared",
                    s.field, d.field
                ),
            );
        }
    }

    /// Two fields that match by name.
    fn field(&mut self, dev: &str, path: &[&str], s: &DumpField, d: &DumpField) {
        let p = with(path, &s.field);
        if s.version_id > d.version_id {
            self.push(
                dev,
                &p,
                Kind::VersionTooNew,
                Severity::Incompatible,
                Some(&s.version_id.to_string()),
                Some(&d.version_id.to_string()),
                format!(
                    "sent from version {} on, the destination reads it from version {}",
                    s.version_id, d.version_id
                ),
            );
        }
        if s.field_exists != d.field_exists {
            self.push(
                dev,
                &p,
                Kind::FieldExistsChanged,
                Severity::Warning,
                Some(&s.field_exists.to_string()),
                Some(&d.field_exists.to_string()),
                format!(
                    "a test decides whether it is sent: {} on the source, {} on the destination; the two rules must agree",
                    yes(s.field_exists),
                    yes(d.field_exists)
                ),
            );
        }
        // A nested description's size is its C struct's, not the wire's.
        if s.description.is_none() && s.size != d.size {
            self.push(
                dev,
                &p,
                Kind::SizeChanged,
                Severity::Incompatible,
                Some(&s.size.to_string()),
                Some(&d.size.to_string()),
                format!("element size {} -> {}", s.size, d.size),
            );
        } else if let (Some(st), Some(dt)) = (&s.ty, &d.ty) {
            if st != dt && s.description.is_none() {
                self.push(
                    dev,
                    &p,
                    Kind::TypeChanged,
                    Severity::Incompatible,
                    Some(st),
                    Some(dt),
                    format!("type {st} -> {dt} at the same size"),
                );
            }
        }
        if self.arrays_known && s.num != d.num {
            let show = |n: Option<i64>| n.map_or_else(|| "single value".into(), |n| n.to_string());
            self.push(
                dev,
                &p,
                Kind::ArrayLengthChanged,
                Severity::Incompatible,
                Some(&show(s.num)),
                Some(&show(d.num)),
                format!("array length {} -> {}", show(s.num), show(d.num)),
            );
        }
        match (&s.description, &d.description) {
            (Some(sd), Some(dd)) => self.description(dev, &p, sd, dd, false),
            (Some(_), None) => self.push(
                dev,
                &p,
                Kind::NestedDescriptionMissing,
                Severity::Incompatible,
                None,
                None,
                "a nested description on the source, a plain value on the destination".into(),
            ),
            _ => {}
        }
    }

    /// Fields the destination has after everything the source sends: each
    /// is read from the stream unless a test keeps it out, or a version
    /// newer than `newer_than`, the version the stream carries.
    fn added_fields(
        &mut self,
        dev: &str,
        path: &[&str],
        newer_than: Option<i64>,
        rest: Iter<'_, DumpField>,
        outer: Vec<Iter<'_, DumpField>>,
    ) {
        let all = rest.chain(outer.into_iter().rev().flatten());
        for f in all {
            if f.field_exists || newer_than.is_some_and(|v| f.version_id > v) {
                continue;
            }
            let why = match newer_than {
                Some(v) => format!("the source at version {v} never sends it"),
                None => "a nested description is read at the destination's own version".into(),
            };
            self.push(
                dev,
                &with(path, &f.field),
                Kind::FieldAdded,
                Severity::Incompatible,
                None,
                Some(&f.field),
                format!(
                    "the destination reads {} (from version {}); {why}",
                    f.field, f.version_id
                ),
            );
        }
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Whether `f` is a nested description whose first field is `name` (in
/// the nested description's naming scope).
fn starts_with_field(f: &DumpField, name: &str) -> bool {
    let Some(d) = &f.description else {
        return false;
    };
    match d.fields.as_deref() {
        Some([first, ..]) => same_name(&d.name, &first.field, name),
        _ => false,
    }
}

fn with<'a>(path: &[&'a str], last: &'a str) -> Vec<&'a str> {
    let mut p = path.to_vec();
    p.push(last);
    p
}
