//! A small, strict reader for the flat handshake object.
//!
//! It reads one JSON object whose interesting values are scalars or a flat
//! array of strings. Values of unknown keys may be any JSON; they are
//! checked and skipped with an explicit stack of at most 64 levels (a bit
//! set), never by recursion. Every loop advances through the input or
//! returns, so garbage costs at most one pass.

use super::Handshake;
use crate::engineio::{HandshakeError, Transport, Upgrades};

/// Deepest nesting followed inside ignored values.
const MAX_SKIP_DEPTH: u32 = 64;

/// Parses handshake JSON (see [`Handshake::decode`]).
pub(super) fn parse(src: &str) -> Result<Handshake<'_>, HandshakeError> {
    let mut p = Parser { src, pos: 0 };
    let mut sid = None;
    let mut upgrades = None;
    let mut ping_interval = None;
    let mut ping_timeout = None;
    let mut max_payload = None;

    p.ws();
    p.eat(b'{')?;
    p.ws();
    if p.peek() == Some(b'}') {
        p.bump();
    } else {
        loop {
            p.ws();
            let (key, _) = p.string()?;
            p.ws();
            p.eat(b':')?;
            p.ws();
            match key {
                "sid" => {
                    first_time(&sid, "sid")?;
                    if p.peek() != Some(b'"') {
                        return Err(HandshakeError::InvalidField("sid"));
                    }
                    let (value, escaped) = p.string()?;
                    if escaped {
                        return Err(HandshakeError::EscapedSid);
                    }
                    if value.is_empty() {
                        return Err(HandshakeError::InvalidField("sid"));
                    }
                    sid = Some(value);
                }
                "upgrades" => {
                    first_time(&upgrades, "upgrades")?;
                    upgrades = Some(p.upgrades()?);
                }
                "pingInterval" => {
                    first_time(&ping_interval, "pingInterval")?;
                    ping_interval = Some(p.integer("pingInterval")?);
                }
                "pingTimeout" => {
                    first_time(&ping_timeout, "pingTimeout")?;
                    ping_timeout = Some(p.integer("pingTimeout")?);
                }
                "maxPayload" => {
                    first_time(&max_payload, "maxPayload")?;
                    max_payload = Some(p.integer("maxPayload")?);
                }
                _ => p.skip_value()?,
            }
            p.ws();
            match p.peek() {
                Some(b',') => p.bump(),
                Some(b'}') => {
                    p.bump();
                    break;
                }
                _ => return Err(p.syntax()),
            }
        }
    }
    p.ws();
    if p.pos != src.len() {
        return Err(p.syntax());
    }
    Ok(Handshake {
        sid: sid.ok_or(HandshakeError::MissingField("sid"))?,
        upgrades: upgrades.ok_or(HandshakeError::MissingField("upgrades"))?,
        ping_interval: ping_interval.ok_or(HandshakeError::MissingField("pingInterval"))?,
        ping_timeout: ping_timeout.ok_or(HandshakeError::MissingField("pingTimeout"))?,
        max_payload,
    })
}

fn first_time<T>(slot: &Option<T>, key: &'static str) -> Result<(), HandshakeError> {
    match slot {
        Some(_) => Err(HandshakeError::DuplicateField(key)),
        None => Ok(()),
    }
}

