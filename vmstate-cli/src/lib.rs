//! The `vmstate` command's work, as functions (the binary parses arguments
//! and prints; tests call these directly).
//!
//! * [`analyze`]: what `scripts/analyze-migration.py` prints;
//! * [`sections`]: one line per record;
//! * [`edit`]: changes fields through the generic decoder and writes a new
//!   stream;
//! * [`roundtrip`]: loads every section that has a Rust mirror in the
//!   `vmstate-qemu` catalog and saves it again.

pub mod gen_rust;

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use vmstate_migration::{
    edit as field_edit, generic, locate_vmdesc, Analyzer, FooterPolicy, Item, Payload, ReadOptions,
    SectionKind, StreamError, StreamReader, StreamWriter, VmDesc, WriteOptions,
};

/// Streams at least this large get a progress bar (when stderr is a
/// terminal).
const PROGRESS_MIN: u64 = 64 << 20;

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
    /// A file could not be opened, read or written.
    Io {
        /// The file.
        file: PathBuf,
        /// The error.
        err: io::Error,
    },
    /// A bad `--set` argument, or one naming nothing in the stream.
    Usage(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Stream { file, err } => write!(f, "{}: {err}", file.display()),
            CliError::Io { file, err } => write!(f, "{}: {err}", file.display()),
            CliError::Usage(m) => f.write_str(m),
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

fn io_err(file: &Path) -> impl Fn(io::Error) -> CliError + '_ {
    move |err| CliError::Io {
        file: file.to_owned(),
        err,
    }
}

/// An open stream file: its length and its vmdesc (read from the end).
struct Input {
    path: PathBuf,
    file: File,
    len: u64,
    desc: Option<VmDesc>,
}

impl Input {
    fn open(path: &Path, opts: &ReadOptions) -> Result<Input, CliError> {
        let ioe = io_err(path);
        let mut file = File::open(path).map_err(&ioe)?;
        let len = file.metadata().map_err(&ioe)?.len();
        let tail_len = len.min(opts.max_vmdesc_len.saturating_add(5));
        file.seek(SeekFrom::Start(len - tail_len)).map_err(&ioe)?;
        let mut tail = Vec::new();
        (&mut file)
            .take(tail_len)
            .read_to_end(&mut tail)
            .map_err(&ioe)?;
        let desc = locate_vmdesc(&tail, opts.max_vmdesc_len)
            .map_err(|e| e.rebase(len - tail_len))
            .map_err(stream_err(path))?;
        file.seek(SeekFrom::Start(0)).map_err(&ioe)?;
        Ok(Input {
            path: path.to_owned(),
            file,
            len,
            desc,
        })
    }

    /// A record reader over the file, with a progress bar when useful.
    fn reader(
        self,
        opts: ReadOptions,
    ) -> Result<
        (
            StreamReader<vmstate_core::stream::IoSource<Progress>>,
            PathBuf,
        ),
        CliError,
    > {
        let bar = (self.len >= PROGRESS_MIN && io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(self.len);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
            {
                bar.set_style(style);
            }
            bar
        });
        let src = Progress {
            inner: self.file,
            bar,
        };
        let r = StreamReader::new(src, self.desc, opts).map_err(stream_err(&self.path))?;
        Ok((r, self.path))
    }
}

/// A `Read` that advances a progress bar.
struct Progress {
    inner: File,
    bar: Option<ProgressBar>,
}

