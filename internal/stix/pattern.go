package stix

import (
	"errors"
	"fmt"
	"strings"
)

// errTooComplex is what parsePattern says of a valid pattern that asks for
// more than takedown can take: a pattern is a detection rule, and only a
// rule that names exact URLs or domains names locations to take down.
var errTooComplex = errors.New("pattern too complex: only url:value and domain-name:value equality")

// maxPatternTerms bounds the URLs one indicator may name; a pattern is a
// rule, not a list, and an endless OR must not become endless findings.
const maxPatternTerms = 1000

// patternTerm is one "TYPE:value = 'VALUE'" comparison of a pattern.
type patternTerm struct {
	Type  string // "url" or "domain-name"
	Value string
}

// parsePattern reads the subset of STIX patterning that names locations:
// equality comparisons of url:value or domain-name:value, joined with OR
// inside one observation expression or between observation expressions,
// with parentheses:
//
//	[url:value = 'https://example.org/a']
//	[url:value = 'a' OR domain-name:value = 'example.net']
//	[url:value = 'a'] OR ([url:value = 'b'])
//
// Anything else that is valid STIX (AND, FOLLOWEDBY, MATCHES, LIKE, !=,
// other object paths, qualifiers such as WITHIN) returns errTooComplex;
// text that is not a pattern returns another error. A hand-written
// tokenizer, because a regular expression cannot tell a quote inside a
// string ('it\'s') from the end of one.
func parsePattern(s string) ([]patternTerm, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &patternParser{toks: toks}
	if err := p.pattern(); err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		t := p.toks[p.pos]
		if t.kind == tokIdent && isQualifier(t.text) {
			return nil, errTooComplex
		}
		return nil, p.errorf(t, "unexpected %s", t)
	}
	return p.terms, nil
}

type tokKind int

const (
	tokIdent  tokKind = iota // an object type, property name or keyword
	tokString                // a quoted string, unescaped
	tokPunct                 // [ ] ( ) : = != < > . , and the like
	tokOther                 // numbers, typed literals (t'…', h'…', b'…')
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the pattern
}

func (t token) String() string {
	switch t.kind {
	case tokString:
		return "string " + quote(t.text, 40)
	case tokPunct:
		return "'" + t.text + "'"
	default:
		return quote(t.text, 40)
	}
}

// tokenize splits a pattern into tokens. Strings are single-quoted and
// allow only the escapes \' and \\, as the STIX grammar says.
func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'':
			start := i
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' {
					if i+1 >= len(s) || (s[i+1] != '\'' && s[i+1] != '\\') {
						return nil, fmt.Errorf("pattern is not valid: bad escape in string at offset %d (only \\' and \\\\ are allowed)", i)
					}
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == '\'' {
					closed = true
					i++
					break
				}
				b.WriteByte(c)
				i++
			}
			if !closed {
				return nil, fmt.Errorf("pattern is not valid: string at offset %d is not closed", start)
			}
			toks = append(toks, token{tokString, b.String(), start})
		case isIdentStart(c):
			start := i
			for i < len(s) && isIdentPart(s[i]) {
				i++
			}
			word := s[start:i]
			// Typed literals: t'2026-…', h'ab', b'AQ=='.
			if i < len(s) && s[i] == '\'' && (word == "t" || word == "h" || word == "b") {
				j := strings.IndexByte(s[i+1:], '\'')
				if j < 0 {
					return nil, fmt.Errorf("pattern is not valid: literal at offset %d is not closed", start)
				}
				i += j + 2
				toks = append(toks, token{tokOther, s[start:i], start})
				continue
			}
			toks = append(toks, token{tokIdent, word, start})
		case c >= '0' && c <= '9' || c == '-' || c == '+':
			start := i
			i++
			for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == 'e' || s[i] == 'E') {
				i++
			}
			toks = append(toks, token{tokOther, s[start:i], start})
		case strings.IndexByte("[]():=.,*", c) >= 0:
			toks = append(toks, token{tokPunct, s[i : i+1], i})
			i++
		case c == '!' || c == '<' || c == '>':
			if i+1 < len(s) && s[i+1] == '=' {
				toks = append(toks, token{tokPunct, s[i : i+2], i})
				i += 2
			} else if c != '!' {
				toks = append(toks, token{tokPunct, s[i : i+1], i})
				i++
			} else {
				return nil, fmt.Errorf("pattern is not valid: stray '!' at offset %d", i)
			}
		default:
			return nil, fmt.Errorf("pattern is not valid: unexpected character %q at offset %d", rune(c), i)
		}
	}
	return toks, nil
}

func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || '0' <= c && c <= '9' || c == '-'
}

// isQualifier reports whether w starts an observation qualifier or another
// operator between observation expressions.
func isQualifier(w string) bool {
	switch w {
	case "WITHIN", "REPEATS", "START", "STOP", "AND", "FOLLOWEDBY":
		return true
	}
	return false
}

type patternParser struct {
	toks  []token
	pos   int
	depth int
	terms []patternTerm
}

