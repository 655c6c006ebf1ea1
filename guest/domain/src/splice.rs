//! Splices: a change to a text stated as "replace the bytes `start..end` with `text`",
//! every other byte staying as it was. A change sent as a splice costs the size of what
//! changed, not of the document, in memory and across the wasm boundary.

/// Replace the bytes `start..end` of a text with `text`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Splice {
    /// Where the replaced bytes begin.
    pub start: usize,
    /// Where they end (exclusive).
    pub end: usize,
    /// What stands there instead.
    pub text: String,
}

impl Splice {
    /// The splice that turns `old` into `new`: their common beginning and end are kept.
    pub fn between(old: &str, new: &str) -> Splice {
        let mut start = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
        while !(old.is_char_boundary(start) && new.is_char_boundary(start)) {
            start -= 1;
        }
        let longest_tail = old.len().min(new.len()) - start;
        let mut tail = old.bytes().rev().zip(new.bytes().rev()).take(longest_tail).take_while(|(a, b)| a == b).count();
        while !(old.is_char_boundary(old.len() - tail) && new.is_char_boundary(new.len() - tail)) {
            tail -= 1;
        }
        Splice { start, end: old.len() - tail, text: new[start..new.len() - tail].to_owned() }
    }

    /// Whether the splice can be made on `text`: its range is in bounds, in order, and
    /// on UTF-8 character boundaries.
    pub fn fits(&self, text: &str) -> bool {
        self.start <= self.end && text.get(self.start..self.end).is_some()
    }

    /// `text` with this splice made, or `None` if the splice does not fit it (its range
    /// is out of bounds, reversed, or cuts a UTF-8 character).
    pub fn apply_to(&self, text: &str) -> Option<String> {
        if !self.fits(text) {
            return None;
        }
        let (before, after) = (&text[..self.start], &text[self.end..]);
        let mut out = String::with_capacity(before.len() + self.text.len() + after.len());
        out.push_str(before);
        out.push_str(&self.text);
        out.push_str(after);
        Some(out)
    }
}

/// A text changed by several splices in turn, each on the result of the one before, and
/// the one splice of the original text that they amount to. The first splice is only
/// recorded: the text is copied when a second one needs to see the first.
pub struct Draft<'t> {
    original: &'t str,
    first: Option<Splice>,
    edited: Option<Edited>,
    /// A splice did not fit the text (which the editors never make): the draft is void.
    void: bool,
}

/// The copy a draft changes in place, and the span of it that differs from the original:
/// the first `same_start` bytes and the last `same_end` bytes are the original's.
struct Edited {
    text: String,
    same_start: usize,
    same_end: usize,
}

impl<'t> Draft<'t> {
    /// A draft of `original`, unchanged so far.
    pub fn new(original: &'t str) -> Draft<'t> {
        Draft { original, first: None, edited: None, void: false }
    }

    /// The text with every splice so far made.
    pub fn text(&mut self) -> &str {
        if let Some(first) = self.first.take() {
            let Some(text) = first.apply_to(self.original) else {
                self.void = true;
                return self.original;
            };
            let same_end = self.original.len() - first.end;
            self.edited = Some(Edited { text, same_start: first.start, same_end });
        }
        self.edited.as_ref().map_or(self.original, |edited| &edited.text)
    }

    /// Makes `splice`, whose offsets are in [`Draft::text`].
    pub fn splice(&mut self, splice: Splice) {
        let Some(edited) = &mut self.edited else {
            if self.first.is_none() {
                self.first = Some(splice);
                return;
            }
            self.text();
            return self.splice(splice);
        };
        if !splice.fits(&edited.text) {
            self.void = true;
            return;
        }
        edited.same_start = edited.same_start.min(splice.start);
        edited.same_end = edited.same_end.min(edited.text.len() - splice.end);
        edited.text.replace_range(splice.start..splice.end, &splice.text);
    }

    /// The one splice of the original that every splice made amounts to; `None` if a
    /// splice did not fit.
    pub fn finish(self) -> Option<Splice> {
        if self.void || self.first.as_ref().is_some_and(|first| !first.fits(self.original)) {
            return None;
        }
        Some(match (self.first, self.edited) {
            (Some(first), _) => first,
            (None, Some(edited)) => {
                let changed = edited.same_start..edited.text.len() - edited.same_end;
                Splice {
                    start: edited.same_start,
                    end: self.original.len() - edited.same_end,
                    text: edited.text[changed].to_owned(),
                }
            }
            (None, None) => Splice::default(),
        })
    }
}

#[cfg(test)]
#[path = "tests/splice.rs"]
mod tests;
