//! The `vmstate` command's work, as functions (the binary parses arguments
//! and prints; tests call these directly).
//!
//! * [`analyze`]: what `scripts/analyze-migration.py` prints;
//! * [`sections`]: one line per record;
//! * [`edit`]: changes fields through the generic decoder and writes a new
//!   stream;
//! * [`roundtrip`]: loads every section that has a Rust mirror in the
//!   `vmstate-qemu` catalog and saves it again;
//! * [`cmd_dump`]: the catalog's descriptions as `-dump-vmstate` JSON;
//! * [`cmd_check`]: migration compatibility of two such dumps.
//!
//! Every command reads its input once, from a file or a pipe
//! ([`io::Input`]), and writes as it reads: memory stays bounded by a
//! constant plus what a command keeps on purpose (see [`io`] and
//! `hostile`'s notes in the README).

#![deny(missing_docs)]
// Stream data must never panic the library: no unwrap/expect/panic outside tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod drive;
mod extract;
pub mod io;
// Public for the bench's page_floor example, which measures this mapping.
#[doc(hidden)]
pub mod map;
mod source;
pub use source::ReadSeek;
pub mod cmd_check;
pub mod cmd_dump;
#[cfg(unix)]
pub mod cpr;
mod targets;

pub mod gen_rust;

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use vmstate_migration::{
    edit as field_edit, generic, DecodeLimits, FooterPolicy, Item, JsonAnalyzer, Payload,
    ReadOptions, SectionKind, StreamError, StreamWriter, WriteOptions,
};

use vmstate_qemu::machine::Machine;

use crate::drive::Drive;
pub use crate::io::{finish, Input, Output, EXIT_BAD_INPUT, EXIT_DIFFERENCES, EXIT_OK};
use crate::targets::{ListTargets, Verdict};

/// Why a command failed. `Display` is one line.
#[derive(Debug)]
pub enum CliError {
    /// The stream is malformed (names section, field path, byte offset).
    Stream {
        /// The file.
        file: PathBuf,
        /// The error.
        err: StreamError,
    },
    /// The input does not start like a QEMU migration stream.
    NotAStream {
        /// The file.
        file: PathBuf,
    },
    /// A file could not be opened, read or written.
    Io {
        /// The file.
        file: PathBuf,
        /// The error.
        err: std::io::Error,
    },
    /// Writing the command's output failed (a reader that closed the pipe
    /// ends the program quietly).
    Output(std::io::Error),
    /// A bad `--set` argument, or one naming nothing in the stream.
    Usage(String),
    /// The command ran and found differences (exit status 1).
    Differences(String),
}