// maxDepth bounds nested parentheses so that a hostile pattern cannot
// exhaust the stack.
const maxDepth = 50

func (p *patternParser) errorf(t token, format string, args ...any) error {
	return fmt.Errorf("pattern is not valid: "+format+" at offset %d", append(args, t.pos)...)
}

func (p *patternParser) peek() (token, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return token{}, false
}

func (p *patternParser) isPunct(text string) bool {
	t, ok := p.peek()
	return ok && t.kind == tokPunct && t.text == text
}

func (p *patternParser) isWord(text string) bool {
	t, ok := p.peek()
	return ok && t.kind == tokIdent && t.text == text
}

func (p *patternParser) expect(text string) error {
	t, ok := p.peek()
	if !ok {
		return fmt.Errorf("pattern is not valid: want '%s', the pattern ends", text)
	}
	if t.kind != tokPunct || t.text != text {
		return p.errorf(t, "want '%s', not %s", text, t)
	}
	p.pos++
	return nil
}

// pattern = observation { OR observation }
func (p *patternParser) pattern() error {
	if err := p.observation(); err != nil {
		return err
	}
	for p.isWord("OR") {
		p.pos++
		if err := p.observation(); err != nil {
			return err
		}
	}
	if p.isWord("AND") || p.isWord("FOLLOWEDBY") {
		return errTooComplex
	}
	return nil
}

// observation = "[" comparisons "]" | "(" pattern ")"
func (p *patternParser) observation() error {
	t, ok := p.peek()
	if !ok {
		return errors.New("pattern is not valid: want '[', the pattern ends")
	}
	switch {
	case t.kind == tokPunct && t.text == "[":
		p.pos++
		if err := p.comparisons(); err != nil {
			return err
		}
		if err := p.expect("]"); err != nil {
			return err
		}
	case t.kind == tokPunct && t.text == "(":
		if p.depth++; p.depth > maxDepth {
			return p.errorf(t, "parentheses nested too deep")
		}
		p.pos++
		if err := p.pattern(); err != nil {
			return err
		}
		if err := p.expect(")"); err != nil {
			return err
		}
		p.depth--
	default:
		return p.errorf(t, "want '[', not %s", t)
	}
	// An observation expression may carry qualifiers.
	if t, ok := p.peek(); ok && t.kind == tokIdent && (t.text == "WITHIN" || t.text == "REPEATS" || t.text == "START") {
		return errTooComplex
	}
	return nil
}

// comparisons = comparison { OR comparison }
func (p *patternParser) comparisons() error {
	if err := p.comparison(); err != nil {
		return err
	}
	for p.isWord("OR") {
		p.pos++
		if err := p.comparison(); err != nil {
			return err
		}
	}
	if p.isWord("AND") {
		return errTooComplex
	}
	return nil
}

// comparison = TYPE ":" "value" "=" STRING | "(" comparisons ")"
func (p *patternParser) comparison() error {
	t, ok := p.peek()
	if !ok {
		return errors.New("pattern is not valid: want a comparison, the pattern ends")
	}
	if t.kind == tokPunct && t.text == "(" {
		if p.depth++; p.depth > maxDepth {
			return p.errorf(t, "parentheses nested too deep")
		}
		p.pos++
		if err := p.comparisons(); err != nil {
			return err
		}
		if err := p.expect(")"); err != nil {
			return err
		}
		p.depth--
		return nil
	}
	if t.kind == tokIdent && t.text == "NOT" {
		return errTooComplex
	}
	if t.kind != tokIdent {
		return p.errorf(t, "want an object path, not %s", t)
	}
	typ := t.text
	p.pos++
	if err := p.expect(":"); err != nil {
		return err
	}
	prop, ok := p.peek()
	if !ok || prop.kind != tokIdent {
		if !ok {
			return errors.New("pattern is not valid: want a property name, the pattern ends")
		}
		return p.errorf(prop, "want a property name, not %s", prop)
	}
	p.pos++
	if typ != "url" && typ != "domain-name" || prop.text != "value" || p.isPunct(".") || p.isPunct("[") {
		return errTooComplex
	}
	op, ok := p.peek()
	if !ok {
		return errors.New("pattern is not valid: want an operator, the pattern ends")
	}
	if op.kind != tokPunct || op.text != "=" {
		if op.kind == tokPunct || op.kind == tokIdent {
			return errTooComplex // !=, <, MATCHES, LIKE, IN, NOT, ISSUBSET…
		}
		return p.errorf(op, "want an operator, not %s", op)
	}
	p.pos++
	v, ok := p.peek()
	if !ok {
		return errors.New("pattern is not valid: want a string, the pattern ends")
	}
	if v.kind != tokString {
		return errTooComplex // a number, a typed literal, a set
	}
	p.pos++
	if len(p.terms) >= maxPatternTerms {
		return fmt.Errorf("pattern names more than %d values", maxPatternTerms)
	}
	p.terms = append(p.terms, patternTerm{Type: typ, Value: v.text})
	return nil
}
