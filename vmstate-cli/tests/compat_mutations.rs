//! The mutation suite: changes applied to QEMU's own `-dump-vmstate`
//! output (7.2's and 10.0's, a sample of device types), each checked in
//! both directions by `vmstate check` and by QEMU's
//! `vmstate-static-checker.py` (7.2's and 10.0's). Both give the same
//! verdict, except where a mutation names the extra rule of `vmstate
//! check` that makes it stricter than the script (`extra_fwd`,
//! `extra_bwd`): there the script accepts and `vmstate check` rejects.
//!
//! Forward is a stream of the unchanged dump's build loaded on the changed
//! one; backward is the other way.

mod compat_support;

use compat_support::*;
use serde_json::{json, Value};

/// The device types the mutations work on.
const SAMPLE: &[&str] = &[
    "isa-pit",
    "mc146818rtc",
    "i8042",
    "port92",
    "e1000",
    "isa-fdc",
    "hpet",
];

struct Mutation {
    name: &'static str,
    /// Changes the dump; `None` when it does not apply to this dump.
    apply: fn(&mut Value) -> Option<()>,
    /// `vmstate check`'s verdicts: forward, backward compatible.
    fwd: bool,
    bwd: bool,
    /// The extra rule that rejects where the script accepts.
    extra_fwd: Option<&'static str>,
    extra_bwd: Option<&'static str>,
}

const fn m(
    name: &'static str,
    apply: fn(&mut Value) -> Option<()>,
    fwd: bool,
    bwd: bool,
) -> Mutation {
    Mutation {
        name,
        apply,
        fwd,
        bwd,
        extra_fwd: None,
        extra_bwd: None,
    }
}

const fn extra(
    name: &'static str,
    apply: fn(&mut Value) -> Option<()>,
    fwd: bool,
    bwd: bool,
    extra_fwd: Option<&'static str>,
    extra_bwd: Option<&'static str>,
) -> Mutation {
    Mutation {
        name,
        apply,
        fwd,
        bwd,
        extra_fwd,
        extra_bwd,
    }
}

fn desc<'a>(d: &'a mut Value, dev: &str) -> Option<&'a mut Value> {
    d.get_mut(dev)?.get_mut("Description")
}

fn fields(desc: &mut Value) -> Option<&mut Vec<Value>> {
    desc.get_mut("Fields")?.as_array_mut()
}

fn field<'a>(desc: &'a mut Value, name: &str) -> Option<&'a mut Value> {
    fields(desc)?.iter_mut().find(|f| f["field"] == name)
}

fn nested<'a>(desc: &'a mut Value, name: &str) -> Option<&'a mut Value> {
    field(desc, name)?.get_mut("Description")
}

fn subsection<'a>(desc: &'a mut Value, name: &str) -> Option<&'a mut Value> {
    desc.get_mut("Subsections")?
        .as_array_mut()?
        .iter_mut()
        .find(|s| s["name"] == name)
}

fn remove_field(desc: &mut Value, name: &str) -> Option<()> {
    let f = fields(desc)?;
    let i = f.iter().position(|x| x["field"] == name)?;
    f.remove(i);
    Some(())
}

fn new_field(name: &str, version: u32, exists: bool, size: u64) -> Value {
    json!({"field": name, "version_id": version, "field_exists": exists, "size": size, "type": "uint32"})
}

/// Sets the version of a device type and of its description.
fn set_version(d: &mut Value, dev: &str, v: u32) -> Option<()> {
    d.get_mut(dev)?["version_id"] = v.into();
    desc(d, dev)?["version_id"] = v.into();
    Some(())
}

fn set_minimum(d: &mut Value, dev: &str, v: u32) -> Option<()> {
    d.get_mut(dev)?["minimum_version_id"] = v.into();
    desc(d, dev)?["minimum_version_id"] = v.into();
    Some(())
}