impl CliError {
    /// The exit status: 1 for differences found, 0 for an output closed by
    /// its reader, 2 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Differences(_) => EXIT_DIFFERENCES,
            _ if self.is_closed_output() => EXIT_OK,
            _ => EXIT_BAD_INPUT,
        }
    }

    /// Whether the error is the output's reader having gone away.
    pub fn is_closed_output(&self) -> bool {
        matches!(self, CliError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Stream { file, err } => write!(f, "{}: {err}", file.display()),
            CliError::NotAStream { file } => write!(
                f,
                "{}: not a QEMU migration stream: it does not start with the magic `QEVM` \
                 (at byte 0)",
                file.display()
            ),
            CliError::Io { file, err } => write!(f, "{}: {err}", file.display()),
            CliError::Output(err) => write!(f, "writing the output: {err}"),
            CliError::Usage(m) | CliError::Differences(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CliError {}

fn stream_err(file: &Path) -> impl Fn(StreamError) -> CliError + '_ {
    move |err| CliError::Stream {
        file: file.to_owned(),
        err,
    }
}

fn io_err(file: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |err| CliError::Io {
        file: file.to_owned(),
        err,
    }
}

fn read_opts() -> ReadOptions {
    ReadOptions {
        keep_ram_pages: false,
        ..ReadOptions::default()
    }
}

/// `vmstate analyze FILE [--desc]`: the JSON `analyze-migration.py -f FILE`
/// (or `-d desc`) prints, as a string ending in a newline.
pub fn analyze(path: &Path, desc_only: bool) -> Result<String, CliError> {
    let mut out = Vec::new();
    analyze_to(Input::open(path)?, desc_only, &mut out)?;
    String::from_utf8(out).map_err(|e| CliError::Usage(e.to_string()))
}

/// `vmstate analyze`: writes to `out` what `analyze-migration.py -f FILE`
/// (or `-d desc`) prints, section by section as they are decoded.
///
/// The vmdesc trailer is needed before the device sections: from a
/// regular file it is read first; from a pipe, RAM sections are read as
/// they come and the rest of the stream (device sections, EOF, trailer) is
/// held in memory, at most 256 MiB.
pub fn analyze_to(input: Input, desc_only: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let opts = AnalyzeOptions {
        desc_only,
        ..AnalyzeOptions::default()
    };
    analyze_with(input, &opts, out)
}

/// What `vmstate analyze` prints (its options).
#[derive(Clone, Debug, Default)]
pub struct AnalyzeOptions {
    /// `--desc`: the vmdesc JSON (`analyze-migration.py -d desc`).
    pub desc_only: bool,
    /// `--memory`: RAM pages too (`analyze-migration.py -m`).
    pub memory: bool,
    /// `--extract DIR`: `desc.json`, `state.json` and one file per RAM
    /// block in DIR (`analyze-migration.py -x`); `out` gets the names of
    /// the files written, one a line.
    pub extract: Option<PathBuf>,
}

/// `vmstate analyze` with all its options.
pub fn analyze_with(
    input: Input,
    opts: &AnalyzeOptions,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut ro = read_opts();
    ro.keep_ram_pages = opts.memory || opts.extract.is_some();
    let limits = ro.limits;
    let mut d = Drive::open(input, ro)?;
    if opts.desc_only {
        let desc = d.find_trailer()?;
        let json = desc.json().map_err(|e| d.stream_err(e))?;
        out.write_all(vmstate_migration::to_python_json(&json).as_bytes())
            .and_then(|()| out.flush())
            .map_err(CliError::Output)?;
        return Ok(());
    }
    if d.trailer_unusable() {
        d.require_desc()?;
    }
    let name = d.name.clone();
    let mut blocks = match &opts.extract {
        Some(dir) => Some(extract::Blocks::new(dir)?),
        None => None,
    };
    let mut state_file;
    // The block files' names, printed at the end (`out` may carry the JSON).
    let mut names = Vec::new();
    let json_out: &mut dyn Write = match &opts.extract {
        Some(dir) => {
            let p = dir.join("state.json");
            state_file = BufWriter::new(File::create(&p).map_err(io_err(&p))?);
            &mut state_file
        }
        None => &mut *out,
    };
    let mut a = JsonAnalyzer::new(json_out, d.require_desc().ok(), limits);
    if opts.memory && opts.extract.is_none() {
        a = a.with_memory(d.r.page_size());
    }
    if opts.extract.is_some() {
        a = a.without_final_newline();
    }
    let res = (|| -> Result<(), CliError> {
        loop {
            if let Some(desc) = d.prepare()? {
                a.set_vmdesc(desc);
            } else if d.trailer_unusable() {
                d.require_desc()?;
            }
            let Some(item) = d.next(&mut a)? else {
                return Ok(());
            };
            if let Some(b) = blocks.as_mut() {
                b.add(&item, d.r.page_size(), &mut names)
                    .map_err(|e| match e {
                        extract::Error::Stream(e) => stream_err(&name)(e),
                        extract::Error::Cli(e) => e,
                    })?;
            }
            a.add(&item).map_err(stream_err(&name))?;
        }
    })();
    let res = res.and_then(|()| a.close().map_err(stream_err(&name)));
    if let Some(e) = a.take_output_error() {
        return Err(match &opts.extract {
            Some(dir) => io_err(&dir.join("state.json"))(e),
            None => CliError::Output(e),
        });
    }
    res?;
    if let Some(dir) = &opts.extract {
        drop(a);
        let desc = d.require_desc()?;
        let p = dir.join("desc.json");
        let json = desc.json().map_err(|e| d.stream_err(e))?;
        let text = vmstate_migration::to_python_json(&json);
        std::fs::write(&p, text.trim_end_matches('\n')).map_err(io_err(&p))?;
        out.write_all(&names).map_err(CliError::Output)?;
        writeln!(out, "desc.json\nstate.json").map_err(CliError::Output)?;
        out.flush().map_err(CliError::Output)?;
    }
    Ok(())
}

/// `vmstate sections FILE`: a header line, then one line per record:
/// offset, type, section id, idstr, instance id, version, payload length,
/// subsections (`-` where a column does not apply).
pub fn sections(path: &Path, out: &mut dyn Write) -> Result<(), CliError> {
    sections_from(Input::open(path)?, out)
}

/// The column widths of `sections`.
const SECTION_COLS: [usize; 6] = [4, 32, 4, 4, 10, 0];

/// [`sections`] over any input. Works without a usable vmdesc trailer too:
/// device sections are then delimited by their Rust mirrors (a section
/// without one ends the listing with an error).
pub fn sections_from(input: Input, out: &mut dyn Write) -> Result<(), CliError> {
    let mut d = Drive::open(input, read_opts())?;
    let name = d.name.clone();
    let w = |out: &mut dyn Write, s: String| {
        writeln!(out, "{}", s.trim_end()).map_err(CliError::Output)
    };
    let cols = |off: &str, ty: &str, c: [&str; 6]| {
        let [a, b, cc, dd, e, _] = SECTION_COLS;
        format!(
            "{off:>10}  {ty:<6} {:>a$}  {:<b$} {:>cc$} {:>dd$} {:>e$}  {}",
            c[0], c[1], c[2], c[3], c[4], c[5]
        )
    };
    w(
        out,
        cols(
            "OFFSET",
            "TYPE",
            ["ID", "IDSTR", "INST", "VER", "PAYLOAD", "SUBSECTIONS"],
        ),
    )?;
    let mut t = ListTargets::new(d.require_desc().ok(), read_opts().limits, false);
    // A RAM section read in pieces: its row waits for the last piece.
    let mut ram_row: Option<(u64, String, [String; 4], u64)> = None;
    loop {
        if let Some(desc) = d.prepare()? {
            t.set_vmdesc(desc);
        }
        let Some(item) = d.next(&mut t)? else { break };
        let off = |o: u64| format!("{o:#010x}");
        match &item {
            Item::Configuration(c) => {
                // Without a trailer, mirrors delimit the sections: the
                // machine's.
                t.set_machine(Machine::from_name(&c.machine).unwrap_or_default());
                let subs: Vec<&str> = c.subsections.iter().map(|s| s.name.as_str()).collect();
                let subs = if subs.is_empty() {
                    "-".to_string()
                } else {
                    subs.join(",")
                };
                w(
                    out,
                    cols(
                        &off(c.offset),
                        "CONFIG",
                        ["-", &c.machine, "-", "-", "-", &subs],
                    ),
                )?;
            }
            Item::Section(s) => {
                let subs = match &s.payload {
                    Payload::Vmsd(v) => v.value.subsection_names(),
                    Payload::Loaded => t.take_subsections(),
                    Payload::Ram(_) => Vec::new(),
                };
                let subs = if subs.is_empty() {
                    "-".to_string()
                } else {
                    subs.join(",")
                };
                let row = [
                    s.section_id.to_string(),
                    s.idstr.clone(),
                    s.instance_id.to_string(),
                    s.version_id.to_string(),
                ];
                match &s.payload {
                    Payload::Ram(p) if !p.is_complete() => {
                        ram_row =
                            Some((s.offset, s.kind.as_str().to_string(), row, s.payload_len()));
                        continue;
                    }
                    _ => {}
                }
                let len = s.payload_len().to_string();
                w(
                    out,
                    cols(
                        &off(s.offset),
                        s.kind.as_str(),
                        [&row[0], &row[1], &row[2], &row[3], &len, &subs],
                    ),
                )?;
            }
            Item::RamContinued(c) => {
                if let Some((o, kind, row, len)) = ram_row.as_mut() {
                    *len += c.payload_end - c.offset;
                    if c.payload.is_complete() {
                        let len = len.to_string();
                        let line = cols(
                            &off(*o),
                            kind,
                            [&row[0], &row[1], &row[2], &row[3], &len, "-"],
                        );
                        ram_row = None;
                        w(out, line)?;
                    }
                }
            }
            Item::Command(c) => {
                let what = match vmstate_migration::command::command_name(c.cmd) {
                    Some(n) => format!("{n} (command {})", c.cmd),
                    None => format!("command {}", c.cmd),
                };
                let len = c.data.len().to_string();
                w(
                    out,
                    cols(&off(c.offset), "CMD", ["-", &what, "-", "-", &len, "-"]),
                )?;
            }
            Item::Eof { offset } => w(
                out,
                cols(&off(*offset), "EOF", ["-", "-", "-", "-", "-", "-"]),
            )?,
            Item::VmDesc(tr) => {
                let len = tr.json.len().to_string();
                w(
                    out,
                    cols(
                        &off(tr.offset),
                        "VMDESC",
                        ["-", "(JSON)", "-", "-", &len, "-"],
                    ),
                )?;
            }
        }
    }
    let _ = &name;
    out.flush().map_err(CliError::Output)
}

/// What [`roundtrip`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoundtripSummary {
    /// Mirrored sections saved again byte-identically.
    pub identical: usize,
    /// FULL sections with a mirror.
    pub mirrored: usize,
    /// FULL sections without one.
    pub unmirrored: usize,
}

impl RoundtripSummary {
    /// Whether every mirrored section was byte-identical.
    pub fn all_identical(&self) -> bool {
        self.identical == self.mirrored
    }
}

impl fmt::Display for RoundtripSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} sections byte-identical, {} without a mirror",
            self.identical, self.mirrored, self.unmirrored
        )
    }
}