struct Parser<'a> {
    src: &'a str,
    /// Always `<= src.len()`.
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn bump(&mut self) {
        if self.pos < self.src.len() {
            self.pos += 1;
        }
    }

    fn syntax(&self) -> HandshakeError {
        HandshakeError::Syntax { offset: self.pos }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    fn eat(&mut self, byte: u8) -> Result<(), HandshakeError> {
        if self.peek() == Some(byte) {
            self.bump();
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    /// Reads a JSON string; returns its raw contents (escapes left in place)
    /// and whether it contains any escape.
    fn string(&mut self) -> Result<(&'a str, bool), HandshakeError> {
        self.eat(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            match self.peek() {
                None => return Err(self.syntax()),
                Some(b'"') => {
                    // Both ends are at ASCII quotes: valid char boundaries.
                    let raw = self.src.get(start..self.pos).ok_or(self.syntax())?;
                    self.bump();
                    return Ok((raw, escaped));
                }
                Some(b'\\') => {
                    escaped = true;
                    self.bump();
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.bump(),
                        Some(b'u') => {
                            self.bump();
                            for _ in 0..4 {
                                if !self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                                    return Err(self.syntax());
                                }
                                self.bump();
                            }
                        }
                        _ => return Err(self.syntax()),
                    }
                }
                Some(0x00..=0x1F) => return Err(self.syntax()),
                Some(_) => self.bump(),
            }
        }
    }

    /// Reads one or more ASCII digits.
    fn digits(&mut self) -> Result<(), HandshakeError> {
        if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
            return Err(self.syntax());
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        Ok(())
    }

    /// Reads a JSON number. Returns its value if it is a non-negative
    /// integer written without fraction or exponent that fits a `u64`.
    fn number(&mut self) -> Result<Option<u64>, HandshakeError> {
        let mut integral = true;
        if self.peek() == Some(b'-') {
            integral = false;
            self.bump();
        }
        let mut value: Option<u64> = Some(0);
        match self.peek() {
            Some(b'0') => self.bump(),
            Some(b'1'..=b'9') => {
                while let Some(d @ b'0'..=b'9') = self.peek() {
                    value = value
                        .and_then(|v| v.checked_mul(10))
                        .and_then(|v| v.checked_add(u64::from(d - b'0')));
                    self.bump();
                }
            }
            _ => return Err(self.syntax()),
        }
        if self.peek() == Some(b'.') {
            integral = false;
            self.bump();
            self.digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            integral = false;
            self.bump();
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.bump();
            }
            self.digits()?;
        }
        Ok(if integral { value } else { None })
    }

    /// Reads the value of an integer-valued key.
    fn integer(&mut self, key: &'static str) -> Result<u64, HandshakeError> {
        if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
            return Err(HandshakeError::InvalidField(key));
        }
        self.number()?.ok_or(HandshakeError::InvalidField(key))
    }

    /// Reads the `upgrades` array of transport names.
    fn upgrades(&mut self) -> Result<Upgrades, HandshakeError> {
        const KEY: &str = "upgrades";
        if self.peek() != Some(b'[') {
            return Err(HandshakeError::InvalidField(KEY));
        }
        self.bump();
        self.ws();
        let mut set = Upgrades::NONE;
        if self.peek() == Some(b']') {
            self.bump();
            return Ok(set);
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(HandshakeError::InvalidField(KEY));
            }
            let (name, escaped) = self.string()?;
            if let (false, Some(t)) = (escaped, Transport::from_name(name)) {
                set.insert(t);
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b']') => {
                    self.bump();
                    return Ok(set);
                }
                _ => return Err(self.syntax()),
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), HandshakeError> {
        let end = self.pos.saturating_add(word.len());
        if self.src.as_bytes().get(self.pos..end) == Some(word) {
            self.pos = end;
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    /// Reads an object key and its colon.
    fn key(&mut self) -> Result<(), HandshakeError> {
        self.ws();
        self.string()?;
        self.ws();
        self.eat(b':')
    }

    /// Checks and skips any JSON value, iteratively.
    fn skip_value(&mut self) -> Result<(), HandshakeError> {
        // Bit `i` set: nesting level `i` is an object (else an array).
        let mut objects: u64 = 0;
        let mut depth: u32 = 0;
        loop {
            // A value starts here.
            self.ws();
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    self.bump();
                    self.ws();
                    let is_object = open == b'{';
                    let close = if is_object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.bump();
                    } else {
                        if depth >= MAX_SKIP_DEPTH {
                            return Err(HandshakeError::TooDeep);
                        }
                        let bit = 1u64.checked_shl(depth).unwrap_or(0);
                        if is_object {
                            objects |= bit;
                            self.key()?;
                        } else {
                            objects &= !bit;
                        }
                        depth += 1;
                        continue;
                    }
                }
                Some(b'"') => {
                    self.string()?;
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                _ => return Err(self.syntax()),
            }
            // A value ended: continue or close the enclosing containers.
            loop {
                let Some(top) = depth.checked_sub(1) else {
                    return Ok(());
                };
                let in_object = objects & 1u64.checked_shl(top).unwrap_or(0) != 0;
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.bump();
                        if in_object {
                            self.key()?;
                        }
                        break;
                    }
                    Some(b']') if !in_object => {
                        self.bump();
                        depth = top;
                    }
                    Some(b'}') if in_object => {
                        self.bump();
                        depth = top;
                    }
                    _ => return Err(self.syntax()),
                }
            }
        }
    }
}
