//! HTML -> plain text, for the bodies of WARC `response` records.
//!
//! This module owns [`html_to_text`]: tokenizing (html5gum, a WHATWG tokenizer, so entities and
//! broken markup are handled as browsers do), dropping what is not prose (scripts, styles,
//! templates, inline SVG), and laying the remaining text out as lines: block elements start new
//! lines, paragraphs and headings are separated by a blank line, runs of whitespace collapse.
//! There is no tree building: the text is produced in one pass over the tokens.

use html5gum::emitters::callback::{CallbackEmitter, CallbackEvent};
use html5gum::{Span, Tokenizer};

/// Converts an HTML document (or fragment) to plain text.
///
/// - The contents of `script`, `style`, `noscript`, `template`, `iframe` and `svg` are dropped;
///   so are comments, the doctype and all attributes.
/// - The `<title>` text is kept: it comes first in the document, so it becomes the first line,
///   followed by a blank line. Titles often state the subject of a page in words a scanner
///   wants to see.
/// - Entities are decoded (`&amp;`, `&eacute;`, `&#8217;`, also without the `;` where HTML
///   allows it).
/// - Block elements (`p`, `div`, `br`, `li`, `h1`-`h6`, `tr`, `table`, `section`, ...) end
///   the current line; paragraphs, headings, lists, tables and similar large blocks leave a
///   blank line. Table cells are separated by a space. Inline elements (`a`, `b`, `span`, ...)
///   never split a word.
/// - Runs of spaces, tabs, newlines, no-break and ideographic spaces collapse to one space;
///   lines are trimmed; there is never more than one blank line in a row, and no leading or
///   trailing blank lines. Inside `<pre>` newlines are kept as line breaks.
///
/// Pure and infallible: any input gives some text.
pub fn html_to_text(html: &str) -> String {
    let mut out = TextBuilder::with_capacity(html.len() / 3);
    {
        let b = &mut out;
        let mut emitter = CallbackEmitter::new(
            move |event: CallbackEvent<'_>, _span: Span<()>| -> Option<()> {
                b.event(event);
                None
            },
        );
        // Without this the tokenizer would read the bodies of <script> and <style> as markup,
        // and `if (a<b)` would swallow text as a tag.
        emitter.naively_switch_states(true);
        for _ in Tokenizer::new_with_emitter(html, emitter) {}
    }
    out.text
}

/// How an element affects the layout.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Text flows through (`a`, `span`, `b`, unknown elements).
    Inline,
    /// Its contents are not text (`script`, `style`, ...).
    Skip,
    /// Ends a line.
    Line,
    /// Ends a paragraph: a blank line.
    Paragraph,
    /// A table cell: a space.
    Cell,
    /// `<pre>`: keeps newlines.
    Pre,
}

fn role(name: &[u8]) -> Role {
    match name {
        b"script" | b"style" | b"noscript" | b"template" | b"iframe" | b"svg" | b"noembed"
        | b"noframes" => Role::Skip,
        b"p" | b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6" | b"title" | b"table" | b"ul"
        | b"ol" | b"dl" | b"blockquote" | b"section" | b"article" | b"header" | b"footer"
        | b"main" | b"aside" | b"nav" | b"hr" | b"figure" | b"form" | b"fieldset" | b"details"
        | b"body" | b"address" => Role::Paragraph,
        b"br" | b"div" | b"li" | b"tr" | b"dd" | b"dt" | b"caption" | b"figcaption"
        | b"summary" | b"legend" | b"option" | b"center" | b"thead" | b"tbody" | b"tfoot"
        | b"textarea" | b"menu" | b"hgroup" | b"search" | b"dialog" | b"html" | b"head" => {
            Role::Line
        }
        b"td" | b"th" => Role::Cell,
        b"pre" | b"listing" | b"plaintext" | b"xmp" => Role::Pre,
        _ => Role::Inline,
    }
}

/// Accumulates text with the whitespace rules of [`html_to_text`].
struct TextBuilder {
    text: String,
    /// Line breaks owed before the next visible character (0, 1 or 2).
    pending_breaks: u8,
    /// A space owed before the next visible character on the same line.
    pending_space: bool,
    /// Depth inside skipped elements.
    skip_depth: u32,
    /// Depth inside `<pre>`.
    pre_depth: u32,
    /// The start tag being read is `<svg`, which (as a foreign element) may self-close.
    open_svg: bool,
}

impl TextBuilder {
    fn with_capacity(n: usize) -> TextBuilder {
        TextBuilder {
            text: String::with_capacity(n),
            pending_breaks: 0,
            pending_space: false,
            skip_depth: 0,
            pre_depth: 0,
            open_svg: false,
        }
    }

    fn event(&mut self, event: CallbackEvent<'_>) {
        match event {
            CallbackEvent::OpenStartTag { name } => {
                self.open_svg = name == b"svg";
                self.start_or_end(role(name), true);
            }
            CallbackEvent::CloseStartTag { self_closing } => {
                // Only foreign elements (svg) really self-close; browsers ignore the `/` of
                // `<script/>` or `<style/>`, and so does the tokenizer, so those stay open.
                if self_closing && self.open_svg && self.skip_depth > 0 {
                    self.skip_depth -= 1;
                }
                self.open_svg = false;
            }
            CallbackEvent::EndTag { name } => self.start_or_end(role(name), false),
            CallbackEvent::String { value } if self.skip_depth == 0 => self.push_text(value),
            _ => {}
        }
    }