/// `vmstate roundtrip FILE`: loads every FULL section that has a mirror in
/// the `vmstate-qemu` catalog into it (at the section's version, into the
/// mirror's `Default`, the destination's configuration) and saves it again.
/// Writes one line per FULL section and the summary line; a load error or
/// a different re-save is reported on that section's line (the error names
/// the field path and stream offset).
pub fn roundtrip(path: &Path, out: &mut dyn Write) -> Result<RoundtripSummary, CliError> {
    roundtrip_from(Input::open(path)?, out)
}

/// [`roundtrip`] over any input. Works without a usable vmdesc trailer
/// too: sections are then delimited by their mirrors.
pub fn roundtrip_from(input: Input, out: &mut dyn Write) -> Result<RoundtripSummary, CliError> {
    let mut d = Drive::open(input, read_opts())?;
    let mut t = ListTargets::new(d.require_desc().ok(), read_opts().limits, true);
    let ctx = vmstate_core::Context::new();
    let mut sum = RoundtripSummary::default();
    let line = |out: &mut dyn Write, name: &str, ty: &str, verdict: &str| {
        writeln!(out, "{name:<40} {ty:<30} {verdict}").map_err(CliError::Output)
    };
    // Mirrors are built for the machine the configuration names (pc
    // without one, as in a stream saved without configuration).
    let mut machine = Machine::default();
    loop {
        if let Some(desc) = d.prepare()? {
            t.set_vmdesc(desc);
        }
        let Some(item) = d.next(&mut t)? else { break };
        if let Item::Configuration(c) = &item {
            machine = Machine::from_name(&c.machine).unwrap_or_default();
            t.set_machine(machine);
        }
        let Item::Section(s) = &item else { continue };
        if s.kind != SectionKind::Full {
            continue;
        }
        let name = s.name();
        let label = name.to_string();
        let verdict = match &s.payload {
            Payload::Loaded => match t.take_verdict() {
                Some(v) => v,
                None => continue,
            },
            Payload::Vmsd(v) => match vmstate_qemu::registry::lookup(&s.idstr) {
                None => Verdict::NoMirror,
                Some(entry) => targets::judge(
                    entry,
                    machine,
                    &v.bytes,
                    s.version_id,
                    s.payload_offset,
                    &name,
                    &ctx,
                ),
            },
            Payload::Ram(_) => continue,
        };
        match &verdict {
            Verdict::NoMirror => {
                sum.unmirrored += 1;
                line(out, &label, "-", "no mirror")?;
            }
            Verdict::Checked {
                type_name,
                identical,
                text,
            } => {
                sum.mirrored += 1;
                if *identical {
                    sum.identical += 1;
                }
                line(out, &label, type_name, text)?;
            }
        }
    }
    writeln!(out, "{sum}").map_err(CliError::Output)?;
    out.flush().map_err(CliError::Output)?;
    Ok(sum)
}

