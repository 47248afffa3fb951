//! Source locations for values in a RON scenario file.
//!
//! RON's serde deserializer keeps no spans, so once semantic validation finds
//! a problem such as `domains[2].tiers[0].min_replicas must be ≥ 1`, this module
//! maps that value path back to a `line:col` in the source text.
//!
//! [`SourceMap::parse`] runs a small, forgiving RON lexer + recursive-descent
//! parser over the text and records the location of every struct field,
//! sequence/tuple element and map entry, nested arbitrarily deep. It never
//! panics: at the first thing it cannot understand it stops quietly and keeps
//! whatever it has indexed so far.
//!
//! Path syntax (mirrors what validation reports):
//! * struct field `.name` (no leading dot at the root: `version`, `domains[0].name`);
//! * sequence / tuple element `[i]`;
//! * map entry `.key`, where `key` is a string key's text between the quotes
//!   (escapes left as written) or, for any other key, its source text.
//!
//! Struct names and enum variant names are transparent (`Scenario(version: 1)`
//! ⇒ `version`). A parenthesised group holding exactly one unnamed value
//! (`Some(x)`, a newtype variant or newtype struct) is transparent as well: the
//! inner value's fields are indexed under the outer path, and the inner value
//! itself is additionally indexed as `path[0]`. Groups of two or more unnamed
//! values are tuples: `[0]`, `[1]`, ….
//!
//! Locations: a named field maps to its name, an element or map entry to the
//! start of its value (for maps: of the key); the root `""` maps to the first
//! value in the file (after any `#![enable(...)]` attributes).

use std::fmt;

/// 1-based line and column (column counted in chars, tabs count as 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub line: u32,
    pub col: u32,
}

impl Location {
    /// Where a RON parse error starts (lines and columns from 1).
    pub fn of_ron_error(e: &ron::error::SpannedError) -> Location {
        Location {
            line: u32::try_from(e.span.start.line).unwrap_or(u32::MAX).max(1),
            col: u32::try_from(e.span.start.col).unwrap_or(u32::MAX).max(1),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Deepest container nesting that is indexed; anything deeper stops the parse
/// (keeps the recursion bounded on hostile input).
const MAX_DEPTH: u32 = 128;

/// Value paths of a RON document mapped to their source locations.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    /// Sorted by path, unique paths (first occurrence in the source wins).
    entries: Vec<(String, Location)>,
    /// Indices into `entries`, in source order.
    order: Vec<usize>,
}

impl SourceMap {
    /// Best effort: indexes everything it can parse and stops quietly at the first thing it cannot.
    pub fn parse(src: &str) -> SourceMap {
        let mut parser = Parser { src, toks: Lexer::new(src).tokenize(), i: 0, out: Vec::new(), mute: 0 };
        parser.document();
        let mut entries = parser.out;
        entries.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        entries.dedup_by(|later, kept| later.0 == kept.0);
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by(|&a, &b| {
            let (pa, la) = &entries[a];
            let (pb, lb) = &entries[b];
            la.cmp(lb).then(pa.len().cmp(&pb.len())).then(pa.cmp(pb))
        });
        SourceMap { entries, order }
    }

    /// Exact path lookup.
    pub fn locate(&self, path: &str) -> Option<Location> {
        self.entries
            .binary_search_by(|(p, _)| p.as_str().cmp(path))
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|&(_, loc)| loc)
    }

    /// Location of `path` or, failing that, of its longest indexed ancestor
    /// (e.g. `events[3].ramp_secs` missing ⇒ `events[3]`); the root `""` maps to
    /// the first value in the file (1:1 when nothing could be indexed).
    pub fn locate_nearest(&self, path: &str) -> Location {
        if let Some(loc) = self.locate(path) {
            return loc;
        }
        let mut prefix = path;
        while let Some(cut) = prefix.rfind(['.', '[']) {
            prefix = prefix.get(..cut).unwrap_or("");
            if let Some(loc) = self.locate(prefix) {
                return loc;
            }
        }
        self.locate("").unwrap_or(Location { line: 1, col: 1 })
    }

    /// All indexed paths, in source order (for debugging/tests).
    pub fn paths(&self) -> impl Iterator<Item = (&str, Location)> {
        self.order.iter().filter_map(|&i| self.entries.get(i)).map(|(p, loc)| (p.as_str(), *loc))
    }
}

// ---------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// One of `( ) [ ] { } , : # !`.
    Punct(char),
    /// Identifier, raw identifiers without their `r#`.
    Ident(String),
    /// String literal (plain or raw): the text between the quotes.
    Str(String),
    /// Any other literal: number, char, byte string, byte.
    Lit,
}

