//! Rust names for QEMU's: identifiers, type names, module names.

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
    "typeof", "unsized", "virtual", "yield", "try", "gen", "union",
];

/// A snake_case identifier for a QEMU name (`env.regs` -> `env_regs`,
/// `mac_reg[CTRL]` -> `mac_reg_ctrl`).
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let out = out.trim_end_matches('_').to_owned();
    let mut out = if out.is_empty() {
        "field".to_owned()
    } else {
        out
    };
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "f_");
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// A CamelCase type name for a QEMU description name (`i8259/ltim` ->
/// `I8259Ltim`, `PCIDevice` -> `PciDevice`).
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    for word in snake(name).split('_').filter(|w| !w.is_empty()) {
        let mut cs = word.chars();
        if let Some(c) = cs.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(cs);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    out
}

/// `name`, or `name_2`, `name_3`... whichever `taken` does not hold yet;
/// records it.
pub fn unique(name: String, taken: &mut Vec<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{name}_{n}");
        n += 1;
    }
    taken.push(candidate.clone());
    candidate
}

/// A string literal for `s`.
pub fn lit(s: &str) -> String {
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(snake("env.regs"), "env_regs");
        assert_eq!(snake("mac_reg[CTRL]"), "mac_reg_ctrl");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("2nd"), "f_2nd");
        assert_eq!(snake("isa-i8259"), "isa_i8259");
        assert_eq!(snake("PCIDevice"), "pcidevice");
        assert_eq!(snake("irqState"), "irq_state");
        assert_eq!(camel("i8259/ltim"), "I8259Ltim");
        assert_eq!(
            camel("ide_drive/atapi/gesn_state"),
            "IdeDriveAtapiGesnState"
        );
        assert_eq!(camel("APM State"), "ApmState");
        let mut taken = Vec::new();
        assert_eq!(unique("a".into(), &mut taken), "a");
        assert_eq!(unique("a".into(), &mut taken), "a_2");
    }
}