    fn start_or_end(&mut self, r: Role, start: bool) {
        match r {
            Role::Inline => {}
            Role::Skip => {
                if start {
                    self.skip_depth += 1;
                } else {
                    self.skip_depth = self.skip_depth.saturating_sub(1);
                }
            }
            Role::Line => self.line_break(1),
            Role::Paragraph => self.line_break(2),
            Role::Cell => self.pending_space = true,
            Role::Pre => {
                self.line_break(2);
                if start {
                    self.pre_depth += 1;
                } else {
                    self.pre_depth = self.pre_depth.saturating_sub(1);
                }
            }
        }
    }

    fn line_break(&mut self, n: u8) {
        if self.skip_depth == 0 {
            self.pending_breaks = self.pending_breaks.max(n);
        }
    }

    /// Appends decoded character data, collapsing whitespace. Works on bytes: the only
    /// multi-byte whitespace handled is U+00A0 (C2 A0), which `&nbsp;` produces everywhere,
    /// and the ideographic space U+3000 (E3 80 80) that CJK pages pad with.
    fn push_text(&mut self, value: &[u8]) {
        let mut i = 0;
        let n = value.len();
        while i < n {
            let b = value[i];
            let ws_len = match b {
                b' ' | b'\t' | b'\r' | 0x0c => 1,
                b'\n' => {
                    if self.pre_depth > 0 {
                        self.pending_breaks = self.pending_breaks.max(1);
                    }
                    1
                }
                0xc2 if value.get(i + 1) == Some(&0xa0) => 2,
                0xe3 if value.get(i + 1..i + 3) == Some(&[0x80, 0x80]) => 3,
                _ => 0,
            };
            if ws_len > 0 {
                self.pending_space = true;
                i += ws_len;
                continue;
            }
            // A run of visible bytes.
            let start = i;
            while i < n {
                let b = value[i];
                if matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0c)
                    || (b == 0xc2 && value.get(i + 1) == Some(&0xa0))
                    || (b == 0xe3 && value.get(i + 1..i + 3) == Some(&[0x80, 0x80]))
                {
                    break;
                }
                i += 1;
            }
            self.flush_pending();
            // The tokenizer works on a &str and decodes entities to UTF-8, and the run is cut
            // only at ASCII bytes or before a lead byte, so it is whole UTF-8; the lossy
            // conversion is a guard that costs nothing when the bytes are valid.
            self.text
                .push_str(&String::from_utf8_lossy(&value[start..i]));
        }
    }

    fn flush_pending(&mut self) {
        if self.text.is_empty() {
            // Nothing before: no leading blank lines or spaces.
        } else if self.pending_breaks > 0 {
            for _ in 0..self.pending_breaks {
                self.text.push('\n');
            }
        } else if self.pending_space {
            self.text.push(' ');
        }
        self.pending_breaks = 0;
        self.pending_space = false;
    }
}

#[cfg(test)]
mod tests {
    use super::html_to_text;

    #[test]
    fn drops_script_style_and_comments() {
        let html = "<html><head><style>p { color: red }</style>\
            <script>if (a<b) { document.write('<p>no</p>'); }</script></head>\
            <body><!-- hidden --><p>Visible</p><noscript>enable js</noscript>\
            <template><p>tpl</p></template><svg><text>icon</text></svg></body></html>";
        assert_eq!(html_to_text(html), "Visible");
    }

    #[test]
    fn decodes_entities() {
        let t = html_to_text(
            "<p>Fish &amp; chips &eacute;t&eacute; it&#8217;s &lt;b&gt; &#x41;&nbsp;B</p>",
        );
        assert_eq!(t, "Fish & chips été it\u{2019}s <b> A B");
    }

    #[test]
    fn blocks_become_lines() {
        let html = "<h1>Title</h1><p>One</p><p>Two<br>Three</p><ul><li>a</li><li>b</li></ul>\
            <div>x</div><div>y</div><table><tr><td>c1</td><td>c2</td></tr><tr><td>d</td></tr></table>";
        assert_eq!(
            html_to_text(html),
            "Title\n\nOne\n\nTwo\nThree\n\na\nb\n\nx\ny\n\nc1 c2\nd"
        );
    }

    #[test]
    fn inline_tags_do_not_split_words() {
        assert_eq!(
            html_to_text("<p>un<b>believ</b><i>able</i> <a href='#'>link</a>s</p>"),
            "unbelievable links"
        );
    }

    #[test]
    fn whitespace_collapses_and_lines_are_trimmed() {
        let html = "  <p>  a \t\n  b  </p>\n\n\n<p>\n c </p>  <div> </div><div></div><p>d</p> ";
        assert_eq!(html_to_text(html), "a b\n\nc\n\nd");
        assert_eq!(
            html_to_text("<p>\u{3000}日本\u{3000}\u{3000}語\u{3000}</p>"),
            "日本 語"
        );
    }

    #[test]
    fn title_is_the_first_line() {
        let html = "<html><head><title>The &quot;Page&quot;</title></head><body>Text</body></html>";
        assert_eq!(html_to_text(html), "The \"Page\"\n\nText");
    }

    #[test]
    fn pre_keeps_newlines() {
        assert_eq!(html_to_text("<pre>a\nb</pre>c"), "a\nb\n\nc");
    }

    #[test]
    fn broken_markup_does_not_panic() {
        for s in [
            "<",
            "<<>>",
            "</",
            "<p",
            "<!--",
            "<script>",
            "&#xffffffff;",
            "&",
            "<svg/>after",
            "<a href=\"x>y</a>",
            "\u{0}<p>\u{0}</p>",
            "<table><td>x",
        ] {
            let _ = html_to_text(s);
        }
        assert_eq!(html_to_text("<svg/>after"), "after");
    }
}
