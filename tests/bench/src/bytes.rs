//! Byte-level look-ups inside one complete element, instead of building a DOM per stanza.

use crate::splitter::find;

/// The element's name, as written (`stream:features`, `iq`, ...).
pub fn name(el: &[u8]) -> &[u8] {
    let body = el.strip_prefix(b"<").unwrap_or(el);
    let end = body
        .iter()
        .position(|&b| matches!(b, b' ' | b'>' | b'/' | b'\t' | b'\r' | b'\n'));
    &body[..end.unwrap_or(body.len())]
}

/// Whether the element's name is `n` (ignoring any prefix such as `stream:`).
pub fn is(el: &[u8], n: &str) -> bool {
    let full = name(el);
    let local = full.rsplit(|&b| b == b':').next().unwrap_or(full);
    local == n.as_bytes()
}

/// Value of attribute `attr` on the element's own start tag (either quote style), unescaped only
/// for `&apos;`/`&quot;`/`&amp;`, which is all that JIDs and ids here can need.
pub fn attr(el: &[u8], attr: &str) -> Option<String> {
    let tag_end = tag_end(el)?;
    let tag = &el[..tag_end];
    let mut from = 0;
    while let Some(off) = find(&tag[from..], attr.as_bytes()) {
        let at = from + off;
        from = at + attr.len();
        let before_ok = at > 0 && matches!(tag[at - 1], b' ' | b'\t' | b'\r' | b'\n');
        let rest = &tag[from..];
        let rest = trim_start(rest);
        let Some(rest) = rest.strip_prefix(b"=") else {
            continue;
        };
        let rest = trim_start(rest);
        let Some(&q) = rest.first() else { continue };
        if !before_ok || (q != b'\'' && q != b'"') {
            continue;
        }
        let end = rest[1..].iter().position(|&b| b == q)?;
        let raw = String::from_utf8_lossy(&rest[1..1 + end]);
        return Some(
            raw.replace("&apos;", "'")
                .replace("&quot;", "\"")
                .replace("&amp;", "&"),
        );
    }
    None
}

/// Text content of the first `<child>` or `<child xmlns=...>` inside `el`.
pub fn child_text<'a>(el: &'a [u8], child: &str) -> Option<&'a [u8]> {
    let open = format!("<{child}");
    let mut from = 0;
    loop {
        let at = from + find(&el[from..], open.as_bytes())?;
        let after = at + open.len();
        from = after;
        match el.get(after) {
            Some(b'>' | b' ' | b'\t' | b'\r' | b'\n' | b'/') => {}
            _ => continue,
        }
        let te = at + tag_end(&el[at..])?;
        if el[te - 1] == b'/' {
            return Some(&[]);
        }
        let close = format!("</{child}>");
        let end = find(&el[te + 1..], close.as_bytes())?;
        return Some(&el[te + 1..te + 1 + end]);
    }
}

/// The element's own content: everything between its start tag and its end tag.
pub fn inner(el: &[u8]) -> &[u8] {
    let Some(te) = tag_end(el) else { return &[] };
    if el[te - 1] == b'/' {
        return &[];
    }
    let body = &el[te + 1..];
    let end = body.iter().rposition(|&b| b == b'<').unwrap_or(body.len());
    &body[..end]
}

/// Whether `el` contains `needle` anywhere.
pub fn contains(el: &[u8], needle: &str) -> bool {
    find(el, needle.as_bytes()).is_some()
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// Offset of the `>` that ends the start tag at `el[0]`.
fn tag_end(el: &[u8]) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in el.iter().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_attrs() {
        let el = b"<iq xmlns='jabber:client' type=\"result\" xid='no' id='b&apos;1' to='a@b/c'><bind/></iq>";
        assert_eq!(name(el), b"iq");
        assert!(is(b"<stream:features>", "features"));
        assert!(is(b"<success xmlns='x'/>", "success"));
        assert!(!is(b"<successor/>", "success"));
        assert_eq!(attr(el, "type").as_deref(), Some("result"));
        assert_eq!(attr(el, "id").as_deref(), Some("b'1"));
        assert_eq!(attr(el, "from"), None);
        // Only the element's own start tag is searched.
        assert_eq!(attr(b"<a><b id='x'/></a>", "id"), None);
    }

    #[test]
    fn child_texts() {
        let el =
            b"<presence from='p@h/r'><statusx>no</statusx><status>lfbench:r1:7</status></presence>";
        assert_eq!(child_text(el, "status"), Some(&b"lfbench:r1:7"[..]));
        assert_eq!(
            child_text(b"<r><success xmlns='urn'>dj1h</success></r>", "success"),
            Some(&b"dj1h"[..])
        );
        assert_eq!(
            child_text(b"<r><success xmlns='urn'/></r>", "success"),
            Some(&b""[..])
        );
        assert!(contains(el, "lfbench"));
        assert_eq!(inner(b"<success xmlns='urn'>dj1h</success>"), b"dj1h");
        assert_eq!(inner(b"<success xmlns='urn'/>"), b"");
        assert_eq!(inner(b"<challenge xmlns='u'>cj1h</challenge>"), b"cj1h");
    }
}