const MUTATIONS: &[Mutation] = &[
    extra(
        "only field removed",
        |d| remove_field(desc(d, "port92")?, "outport"),
        false,
        false,
        None,
        Some("field_added"),
    ),
    m(
        "middle field removed",
        |d| remove_field(desc(d, "mc146818rtc")?, "cmos_index"),
        false,
        false,
    ),
    extra(
        "last field removed",
        |d| remove_field(desc(d, "mc146818rtc")?, "next_alarm_time"),
        false,
        false,
        None,
        Some("field_added"),
    ),
    extra(
        "field added at the end",
        |d| {
            fields(desc(d, "isa-pit")?)?.push(new_field("extra", 0, false, 4));
            Some(())
        },
        false,
        false,
        Some("field_added"),
        None,
    ),
    m(
        "field added at the end, new version",
        |d| {
            set_version(d, "mc146818rtc", 4)?;
            fields(desc(d, "mc146818rtc")?)?.push(new_field("extra", 4, false, 4));
            Some(())
        },
        true,
        false,
    ),
    m(
        "field added at the end, behind a test",
        |d| {
            fields(desc(d, "port92")?)?.push(new_field("extra", 0, true, 1));
            Some(())
        },
        true,
        false,
    ),
    m(
        "field renamed",
        |d| {
            field(desc(d, "isa-pit")?, "channels[0].next_transition_time")?["field"] = "ntt".into();
            Some(())
        },
        false,
        false,
    ),
    m(
        "field renamed as QEMU knows (e1000 parent_obj -> dev)",
        |d| {
            field(desc(d, "e1000")?, "parent_obj")?["field"] = "dev".into();
            Some(())
        },
        true,
        true,
    ),
    m(
        "field size changed",
        |d| {
            field(desc(d, "mc146818rtc")?, "period")?["size"] = 8.into();
            Some(())
        },
        false,
        false,
    ),
    m(
        "version_id bumped",
        |d| set_version(d, "isa-pit", 4),
        true,
        false,
    ),
    m(
        "version_id lowered",
        |d| set_version(d, "mc146818rtc", 2),
        false,
        true,
    ),
    m(
        "minimum_version_id raised above the source's version",
        |d| {
            set_version(d, "isa-pit", 4)?;
            set_minimum(d, "isa-pit", 4)
        },
        false,
        false,
    ),
    m(
        "minimum_version_id lowered",
        |d| set_minimum(d, "isa-pit", 1),
        true,
        true,
    ),
    m(
        "subsection added",
        |d| {
            desc(d, "port92")?["Subsections"] = json!([{
                "name": "port92/new", "version_id": 1, "minimum_version_id": 1,
                "Fields": [new_field("x", 0, false, 1)]
            }]);
            Some(())
        },
        true,
        false,
    ),
    m(
        "only subsection removed",
        |d| {
            desc(d, "mc146818rtc")?
                .as_object_mut()?
                .remove("Subsections")?;
            Some(())
        },
        false,
        true,
    ),
    m(
        "one of three subsections removed",
        |d| {
            let subs = desc(d, "e1000")?.get_mut("Subsections")?.as_array_mut()?;
            subs.retain(|s| s["name"] != "e1000/full_mac_state");
            Some(())
        },
        false,
        true,
    ),
    m(
        "subsection renamed",
        |d| {
            subsection(
                desc(d, "mc146818rtc")?,
                "mc146818rtc/irq_reinject_on_ack_count",
            )?["name"] = "mc146818rtc/irq".into();
            Some(())
        },
        false,
        false,
    ),
    m(
        "subsection version bumped",
        |d| {
            subsection(desc(d, "e1000")?, "e1000/mit_state")?["version_id"] = 2.into();
            Some(())
        },
        true,
        false,
    ),
    extra(
        "subsection's last field removed",
        |d| {
            remove_field(
                subsection(desc(d, "e1000")?, "e1000/mit_state")?,
                "mit_irq_level",
            )
        },
        false,
        false,
        None,
        Some("field_added"),
    ),
    m(
        "subsection field size changed",
        |d| {
            field(
                subsection(desc(d, "e1000")?, "e1000/tx_tso_state")?,
                "tx.tso_props.mss",
            )?["size"] = 4.into();
            Some(())
        },
        false,
        false,
    ),
    m(
        "nested field size changed",
        |d| {
            field(nested(desc(d, "isa-pit")?, "channels")?, "count")?["size"] = 2.into();
            Some(())
        },
        false,
        false,
    ),
    m(
        "nested field removed",
        |d| remove_field(nested(desc(d, "isa-pit")?, "channels")?, "status"),
        false,
        false,
    ),
    extra(
        "nested field added at the end",
        |d| {
            fields(nested(desc(d, "isa-pit")?, "channels")?)?.push(new_field("extra", 0, false, 1));
            Some(())
        },
        false,
        false,
        Some("field_added"),
        None,
    ),
    extra(
        "nested field added at the end, nested version bumped",
        |d| {
            let n = nested(desc(d, "isa-pit")?, "channels")?;
            n["version_id"] = 3.into();
            fields(n)?.push(new_field("extra", 3, false, 1));
            Some(())
        },
        false,
        false,
        Some("field_added"),
        None,
    ),
    m(
        "nested description version bumped",
        |d| {
            nested(desc(d, "isa-pit")?, "channels")?["version_id"] = 3.into();
            Some(())
        },
        true,
        false,
    ),
    m(
        "nested description missing",
        |d| {
            field(desc(d, "isa-pit")?, "channels")?
                .as_object_mut()?
                .remove("Description")?;
            Some(())
        },
        false,
        true,
    ),
    m(
        "field in a nested description's subsection resized",
        |d| {
            let kbd = nested(desc(d, "i8042")?, "kbd")?;
            field(subsection(kbd, "pckbd/extended_state")?, "obsrc")?["size"] = 2.into();
            Some(())
        },
        false,
        false,
    ),
    m(
        "nested description's subsection removed",
        |d| {
            let subs = nested(desc(d, "i8042")?, "kbd")?
                .get_mut("Subsections")?
                .as_array_mut()?;
            subs.retain(|s| s["name"] != "pckbd_outport");
            Some(())
        },
        false,
        true,
    ),
    m(
        "field in a struct two levels down resized",
        |d| {
            let state = nested(desc(d, "isa-fdc")?, "state")?;
            field(state, "sra")?["size"] = 2.into();
            Some(())
        },
        false,
        false,
    ),
    m(
        "field_exists set",
        |d| {
            field(desc(d, "mc146818rtc")?, "cmos_index")?["field_exists"] = true.into();
            Some(())
        },
        true,
        true,
    ),
    m(
        "field_exists cleared",
        |d| {
            let e1000 = desc(d, "e1000")?;
            let f = fields(e1000)?
                .iter_mut()
                .find(|f| f["field"] == "unused" && f["field_exists"] == true)?;
            f["field_exists"] = false.into();
            Some(())
        },
        true,
        true,
    ),
    m(
        "field version raised",
        |d| {
            field(desc(d, "mc146818rtc")?, "period")?["version_id"] = 3.into();
            Some(())
        },
        true,
        false,
    ),
    m(
        "description renamed",
        |d| {
            desc(d, "port92")?["name"] = "port93".into();
            Some(())
        },
        false,
        false,
    ),
    m(
        "device type removed",
        |d| {
            d.as_object_mut()?.remove("port92")?;
            Some(())
        },
        false,
        true,
    ),
    m(
        "device type renamed as QEMU knows (e1000 -> e1000-82540em)",
        |d| {
            let mut e = d.as_object_mut()?.remove("e1000")?;
            e["Name"] = "e1000-82540em".into();
            d.as_object_mut()?.insert("e1000-82540em".into(), e);
            Some(())
        },
        true,
        true,
    ),
    m(
        "field replaced by padding of its size",
        |d| {
            let f = field(desc(d, "mc146818rtc")?, "cmos_index")?;
            f["field"] = "unused".into();
            Some(())
        },
        true,
        true,
    ),
    m(
        "two fields replaced by one padding of their size",
        |d| {
            let rtc = desc(d, "mc146818rtc")?;
            remove_field(rtc, "period")?;
            let f = field(rtc, "irq_coalesced")?;
            f["field"] = "unused".into();
            f["size"] = 8.into();
            f["version_id"] = 0.into();
            Some(())
        },
        true,
        true,
    ),
    m(
        "padding larger than the field it replaces",
        |d| {
            let f = field(desc(d, "mc146818rtc")?, "cmos_index")?;
            f["field"] = "unused".into();
            f["size"] = 2.into();
            Some(())
        },
        false,
        false,
    ),
    m(
        "field moved into a new struct",
        |d| {
            let f = fields(desc(d, "port92")?)?;
            let inner = f.remove(0);
            f.push(json!({
            "field": "state", "version_id": 0, "field_exists": false, "size": 1,
            "Description": {"name": "port92-state", "version_id": 1, "minimum_version_id": 1, "Fields": [inner]}
        }));
            Some(())
        },
        true,
        true,
    ),
    m(
        "fields reordered",
        |d| {
            let f = fields(desc(d, "mc146818rtc")?)?;
            let a = f.iter().position(|x| x["field"] == "periodic_timer")?;
            f.swap(a, a + 1);
            Some(())
        },
        false,
        false,
    ),
    m(
        "field inserted in the middle, new version",
        |d| {
            set_version(d, "mc146818rtc", 4)?;
            fields(desc(d, "mc146818rtc")?)?.insert(1, new_field("extra", 4, false, 1));
            Some(())
        },
        false,
        false,
    ),
    m(
        "machine type changed",
        |d| {
            d.get_mut("vmschkmachine")?["Name"] = "pc-q35-10.0".into();
            Some(())
        },
        true,
        true,
    ),
    extra(
        "field type changed at the same size (uint32 -> int32)",
        |d| {
            field(desc(d, "mc146818rtc")?, "period")?["type"] = "int32".into();
            Some(())
        },
        false,
        false,
        Some("type_changed"),
        Some("type_changed"),
    ),
    extra(
        "array length changed",
        |d| {
            let f = field(desc(d, "e1000")?, "eeprom_data")?;
            f.get("num")?;
            f["num"] = 65.into();
            Some(())
        },
        false,
        false,
        Some("array_length_changed"),
        Some("array_length_changed"),
    ),
    extra(
        "array length changed inside a nested description",
        |d| {
            let f = field(nested(desc(d, "isa-fdc")?, "state")?, "drives")?;
            f.get("num")?;
            f["num"] = 4.into();
            Some(())
        },
        false,
        false,
        Some("array_length_changed"),
        Some("array_length_changed"),
    ),
];