/// One `--set` argument, resolved against the stream's sections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The section's idstr.
    pub idstr: String,
    /// Its instance id.
    pub instance_id: u32,
    /// The field path inside it.
    pub path: String,
    /// The new value, as text.
    pub value: String,
    /// The argument as given.
    pub spec: String,
}

/// Parses `IDSTR[:INSTANCE]/FIELD.PATH=VALUE` against the sections the
/// vmdesc lists (`(idstr, instance)`). The longest idstr that matches wins
/// (idstrs hold `:` and `/`, e.g. `0000:00:01.3/piix4_pm`); without
/// `:INSTANCE`, the section must have exactly one instance.
pub fn parse_assignment(spec: &str, sections: &[(String, u32)]) -> Result<Assignment, String> {
    let (lhs, value) = spec
        .split_once('=')
        .ok_or_else(|| format!("`{spec}`: expected IDSTR[:INSTANCE]/FIELD.PATH=VALUE"))?;
    let mut best: Option<(&str, Option<u32>, &str)> = None;
    for (idstr, _) in sections {
        let Some(rest) = lhs.strip_prefix(idstr.as_str()) else {
            continue;
        };
        let (instance, path) = if let Some(r) = rest.strip_prefix(':') {
            let Some((num, path)) = r.split_once('/') else {
                continue;
            };
            match num.parse::<u32>() {
                Ok(n) => (Some(n), path),
                Err(_) => continue,
            }
        } else if let Some(path) = rest.strip_prefix('/') {
            (None, path)
        } else {
            continue;
        };
        if best.is_none_or(|b| idstr.len() > b.0.len()) {
            best = Some((idstr, instance, path));
        }
    }
    let Some((idstr, instance, path)) = best else {
        return Err(format!(
            "`{spec}`: no section of this stream matches (expected IDSTR[:INSTANCE]/FIELD.PATH=VALUE)"
        ));
    };
    let instances: Vec<u32> = sections
        .iter()
        .filter(|(s, _)| s == idstr)
        .map(|(_, i)| *i)
        .collect();
    let instance_id = match instance {
        Some(i) if instances.contains(&i) => i,
        Some(i) => {
            return Err(format!(
                "`{spec}`: section `{idstr}` has no instance {i} (it has {instances:?})"
            ))
        }
        None => match instances.as_slice() {
            [only] => *only,
            _ => {
                return Err(format!(
                    "`{spec}`: section `{idstr}` has instances {instances:?}: say which, as `{idstr}:N/...`"
                ))
            }
        },
    };
    if path.is_empty() {
        return Err(format!("`{spec}`: no field path after the section"));
    }
    Ok(Assignment {
        idstr: idstr.to_owned(),
        instance_id,
        path: path.to_owned(),
        value: value.to_owned(),
        spec: spec.to_owned(),
    })
}

