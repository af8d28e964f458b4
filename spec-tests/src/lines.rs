//! Byte offset to line/column, fast enough for files with tens of thousands of directives.
//!
//! `wast::token::Span::linecol_in` rescans the text from the start on every call, which is
//! quadratic over a 1 MB SIMD test file; this index answers the same question by binary search.
//! It counts exactly like `linecol_in` (0-based, `\n`-terminated lines, columns in bytes), and a
//! unit test holds it to that.

/// Start offsets of every line of a text.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    /// 1-based line and column of `offset` (what people and editors expect).
    pub(crate) fn linecol(&self, offset: usize) -> (usize, usize) {
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1, // `starts[0] == 0`, so `i >= 1`
        };
        (line + 1, offset - self.starts[line] + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_wast_linecol_in() {
        let text = "(module)\n\n  (assert_invalid\n(module))\r\nx";
        let index = LineIndex::new(text);
        for offset in 0..text.len() {
            let (line, col) = wast::token::Span::from_offset(offset).linecol_in(text);
            assert_eq!(
                index.linecol(offset),
                (line + 1, col + 1),
                "offset {offset}"
            );
        }
    }
}