/// QEMU's dump of `version`, cut to the sample, with a `type` on every
/// field (QEMU's checker ignores it; `vmstate check` compares it).
fn base(version: &str) -> Value {
    let full = qemu_dump(version);
    let mut d = serde_json::Map::new();
    for (k, v) in full.as_object().unwrap() {
        if k == "vmschkmachine" || SAMPLE.contains(&k.as_str()) {
            d.insert(k.clone(), v.clone());
        }
    }
    let mut d = Value::Object(d);
    add_types(&mut d);
    d
}

fn add_types(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if o.contains_key("field") && !o.contains_key("Description") {
                let size = o["size"].as_u64().unwrap_or(0);
                o.insert("type".into(), format!("uint{}", size * 8).into());
            }
            o.values_mut().for_each(add_types);
        }
        Value::Array(a) => a.iter_mut().for_each(add_types),
        _ => {}
    }
}

#[test]
fn at_least_forty_mutations() {
    assert!(MUTATIONS.len() >= 40, "{}", MUTATIONS.len());
}

#[test]
fn vmstate_check_and_qemus_checker_agree_on_every_mutation() {
    let scripts: Vec<_> = VERSIONS.iter().map(|v| (v, qemu_checker(v))).collect();
    let scratch = Scratch::new("mutations");
    let mut applied = vec![0usize; MUTATIONS.len()];
    let mut failures = Vec::new();
    // Every (src, dest) pair and the verdict expected of QEMU's checkers.
    let mut pairs = Vec::new();
    let mut expected = Vec::new();
    for v in VERSIONS {
        let a = base(v);
        let a_path = scratch.json(&format!("base-{v}.json"), &a);
        // The unchanged dump against itself: nothing to report.
        let (code, out) = run_vmstate_check(&a_path, &a_path, &[]);
        assert_eq!((code, out.as_str()), (0, ""));
        for (i, mt) in MUTATIONS.iter().enumerate() {
            let mut b = a.clone();
            if (mt.apply)(&mut b).is_none() {
                continue;
            }
            assert_ne!(a, b, "{}: changes nothing", mt.name);
            applied[i] += 1;
            let b_path = scratch.json(&format!("m{i}-{v}.json"), &b);
            for (dir, src, dest, ours_expected, extra) in [
                ("forward", &a_path, &b_path, mt.fwd, mt.extra_fwd),
                ("backward", &b_path, &a_path, mt.bwd, mt.extra_bwd),
            ] {
                let what = format!("QEMU {v} dump, {:?} {dir}", mt.name);
                let (code, findings) = check_json(src, dest);
                let ours = code == 0;
                if ours != ours_expected {
                    failures.push(format!(
                        "{what}: vmstate check says compatible={ours}: {findings:#?}"
                    ));
                    continue;
                }
                // An extra rule rejected: it is the named one, and the
                // findings of QEMU's rules alone accept.
                let incompatible: Vec<&Value> = findings
                    .iter()
                    .filter(|f| f["severity"] == "incompatible")
                    .collect();
                let ours_qemu_rules = !incompatible.iter().any(|f| f["qemu_rule"] == true);
                match extra {
                    Some(rule) => {
                        if !incompatible.iter().any(|f| f["kind"] == rule) || !ours_qemu_rules {
                            failures.push(format!(
                                "{what}: expected only the extra rule {rule}: {findings:#?}"
                            ));
                        }
                    }
                    None => {
                        if ours_qemu_rules != ours {
                            failures.push(format!("{what}: an extra rule decided: {findings:#?}"));
                        }
                    }
                }
                pairs.push((src.clone(), dest.clone()));
                expected.push((what, ours || extra.is_some(), findings));
            }
        }
    }
    for (sv, script) in &scripts {
        let Some(script) = script else { continue };
        let results = run_qemu_checker_batch(script, &pairs);
        assert_eq!(results.len(), pairs.len());
        let rejected = results.iter().filter(|(code, _)| *code != 0).count();
        assert!(
            rejected > 40 && results.len() - rejected > 40,
            "{rejected} of {}",
            results.len()
        );
        for ((code, lines), (what, expected, findings)) in results.iter().zip(&expected) {
            let theirs = *code == 0;
            if theirs != *expected {
                failures.push(format!(
                    "{what}: QEMU {sv}'s checker says compatible={theirs}, expected {expected}: {lines:?}; ours: {findings:#?}"
                ));
            }
        }
    }
    for (mt, n) in MUTATIONS.iter().zip(&applied) {
        assert!(*n > 0, "{:?} applied to no dump", mt.name);
    }
    assert!(applied.iter().sum::<usize>() >= 80, "{applied:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