impl Read for Progress {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(b) = &self.bar {
            b.inc(n as u64);
        }
        Ok(n)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// `vmstate analyze FILE [--desc]`: the JSON `analyze-migration.py -f FILE`
/// (or `-d desc`) prints, as a string ending in a newline.
pub fn analyze(path: &Path, desc_only: bool) -> Result<String, CliError> {
    let opts = ReadOptions {
        keep_ram_pages: false,
        ..ReadOptions::default()
    };
    let input = Input::open(path, &opts)?;
    if input.desc.is_none() {
        return Err(CliError::Usage(format!(
            "{}: no vmdesc trailer found: the device sections cannot be decoded",
            path.display()
        )));
    }
    let (mut r, path) = input.reader(opts)?;
    if desc_only {
        let json = r.vmdesc().map(|d| d.json.clone()).unwrap_or_default();
        return Ok(vmstate_migration::to_python_json(&json));
    }
    let mut a = Analyzer::new();
    while let Some(item) = r.next_item().map_err(stream_err(&path))? {
        a.add(&item);
    }
    Ok(vmstate_migration::to_python_json(&a.finish()))
}

/// `vmstate sections FILE`: a header line, then one line per record:
/// offset, type, section id, idstr, instance id, version, payload length,
/// subsections (`-` where a column does not apply).
pub fn sections(path: &Path, out: &mut dyn Write) -> Result<(), CliError> {
    let opts = ReadOptions {
        keep_ram_pages: false,
        ..ReadOptions::default()
    };
    let (mut r, path) = Input::open(path, &opts)?.reader(opts)?;
    let ioe = io_err(Path::new("<stdout>"));
    writeln!(
        out,
        "{:>10}  {:<6} {:>4}  {:<32} {:>4} {:>4} {:>8}  SUBSECTIONS",
        "OFFSET", "TYPE", "ID", "IDSTR", "INST", "VER", "PAYLOAD"
    )
    .map_err(&ioe)?;
    let row = |out: &mut dyn Write, off: u64, ty: &str, rest: String| {
        writeln!(out, "{off:#010x}  {ty:<6} {rest}")
    };
    while let Some(item) = r.next_item().map_err(stream_err(&path))? {
        match &item {
            Item::Configuration(c) => row(
                out,
                c.offset,
                "CONFIG",
                format!(
                    "{:>4}  {:<32} {:>4} {:>4} {:>8}  {}",
                    "-",
                    c.machine,
                    "-",
                    "-",
                    "-",
                    if c.subsections.is_empty() {
                        "-".to_string()
                    } else {
                        c.subsections
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    }
                ),
            ),
            Item::Section(s) => {
                let subs = match &s.payload {
                    Payload::Vmsd(v) => v.value.subsection_names(),
                    Payload::Ram(_) | Payload::Loaded => Vec::new(),
                };
                row(
                    out,
                    s.offset,
                    s.kind.as_str(),
                    format!(
                        "{:>4}  {:<32} {:>4} {:>4} {:>8}  {}",
                        s.section_id,
                        s.idstr,
                        s.instance_id,
                        s.version_id,
                        s.payload_len(),
                        if subs.is_empty() {
                            "-".to_string()
                        } else {
                            subs.join(",")
                        }
                    ),
                )
            }
            Item::Command(c) => row(
                out,
                c.offset,
                "CMD",
                format!(
                    "{:>4}  {:<32} {:>4} {:>4} {:>8}  -",
                    "-",
                    match vmstate_migration::command::command_name(c.cmd) {
                        Some(n) => format!("{n} (command {})", c.cmd),
                        None => format!("command {}", c.cmd),
                    },
                    "-",
                    "-",
                    c.data.len()
                ),
            ),
            Item::Eof { offset } => writeln!(out, "{offset:#010x}  EOF"),
            Item::VmDesc(t) => row(
                out,
                t.offset,
                "VMDESC",
                format!(
                    "{:>4}  {:<32} {:>4} {:>4} {:>8}  -",
                    "-",
                    "(JSON)",
                    "-",
                    "-",
                    t.json.len()
                ),
            ),
        }
        .map_err(&ioe)?;
    }
    Ok(())
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
    let opts = ReadOptions {
        keep_ram_pages: false,
        ..ReadOptions::default()
    };
    let (mut r, path) = Input::open(path, &opts)?.reader(opts)?;
    let ioe = io_err(Path::new("<stdout>"));
    let ctx = vmstate_core::Context::new();
    let mut sum = RoundtripSummary::default();
    // Mirrors are built for the machine the configuration names (pc
    // without one, as in a stream saved without configuration).
    let mut machine = vmstate_qemu::machine::Machine::default();
    while let Some(item) = r.next_item().map_err(stream_err(&path))? {
        if let Item::Configuration(c) = &item {
            machine = vmstate_qemu::machine::Machine::from_name(&c.machine).unwrap_or_default();
        }
        let Item::Section(s) = &item else { continue };
        let Payload::Vmsd(v) = &s.payload else {
            continue;
        };
        let name = s.name();
        let label = name.to_string();
        let Some(entry) = vmstate_qemu::registry::lookup(&s.idstr) else {
            sum.unmirrored += 1;
            writeln!(out, "{label:<32} no mirror").map_err(&ioe)?;
            continue;
        };
        sum.mirrored += 1;
        let verdict = match (entry.roundtrip_on)(machine, &v.bytes, s.version_id, &ctx, false) {
            Err(e) => format!(
                "LOAD FAILED: {}",
                StreamError::from(e)
                    .rebase(s.payload_offset)
                    .in_section(&name)
            ),
            Ok(rt) if rt.consumed != v.bytes.len() => format!(
                "MISMATCH: the mirror read {} of {} payload bytes",
                rt.consumed,
                v.bytes.len()
            ),
            Ok(rt) if rt.resaved != v.bytes => {
                let at = rt
                    .resaved
                    .iter()
                    .zip(&v.bytes)
                    .position(|(a, b)| a != b)
                    .unwrap_or(rt.resaved.len().min(v.bytes.len()));
                format!(
                    "MISMATCH: re-saved {} bytes, differing from byte {} (stream byte {})",
                    rt.resaved.len(),
                    at,
                    s.payload_offset + at as u64
                )
            }
            Ok(_) => {
                sum.identical += 1;
                "byte-identical".to_string()
            }
        };
        writeln!(out, "{name:<36} {:<28} {verdict}", entry.type_name).map_err(&ioe)?;
    }
    writeln!(out, "{sum}").map_err(&ioe)?;
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
/// stream to `output` (through a temporary file renamed at the end, so
/// `output` is never left half-written and may be `input`).
pub fn edit(input: &Path, output: &Path, specs: &[String]) -> Result<(), CliError> {
    let opts = ReadOptions::default();
    let inp = Input::open(input, &opts)?;
    let Some(desc) = &inp.desc else {
        return Err(CliError::Usage(format!(
            "{}: no vmdesc trailer found: the device sections cannot be decoded",
            input.display()
        )));
    };
    let known: Vec<(String, u32)> = desc
        .devices
        .iter()
        .map(|d| (d.name.clone(), d.instance_id))
        .collect();
    let mut sets = Vec::with_capacity(specs.len());
    for s in specs {
        sets.push(parse_assignment(s, &known).map_err(CliError::Usage)?);
    }
    let descs = desc.clone();
    let mut applied = vec![false; sets.len()];
    let (mut r, in_path) = inp.reader(opts)?;

    let tmp = tmp_path(output);
    let oe = io_err(output);
    let file = File::create(&tmp).map_err(&oe)?;
    let result = (|| -> Result<(), CliError> {
        let mut w = StreamWriter::new(
            BufWriter::new(file),
            WriteOptions {
                footers: FooterPolicy::AsRead,
                configuration: true,
            },
        );
        let werr = stream_err(output);
        w.header().map_err(&werr)?;
        while let Some(mut item) = r.next_item().map_err(stream_err(&in_path))? {
            if let Item::Section(s) = &mut item {
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
                        let body = &descs
                            .section(&s.idstr, s.instance_id)
                            .ok_or_else(|| CliError::Usage(format!("no description for `{name}`")))?
                            .body;
                        if let Payload::Vmsd(v) = &mut s.payload {
                            for &i in &mine {
                                let Some(a) = sets.get(i) else { continue };
                                field_edit::set(&mut v.value, &a.path, &a.value).map_err(|e| {
                                    stream_err(&in_path)(e.rebase(base).in_section(&name))
                                })?;
                                if let Some(f) = applied.get_mut(i) {
                                    *f = true;
                                }
                            }
                            let bytes = generic::encode(body, &v.value).map_err(|e| {
                                stream_err(&in_path)(e.rebase(base).in_section(&name))
                            })?;
                            v.bytes = bytes;
                        }
                    }
                }
            }
            w.item(&item).map_err(&werr)?;
        }
        w.flush().map_err(&werr)?;
        for (a, done) in sets.iter().zip(&applied) {
            if !done {
                return Err(CliError::Usage(format!(
                    "`{}`: section {}:{} is described but not in the stream",
                    a.spec, a.idstr, a.instance_id
                )));
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, output).map_err(&oe),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn tmp_path(output: &Path) -> PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    output.with_file_name(format!(".{name}.vmstate-{}.tmp", std::process::id()))
}

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
