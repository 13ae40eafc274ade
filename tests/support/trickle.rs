//! A reader that hands out one byte per `read`: an io source that never
//! has more than one byte in memory, so every load through it takes the
//! field-by-field path (the fast path's counterpart in tests).

/// One byte per `read` from the bytes it holds.
pub struct Trickle<'a>(pub &'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(slot)) => {
                *slot = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}