/// `vmstate edit IN OUT --set ...`: applies the assignments and writes the
/// stream to `output`, or to stdout for `-` (a file is written through a
/// temporary file renamed at the end, so `output` is never left
/// half-written and may be `input`; the temporary file is removed when the
/// command fails or is interrupted).
pub fn edit(input: &Path, output: &Path, specs: &[String]) -> Result<(), CliError> {
    edit_from(Input::open(input)?, output, specs)
}

/// [`edit`] over any input.
pub fn edit_from(input: Input, output: &Path, specs: &[String]) -> Result<(), CliError> {
    let opts = ReadOptions::default();
    let mut d = Drive::open(input, opts)?;
    let in_path = d.name.clone();
    if d.trailer_unusable() {
        d.require_desc()?;
    }
    // On a pipe, everything up to the first device section streams
    // through; the assignments are checked once the trailer is known.
    if crate::io::is_dash(output) {
        let mut out = Output::stdout();
        edit_into(&mut d, &in_path, &mut out, output, specs)?;
        return out.flush().map_err(CliError::Output);
    }
    let tmp = tmp::TempFile::create(output)?;
    let file = File::create(tmp.path()).map_err(io_err(output))?;
    let mut w = BufWriter::new(file);
    edit_into(&mut d, &in_path, &mut w, output, specs)?;
    w.flush().map_err(io_err(output))?;
    drop(w);
    tmp.persist(output)
}

