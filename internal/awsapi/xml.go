package awsapi

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The SNS query protocol answers in XML. Its responses are small and
// plain (elements and text, no DTDs), so they are read by this minimal,
// strict parser rather than encoding/xml, which no function links for any
// other reason. It keeps elements (their local names) and text, skips
// attributes, comments and processing instructions, refuses DOCTYPEs,
// mismatched or unclosed tags and unknown entities, and bounds nesting and
// size.

// xnode is one element.
type xnode struct {
	name string
	text string
	kids []*xnode
}

// child is the first child element named name, or nil.
func (n *xnode) child(name string) *xnode {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

// find is the first element named name in n's subtree (n included),
// depth first, or nil.
func (n *xnode) find(name string) *xnode {
	if n == nil {
		return nil
	}
	if n.name == name {
		return n
	}
	for _, k := range n.kids {
		if f := k.find(name); f != nil {
			return f
		}
	}
	return nil
}

// childText is the text of the child named name ("" when there is none).
func (n *xnode) childText(name string) string {
	if c := n.child(name); c != nil {
		return strings.TrimSpace(c.text)
	}
	return ""
}

const (
	maxXMLDepth = 32
	maxXMLNodes = 20000
)

var errXML = errors.New("malformed XML")

// parseXML parses a document into its root element.
func parseXML(b []byte) (*xnode, error) {
	p := xparser{s: string(b)}
	if !utf8.ValidString(p.s) {
		return nil, errXML
	}
	p.s = strings.TrimPrefix(p.s, "\uFEFF")
	if err := p.misc(); err != nil {
		return nil, err
	}
	root, err := p.element(0)
	if err != nil {
		return nil, err
	}
	if err := p.misc(); err != nil {
		return nil, err
	}
	if p.i != len(p.s) {
		return nil, errXML
	}
	return root, nil
}

type xparser struct {
	s     string
	i     int
	nodes int
}

// misc skips whitespace, comments and processing instructions.
func (p *xparser) misc() error {
	for {
		for p.i < len(p.s) && isSpace(p.s[p.i]) {
			p.i++
		}
		rest := p.s[p.i:]
		var err error
		switch {
		case strings.HasPrefix(rest, "<?"):
			_, err = p.skip(rest, "<?", "?>")
		case strings.HasPrefix(rest, "<!--"):
			_, err = p.skip(rest, "<!--", "-->")
		default:
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// element parses one element starting at '<'.
func (p *xparser) element(depth int) (*xnode, error) {
	if depth >= maxXMLDepth {
		return nil, errXML
	}
	if p.nodes++; p.nodes > maxXMLNodes {
		return nil, errXML
	}
	if p.i >= len(p.s) || p.s[p.i] != '<' {
		return nil, errXML
	}
	p.i++
	qname := p.name()
	if qname == "" {
		return nil, errXML
	}
	n := &xnode{name: local(qname)}
	// Attributes: skipped, with their quoted values.
	for {
		if p.i >= len(p.s) {
			return nil, errXML
		}
		c := p.s[p.i]
		switch {
		case c == '>':
			p.i++
			return n, p.content(n, qname, depth)
		case c == '/':
			if !strings.HasPrefix(p.s[p.i:], "/>") {
				return nil, errXML
			}
			p.i += 2
			return n, nil
		case c == '"' || c == '\'':
			end := strings.IndexByte(p.s[p.i+1:], c)
			if end < 0 {
				return nil, errXML
			}
			p.i += end + 2
		case c == '<':
			return nil, errXML
		default:
			p.i++
		}
	}
}

// content parses an element's content up to its end tag.
func (p *xparser) content(n *xnode, qname string, depth int) error {
	var text strings.Builder
	for {
		lt := strings.IndexByte(p.s[p.i:], '<')
		if lt < 0 {
			return errXML
		}
		if err := unescape(&text, p.s[p.i:p.i+lt]); err != nil {
			return err
		}
		p.i += lt
		rest := p.s[p.i:]
		switch {
		case strings.HasPrefix(rest, "</"):
			p.i += 2
			if p.name() != qname {
				return errXML
			}
			for p.i < len(p.s) && isSpace(p.s[p.i]) {
				p.i++
			}
			if p.i >= len(p.s) || p.s[p.i] != '>' {
				return errXML
			}
			p.i++
			n.text = text.String()
			return nil
		case strings.HasPrefix(rest, "<!--"):
			if _, err := p.skip(rest, "<!--", "-->"); err != nil {
				return err
			}
		case strings.HasPrefix(rest, "<![CDATA["):
			cdata, err := p.skip(rest, "<![CDATA[", "]]>")
			if err != nil {
				return err
			}
			text.WriteString(cdata)
		case strings.HasPrefix(rest, "<?"):
			if _, err := p.skip(rest, "<?", "?>"); err != nil {
				return err
			}
		case strings.HasPrefix(rest, "<!"):
			return errXML // DOCTYPE and the like
		default:
			k, err := p.element(depth + 1)
			if err != nil {
				return err
			}
			n.kids = append(n.kids, k)
		}
	}
}

// skip passes rest's leading open...close section, returning what is
// between them.
func (p *xparser) skip(rest, open, close string) (string, error) {
	end := strings.Index(rest[len(open):], close)
	if end < 0 {
		return "", errXML
	}
	p.i += len(open) + end + len(close)
	return rest[len(open) : len(open)+end], nil
}

// name reads a tag name.
func (p *xparser) name() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if isSpace(c) || c == '>' || c == '/' || c == '<' || c == '=' || c == '"' || c == '\'' {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

// local drops a namespace prefix.
func local(qname string) string {
	if i := strings.IndexByte(qname, ':'); i >= 0 {
		return qname[i+1:]
	}
	return qname
}

// unescape appends s with its entity and character references replaced.
func unescape(b *strings.Builder, s string) error {
	for {
		amp := strings.IndexByte(s, '&')
		if amp < 0 {
			b.WriteString(s)
			return nil
		}
		b.WriteString(s[:amp])
		s = s[amp+1:]
		semi := strings.IndexByte(s, ';')
		if semi < 0 || semi > 10 {
			return errXML
		}
		ref := s[:semi]
		s = s[semi+1:]
		switch ref {
		case "lt":
			b.WriteByte('<')
		case "gt":
			b.WriteByte('>')
		case "amp":
			b.WriteByte('&')
		case "quot":
			b.WriteByte('"')
		case "apos":
			b.WriteByte('\'')
		default:
			if len(ref) < 2 || ref[0] != '#' {
				return errXML
			}
			var n uint64
			var err error
			if ref[1] == 'x' {
				n, err = strconv.ParseUint(ref[2:], 16, 32)
			} else {
				n, err = strconv.ParseUint(ref[1:], 10, 32)
			}
			r := rune(n)
			if err != nil || n > utf8.MaxRune || !utf8.ValidRune(r) || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') {
				return errXML
			}
			b.WriteRune(r)
		}
	}
}