#[derive(Clone, Debug)]
struct Tok {
    kind: Kind,
    loc: Location,
    /// Byte range in the source.
    start: usize,
    end: usize,
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: u32,
    col: u32,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0, line: 1, col: 1 }
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.rest().chars().nth(n)
    }

    fn loc(&self) -> Location {
        Location { line: self.line, col: self.col }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        match c {
            '\n' => {
                self.line = self.line.saturating_add(1);
                self.col = 1;
            }
            // CRLF is one line break; a BOM is invisible.
            '\r' if self.peek() == Some('\n') => {}
            '\u{feff}' => {}
            _ => self.col = self.col.saturating_add(1),
        }
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.bump();
        }
        hit
    }

    /// Tokens up to the first lexical error (or the end of input).
    fn tokenize(mut self) -> Vec<Tok> {
        let mut toks = Vec::new();
        while self.skip_trivia() {
            let (start, loc) = (self.pos, self.loc());
            let Some(c) = self.peek() else { break };
            let Some(kind) = self.token(c) else { break };
            toks.push(Tok { kind, loc, start, end: self.pos });
        }
        toks
    }

    /// Skips whitespace and comments; `false` on an unterminated block comment.
    fn skip_trivia(&mut self) -> bool {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(c), _) if c.is_whitespace() || c == '\u{feff}' => {
                    self.bump();
                }
                (Some('/'), Some('/')) => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                (Some('/'), Some('*')) => {
                    self.bump();
                    self.bump();
                    let mut depth = 1u32;
                    while depth > 0 {
                        match (self.peek(), self.peek_at(1)) {
                            (None, _) => return false,
                            (Some('/'), Some('*')) => {
                                self.bump();
                                self.bump();
                                depth += 1;
                            }
                            (Some('*'), Some('/')) => {
                                self.bump();
                                self.bump();
                                depth -= 1;
                            }
                            _ => {
                                self.bump();
                            }
                        }
                    }
                }
                _ => return true,
            }
        }
    }

    fn token(&mut self, c: char) -> Option<Kind> {
        let next = self.peek_at(1);
        match c {
            '(' | ')' | '[' | ']' | '{' | '}' | ',' | ':' | '#' | '!' => {
                self.bump();
                Some(Kind::Punct(c))
            }
            '"' => {
                self.bump();
                self.string().map(Kind::Str)
            }
            '\'' => {
                self.bump();
                self.char_lit().map(|()| Kind::Lit)
            }
            'r' if matches!(next, Some('"' | '#')) => self.raw(),
            'b' if matches!(next, Some('"' | '\'' | 'r')) => {
                self.bump();
                match self.peek() {
                    Some('"') => {
                        self.bump();
                        self.string().map(|_| Kind::Lit)
                    }
                    Some('\'') => {
                        self.bump();
                        self.char_lit().map(|()| Kind::Lit)
                    }
                    _ if matches!(self.peek_at(1), Some('"' | '#')) => match self.raw()? {
                        Kind::Str(_) => Some(Kind::Lit),
                        _ => None,
                    },
                    // e.g. `brand`: an identifier starting with "b".
                    _ => Some(self.ident_from(self.pos - 1)),
                }
            }
            '0'..='9' => Some(self.number()),
            '+' | '-' | '.' if next.is_some_and(|n| n.is_ascii_digit() || n == 'i' || n == 'N') => {
                self.bump();
                Some(self.number())
            }
            c if is_ident_start(c) => Some(self.ident_from(self.pos)),
            _ => None,
        }
    }

    /// After the opening quote: the text up to the closing unescaped quote.
    fn string(&mut self) -> Option<String> {
        let start = self.pos;
        loop {
            let end = self.pos;
            match self.bump()? {
                '\\' => {
                    self.bump()?;
                }
                '"' => return self.src.get(start..end).map(str::to_owned),
                _ => {}
            }
        }
    }

    /// After the opening `'`: `a'`, `\''`, `\n'`, `\u{1F600}'`.
    fn char_lit(&mut self) -> Option<()> {
        match self.bump()? {
            '\\' => {
                self.bump()?;
                loop {
                    match self.bump()? {
                        '\'' => return Some(()),
                        '\n' => return None,
                        _ => {}
                    }
                }
            }
            '\'' | '\n' => None,
            _ => self.eat('\'').then_some(()),
        }
    }

    /// At `r`: a raw string `r"…"`, `r##"…"##` or a raw identifier `r#type`.
    fn raw(&mut self) -> Option<Kind> {
        self.bump();
        let mut hashes = 0usize;
        while self.eat('#') {
            hashes += 1;
        }
        if self.eat('"') {
            let start = self.pos;
            loop {
                let end = self.pos;
                if self.bump()? == '"' && (0..hashes).all(|k| self.peek_at(k) == Some('#')) {
                    for _ in 0..hashes {
                        self.bump();
                    }
                    return self.src.get(start..end).map(|s| Kind::Str(s.to_owned()));
                }
            }
        }
        if hashes == 1 && self.peek().is_some_and(is_ident_start) {
            return Some(self.ident_from(self.pos));
        }
        None
    }

    /// Consumes identifier characters; the identifier's text starts at byte `start`.
    fn ident_from(&mut self, start: usize) -> Kind {
        while self.peek().is_some_and(is_ident_continue) {
            self.bump();
        }
        Kind::Ident(self.src.get(start..self.pos).unwrap_or("").to_owned())
    }

    /// Number body (after an optional sign): `1_000`, `-1.5e3`, `0x1F`, `inf`, `1u8`.
    fn number(&mut self) -> Kind {
        let rest = self.rest();
        let radix = ["0x", "0b", "0o"].iter().any(|p| rest.starts_with(p));
        while let Some(c) = self.peek().filter(|&c| is_ident_continue(c) || c == '.') {
            self.bump();
            if matches!(c, 'e' | 'E') && !radix && matches!(self.peek(), Some('+' | '-')) {
                self.bump();
            }
        }
        Kind::Lit
    }
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