fn edit_into(
    d: &mut Drive,
    in_path: &Path,
    out: &mut dyn Write,
    output: &Path,
    specs: &[String],
) -> Result<(), CliError> {
    let w = StreamWriter::new(
        out,
        WriteOptions {
            footers: FooterPolicy::AsRead,
            configuration: true,
        },
    );
    let werr = |e: StreamError| {
        if !matches!(e.kind(), vmstate_migration::StreamErrorKind::Io) {
            return stream_err(output)(e);
        }
        // Keep the kind (a closed pipe ends the program quietly).
        let mut kind = std::io::ErrorKind::Other;
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                kind = io.kind();
                break;
            }
            src = s.source();
        }
        CliError::Output(std::io::Error::new(kind, e.to_string()))
    };
    // Sections not edited are copied through as they are read; edited ones
    // are decoded into a value tree, changed and encoded again.
    let mut t = targets::EditTargets::new(w, DecodeLimits::default());
    t.w.header().map_err(werr)?;
    let mut sets: Option<Vec<Assignment>> = None;
    let mut applied = vec![false; specs.len()];
    loop {
        d.prepare()?;
        if sets.is_none() && matches!(d.trailer, drive::Trailer::Found(_)) {
            let desc = d.require_desc()?;
            let known: Vec<(String, u32)> = desc
                .devices
                .iter()
                .map(|x| (x.name.clone(), x.instance_id))
                .collect();
            let mut v = Vec::with_capacity(specs.len());
            for s in specs {
                v.push(parse_assignment(s, &known).map_err(CliError::Usage)?);
            }
            t.set(desc, v.iter().map(|a| (a.idstr.clone(), a.instance_id)));
            sets = Some(v);
        }
        let next = d.next(&mut t);
        if let Some(e) = t.take_output_error() {
            return Err(werr(e));
        }
        let Some(mut item) = next? else {
            break;
        };
        if let Item::Section(s) = &item {
            if s.payload == Payload::Loaded {
                // Copied through already.
                continue;
            }
        }
        if let (Item::Section(s), Some(sets)) = (&mut item, &sets) {
            if s.kind == SectionKind::Full {
                let name = s.name();
                let base = s.payload_offset;
                let mine: Vec<usize> = sets
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.idstr == s.idstr && a.instance_id == s.instance_id)
                    .map(|(i, _)| i)
                    .collect();
                if !mine.is_empty() {
                    let desc = d.require_desc()?;
                    let body = &desc
                        .section(&s.idstr, s.instance_id)
                        .ok_or_else(|| CliError::Usage(format!("no description for `{name}`")))?
                        .body;
                    if let Payload::Vmsd(v) = &mut s.payload {
                        for &i in &mine {
                            let Some(a) = sets.get(i) else { continue };
                            field_edit::set(&mut v.value, &a.path, &a.value).map_err(|e| {
                                stream_err(in_path)(e.rebase(base).in_section(&name))
                            })?;
                            if let Some(f) = applied.get_mut(i) {
                                *f = true;
                            }
                        }
                        v.bytes = generic::encode(body, &v.value)
                            .map_err(|e| stream_err(in_path)(e.rebase(base).in_section(&name)))?;
                    }
                }
            }
        }
        t.w.item(&item).map_err(werr)?;
    }
    let mut w = t.w;
    w.flush().map_err(werr)?;
    let Some(sets) = sets else {
        return Err(CliError::Usage(format!(
            "{}: the stream has no device sections to edit",
            in_path.display()
        )));
    };
    for (a, done) in sets.iter().zip(&applied) {
        if !done {
            return Err(CliError::Usage(format!(
                "`{}`: section {}:{} is described but not in the stream",
                a.spec, a.idstr, a.instance_id
            )));
        }
    }
    Ok(())
}

mod tmp;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_selectors() {
        let secs: Vec<(String, u32)> = vec![
            ("i8259".into(), 0),
            ("i8259".into(), 1),
            ("mc146818rtc".into(), 0),
            ("0000:00:01.1/ide".into(), 0),
        ];
        let a = parse_assignment("i8259:1/imr=0xb8", &secs).unwrap();
        assert_eq!(
            (a.idstr.as_str(), a.instance_id, a.path.as_str()),
            ("i8259", 1, "imr")
        );
        assert_eq!(a.value, "0xb8");
        assert!(parse_assignment("i8259/imr=1", &secs).is_err());
        assert!(parse_assignment("i8259:2/imr=1", &secs).is_err());
        let a = parse_assignment("mc146818rtc/cmos_data[14]=0x12", &secs).unwrap();
        assert_eq!((a.instance_id, a.path.as_str()), (0, "cmos_data[14]"));
        let a = parse_assignment("0000:00:01.1/ide:0/bus[0].x=1", &secs).unwrap();
        assert_eq!(
            (a.idstr.as_str(), a.path.as_str()),
            ("0000:00:01.1/ide", "bus[0].x")
        );
        let a = parse_assignment("0000:00:01.1/ide/bus=1", &secs).unwrap();
        assert_eq!(a.path, "bus");
        assert!(parse_assignment("nothing/x=1", &secs).is_err());
        assert!(parse_assignment("i8259:0/imr", &secs).is_err());
        assert!(parse_assignment("i8259:0/=1", &secs).is_err());
    }
}