fn join_field(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") }
}

fn join_index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// Re-roots `p` (recorded under `path`) under `new_root` (= `path[0]`).
fn rebase(p: &str, path: &str, new_root: &str) -> String {
    let rest = p.get(path.len()..).unwrap_or("");
    if path.is_empty() && !rest.is_empty() && !rest.starts_with('[') {
        format!("{new_root}.{rest}")
    } else {
        format!("{new_root}{rest}")
    }
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Tok>,
    i: usize,
    out: Vec<(String, Location)>,
    /// While > 0 nothing is recorded (map keys).
    mute: u32,
}

/// `None` means "cannot parse further": it stops the whole parse quietly.
type Step = Option<()>;

impl Parser<'_> {
    fn is(&self, ahead: usize, c: char) -> bool {
        matches!(self.toks.get(self.i + ahead), Some(Tok { kind: Kind::Punct(p), .. }) if *p == c)
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.is(0, c);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn expect(&mut self, c: char) -> Step {
        self.eat(c).then_some(())
    }

    fn loc(&self) -> Option<Location> {
        self.toks.get(self.i).map(|t| t.loc)
    }

    fn record(&mut self, path: String, loc: Location) {
        if self.mute == 0 {
            self.out.push((path, loc));
        }
    }

    fn document(&mut self) {
        // `#![enable(...)]` attributes.
        while self.eat('#') {
            self.eat('!');
            if !self.is(0, '[') {
                return;
            }
            let mut depth = 0u32;
            while let Some(tok) = self.toks.get(self.i) {
                self.i += 1;
                match tok.kind {
                    Kind::Punct('[') => depth += 1,
                    Kind::Punct(']') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
        if let Some(loc) = self.loc() {
            self.record(String::new(), loc);
            let _ = self.value("", 0);
        }
    }

    fn value(&mut self, path: &str, depth: u32) -> Step {
        if depth > MAX_DEPTH {
            return None;
        }
        let kind = &self.toks.get(self.i)?.kind;
        let (punct, ident) = match kind {
            Kind::Punct(c) => (Some(*c), false),
            Kind::Ident(_) => (None, true),
            Kind::Str(_) | Kind::Lit => (None, false),
        };
        self.i += 1;
        match punct {
            Some('(') => self.group(path, depth),
            Some('[') => self.seq(path, depth),
            Some('{') => self.map(path, depth),
            Some(_) => None,
            // A named struct / tuple struct / variant: the name is transparent.
            None if ident && self.eat('(') => self.group(path, depth),
            None => Some(()),
        }
    }

    /// After `(`: unit `()`, struct `(a: 1, …)`, newtype `(x)` or tuple `(x, y, …)`.
    fn group(&mut self, path: &str, depth: u32) -> Step {
        if self.eat(')') {
            return Some(());
        }
        let named = matches!(self.toks.get(self.i), Some(Tok { kind: Kind::Ident(_), .. })) && self.is(1, ':');
        if named { self.fields(path, depth) } else { self.tuple(path, depth) }
    }

    fn fields(&mut self, path: &str, depth: u32) -> Step {
        loop {
            if self.eat(')') {
                return Some(());
            }
            let tok = self.toks.get(self.i)?;
            let Kind::Ident(name) = &tok.kind else {
                return None;
            };
            let (child, loc) = (join_field(path, name), tok.loc);
            self.i += 1;
            self.expect(':')?;
            self.record(child.clone(), loc);
            self.value(&child, depth + 1)?;
            if !self.eat(',') {
                return self.expect(')');
            }
        }
    }

    fn tuple(&mut self, path: &str, depth: u32) -> Step {
        // Parse the first element transparently (as if this were `Some(x)` or a
        // newtype); if more elements follow, re-root what it recorded at `[0]`.
        let first = self.loc()?;
        let mark = self.out.len();
        self.value(path, depth + 1)?;
        let p0 = join_index(path, 0);
        if self.is(0, ')') || (self.is(0, ',') && self.is(1, ')')) {
            self.eat(',');
            self.record(p0, first);
            return self.expect(')');
        }
        self.expect(',')?;
        for entry in self.out.iter_mut().skip(mark) {
            entry.0 = rebase(&entry.0, path, &p0);
        }
        self.record(p0, first);
        self.elements(path, depth, 1, ')')
    }

    /// After `[`.
    fn seq(&mut self, path: &str, depth: u32) -> Step {
        self.elements(path, depth, 0, ']')
    }

    /// Comma-separated elements up to `close`, recorded at `path[first_idx]`, `path[first_idx + 1]`, …
    fn elements(&mut self, path: &str, depth: u32, first_idx: usize, close: char) -> Step {
        let mut idx = first_idx;
        loop {
            if self.eat(close) {
                return Some(());
            }
            let child = join_index(path, idx);
            let loc = self.loc()?;
            self.record(child.clone(), loc);
            self.value(&child, depth + 1)?;
            idx += 1;
            if !self.eat(',') {
                return self.expect(close);
            }
        }
    }

    /// After `{`.
    fn map(&mut self, path: &str, depth: u32) -> Step {
        loop {
            if self.eat('}') {
                return Some(());
            }
            let key_tok = self.toks.get(self.i)?;
            let (loc, start, first) = (key_tok.loc, key_tok.start, self.i);
            let quoted = match &key_tok.kind {
                Kind::Str(s) => Some(s.clone()),
                _ => None,
            };
            self.mute += 1;
            let parsed = self.value("", depth + 1);
            self.mute -= 1;
            parsed?;
            let key = match quoted {
                Some(s) if self.i == first + 1 => s,
                _ => {
                    let end = self.toks.get(self.i.checked_sub(1)?)?.end;
                    self.src.get(start..end)?.to_owned()
                }
            };
            let child = join_field(path, &key);
            self.expect(':')?;
            self.record(child.clone(), loc);
            self.value(&child, depth + 1)?;
            if !self.eat(',') {
                return self.expect('}');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r##"#![enable(implicit_some)]
// Black Friday scenario: comment with ( and ] and "quotes"
Scenario(
    version: 1,
    name: "black-friday (peak] // not a comment \" still string",
    /* block /* nested ) */ still comment ] */
    seed: 0x1F,
    cluster: (
        nodes: 1_000,
        cpu_per_node: -1.5e3,
        zones: {"eu-west": 3, "us-east": 4,},
    ),
    domains: [
        Domain(
            name: "payment",
            tiers: [
                (name: "api", min_replicas: 2, max_replicas: Some(40)),
                Tier(name: "db", min_replicas: 0, max_replicas: None),
            ],
        ),
        (
            name: "search",
            tiers: [],
            weights: (0.5, 0.25, inf),
            budget: Some((cpu: 8.0, mem: 1e9)),
        ),
    ],
    events: [
        FlashSale(domain: "payment", start_secs: 60, ramp_secs: 30),
        Spike(domain: "paymnt", factor: 2.5, marker: 'x'),
        Drain, // unit variant
        Custom(r#type: "x", note: r#"raw "string" with ) and ]"#, quote: '\''),
        Outage((region: "eu", secs: -inf)),
    ],
    overrides: {
        1: [b"bytes", br#"x"#],
        (1, 2): NaN,
        Tag: [],
    },
)
"##;

    fn at(map: &SourceMap, path: &str) -> String {
        map.locate(path).map_or_else(|| "-".to_owned(), |l| l.to_string())
    }

    #[test]
    fn scenario_document_paths() {
        let m = SourceMap::parse(DOC);
        let expected = [
            ("", "3:1"),
            ("version", "4:5"),
            ("name", "5:5"),
            ("seed", "7:5"),
            ("cluster.nodes", "9:9"),
            ("cluster.cpu_per_node", "10:9"),
            ("cluster.zones.eu-west", "11:17"),
            ("cluster.zones.us-east", "11:31"),
            ("domains[0]", "14:9"),
            ("domains[0].tiers[0]", "17:17"),
            ("domains[0].tiers[0].max_replicas", "17:48"),
            ("domains[0].tiers[0].max_replicas[0]", "17:67"),
            ("domains[0].tiers[1]", "18:17"),
            ("domains[0].tiers[1].min_replicas", "18:34"),
            ("domains[1].tiers", "23:13"),
            ("domains[1].weights[1]", "24:28"),
            ("domains[1].weights[2]", "24:34"),
            ("domains[1].budget.mem", "25:37"),
            ("events[0].ramp_secs", "29:54"),
            ("events[1].domain", "30:15"),
            ("events[1].marker", "30:46"),
            ("events[2]", "31:9"),
            ("events[3].type", "32:16"),
            ("events[3].note", "32:29"),
            ("events[3].quote", "32:67"),
            ("events[4].region", "33:17"),
            ("events[4].secs", "33:31"),
            ("overrides.1[1]", "36:23"),
            ("overrides.(1, 2)", "37:9"),
            ("overrides.Tag", "38:9"),
        ];
        for (path, loc) in expected {
            assert_eq!(at(&m, path), loc, "path {path:?}");
        }
        // Nothing is indexed from inside strings or comments, nor struct names.
        for missing in ["Scenario", "budget", "events[5]", "domains[1].tiers[0]", "events[1].ramp_secs"] {
            assert_eq!(m.locate(missing), None, "{missing}");
        }
        assert_eq!(m.paths().count(), 58);
        let locs: Vec<Location> = m.paths().map(|(_, l)| l).collect();
        assert!(locs.windows(2).all(|w| w[0] <= w[1]), "paths() not in source order");
        assert_eq!(m.paths().next(), Some(("", Location { line: 3, col: 1 })));
    }

    #[test]
    fn nearest_falls_back_to_ancestors() {
        let m = SourceMap::parse(DOC);
        let near = |p: &str| m.locate_nearest(p).to_string();
        assert_eq!(near("events[1].domain"), "30:15");
        assert_eq!(near("events[1].ramp_secs"), "30:9");
        assert_eq!(near("domains[0].tiers[7].min_replicas"), "16:13");
        assert_eq!(near("cluster.zones.ap-south.weight"), "11:9");
        assert_eq!(near("nope.x[3]"), "3:1");
        assert_eq!(near(""), "3:1");
        assert_eq!(SourceMap::parse("").locate_nearest("a.b"), Location { line: 1, col: 1 });
        assert_eq!(SourceMap::parse("  // nothing\n").locate(""), None);
    }

    #[test]
    fn crlf_counts_as_one_line_break() {
        let m = SourceMap::parse("Scenario(\r\n  a: 1,\r\n  b: [\r\n    2,\r\n  ],\r\n)\r\n");
        assert_eq!(at(&m, "a"), "2:3");
        assert_eq!(at(&m, "b"), "3:3");
        assert_eq!(at(&m, "b[0]"), "4:5");
    }

    #[test]
    fn raw_strings_and_raw_identifiers() {
        let src = "(a: r##\"x \"# ) ] // \"##, r#b: r\"(\", c: br#\"]\"#, d: [1])";
        let m = SourceMap::parse(src);
        assert_eq!(at(&m, "a"), "1:2");
        assert_eq!(at(&m, "b"), "1:26");
        assert_eq!(at(&m, "c"), "1:37");
        assert_eq!(at(&m, "d[0]"), "1:53");
        let m = SourceMap::parse("{r\"k\": (x: 1), \"a\\\"b\": 2, 'c': 3, -1.5e-3: 4}");
        assert_eq!(at(&m, "k.x"), "1:9");
        assert_eq!(at(&m, "a\\\"b"), "1:16");
        assert_eq!(at(&m, "'c'"), "1:27");
        assert_eq!(at(&m, "-1.5e-3"), "1:35");
    }

    #[test]
    fn unicode_columns_count_chars_and_tabs_count_one() {
        let src = "\u{feff}(\n\tname: \"héllo wörld ✓ 🚀\", next: 1,\n\t\t// ünïcode /* ]\n\tλ: [\"€\", 'é'],\n)";
        let m = SourceMap::parse(src);
        assert_eq!(at(&m, ""), "1:1");
        assert_eq!(at(&m, "name"), "2:2");
        assert_eq!(at(&m, "next"), "2:27");
        assert_eq!(at(&m, "λ"), "4:2");
        assert_eq!(at(&m, "λ[1]"), "4:11");
    }

    #[test]
    fn tuples_newtypes_and_roots() {
        let m = SourceMap::parse("(Foo(a: 1), [2], Some((b: 3)))");
        let got: Vec<String> = m.paths().map(|(p, l)| format!("{p}@{l}")).collect();
        let want = ["@1:1", "[0]@1:2", "[0].a@1:6", "[1]@1:13", "[1][0]@1:14", "[2]@1:18", "[2][0]@1:23", "[2].b@1:24"];
        assert_eq!(got, want);
        let m = SourceMap::parse("Point(1, 2)");
        assert_eq!((at(&m, "[0]"), at(&m, "[1]")), ("1:7".to_owned(), "1:10".to_owned()));
        let m = SourceMap::parse("#![enable(implicit_some)]\n#![enable(unwrap_newtypes)]\n{\"x\": Some(5), \"x\": 6,}");
        assert_eq!(at(&m, ""), "3:1");
        assert_eq!(at(&m, "x"), "3:2"); // duplicate key: first occurrence wins
        assert_eq!(at(&m, "x[0]"), "3:12");
    }

    #[test]
    fn stops_quietly_at_first_error() {
        let m = SourceMap::parse("(a: 1, b: [2, 3 4], c: 5)");
        assert_eq!(at(&m, "b[1]"), "1:15");
        assert_eq!(m.locate("c"), None);
        let m = SourceMap::parse("(a: 1, /* unterminated\n b: 2)");
        assert_eq!(at(&m, "a"), "1:2");
        assert_eq!(m.locate("b"), None);
    }

    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> usize {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) as usize
        }
    }

    fn exercise(src: &str) -> SourceMap {
        let m = SourceMap::parse(src);
        for (p, l) in m.paths() {
            assert_eq!(m.locate(p), Some(l));
            m.locate_nearest(&format!("{p}.x[1]"));
        }
        m
    }

    #[test]
    fn truncated_prefixes_never_panic_and_agree_with_full_parse() {
        let full = SourceMap::parse(DOC);
        for (i, _) in DOC.char_indices() {
            let m = exercise(&DOC[..i]);
            for (p, l) in m.paths() {
                assert_eq!(full.locate(p), Some(l), "prefix {i}: {p}");
            }
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = Lcg(0x5eed);
        for _ in 0..2000 {
            let len = rng.next() % 300;
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            exercise(&String::from_utf8_lossy(&bytes));
        }
        // Mutated copies of a valid document hit the interesting paths far more often.
        let alphabet: Vec<char> = "()[]{},:#!rb'\"/*\\\n\r\t é0x-.e_ä🚀".chars().collect();
        let doc: Vec<char> = DOC.chars().collect();
        for _ in 0..2000 {
            let mut s = doc.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = rng.next() % s.len();
                let c = alphabet[rng.next() % alphabet.len()];
                match rng.next() % 3 {
                    0 => s[at] = c,
                    1 => s.insert(at, c),
                    _ => drop(s.remove(at)),
                }
            }
            exercise(&s.into_iter().collect::<String>());
        }
        for deep in ["[", "(", "{", "Some(", "{[", "/*", "r#", "#!["] {
            exercise(&deep.repeat(100_000));
        }
    }
}
