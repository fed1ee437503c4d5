package ixn

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxConditionLen bounds a condition's length and maxDepth its nesting, so
// that a hostile condition cannot exhaust the parser's stack.
const (
	maxConditionLen = 4096
	maxDepth        = 64
)

// ConditionError is a syntax error in a view condition, at byte offset Pos.
type ConditionError struct {
	Pos int
	Msg string
}

// Error says what is wrong and where.
func (e *ConditionError) Error() string {
	return fmt.Sprintf("ixn: condition: %s at offset %d", e.Msg, e.Pos)
}

// Condition is a parsed view condition: comparisons of interaction properties
// with string and number literals and _current_time() (epoch seconds),
// combined with AND, OR, NOT and parentheses. The empty condition matches
// everything. A Condition is immutable and safe for concurrent use.
type Condition struct {
	root node // nil matches everything
	src  string
}

// String returns the condition as written.
func (c Condition) String() string { return c.src }

// Match reports whether props satisfy the condition at time now. A
// comparison with a missing property is false. When one side is a number
// literal or _current_time(), the comparison is numeric and a property that
// is not a number makes it false; otherwise two values that both read as
// numbers compare as numbers, anything else as strings.
func (c Condition) Match(props map[string]string, now time.Time) bool {
	return c.root == nil || c.root.eval(props, now)
}

// node is one node of a condition tree.
type node interface {
	eval(props map[string]string, now time.Time) bool
}

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ x node }

func (n andNode) eval(p map[string]string, t time.Time) bool { return n.l.eval(p, t) && n.r.eval(p, t) }
func (n orNode) eval(p map[string]string, t time.Time) bool  { return n.l.eval(p, t) || n.r.eval(p, t) }
func (n notNode) eval(p map[string]string, t time.Time) bool { return !n.x.eval(p, t) }

// operandKind says what an operand of a comparison is.
type operandKind int

const (
	opProperty operandKind = iota
	opString
	opNumber
	opNow // _current_time()
)

type operand struct {
	kind operandKind
	text string  // property name or string literal
	num  float64 // number literal
}

// value returns the operand's text, its number when it has one, and whether
// it is defined at all (a missing property is not).
func (o operand) value(props map[string]string, now time.Time) (text string, num float64, isNum, ok bool) {
	switch o.kind {
	case opProperty:
		v, ok := props[o.text]
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return v, n, err == nil, ok
	case opNumber:
		return "", o.num, true, true
	case opNow:
		return "", float64(now.Unix()), true, true
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(o.text), 64)
	return o.text, n, err == nil, true
}

type compareNode struct {
	op   string
	l, r operand
}

func (n compareNode) eval(props map[string]string, now time.Time) bool {
	ls, ln, lnum, lok := n.l.value(props, now)
	rs, rn, rnum, rok := n.r.value(props, now)
	if !lok || !rok {
		return false
	}
	numeric := n.l.kind == opNumber || n.l.kind == opNow || n.r.kind == opNumber || n.r.kind == opNow
	if numeric && (!lnum || !rnum) {
		return false
	}
	if numeric || lnum && rnum {
		return holds(n.op, cmpFloat(ln, rn))
	}
	return holds(n.op, strings.Compare(ls, rs))
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// holds applies a comparison operator to the result of a three-way compare.
func holds(op string, c int) bool {
	switch op {
	case "=":
		return c == 0
	case "!=", "<>":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0 // ">="
}

// ParseCondition parses a view condition, for example
//
//	GCTI_Chat_AsyncCheckAt < _current_time()
//	ChatSkills = 'billing' AND (Priority > 2 OR NOT Vip = 'no')
//
// Property names are letters, digits, '_', '.' and '-', not starting with a
// digit; strings are quoted with ' or " (a doubled quote escapes it); keywords
// are case-insensitive. Errors are *ConditionError.
func ParseCondition(src string) (Condition, error) {
	if len(src) > maxConditionLen {
		return Condition{}, &ConditionError{Pos: maxConditionLen, Msg: fmt.Sprintf("longer than %d bytes", maxConditionLen)}
	}
	toks, err := lex(src)
	if err != nil {
		return Condition{}, err
	}
	if len(toks) == 1 { // only the end
		return Condition{src: src}, nil
	}
	p := &parser{toks: toks}
	root, err := p.or(0)
	if err != nil {
		return Condition{}, err
	}
	if t := p.peek(); t.kind != tokEnd {
		return Condition{}, &ConditionError{Pos: t.pos, Msg: fmt.Sprintf("unexpected %s", t)}
	}
	return Condition{root: root, src: src}, nil
}

type tokKind int

const (
	tokEnd tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokOp
	tokLParen
	tokRParen
	tokAnd
	tokOr
	tokNot
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tokEnd:
		return "end of condition"
	case tokString:
		return "string " + strconv.Quote(t.text)
	}
	return strconv.Quote(t.text)
}

// lex cuts src into tokens, ending with tokEnd.
func lex(src string) ([]token, error) {
	var toks []token
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		t, n, err := lexOne(src, i)
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		i += n
	}
	return append(toks, token{kind: tokEnd, pos: len(src)}), nil
}

// lexOne reads the token at src[i:] and returns it with its length.
func lexOne(src string, i int) (token, int, error) {
	c := src[i]
	switch {
	case c == '(':
		return token{tokLParen, "(", i}, 1, nil
	case c == ')':
		return token{tokRParen, ")", i}, 1, nil
	case c == '\'' || c == '"':
		return lexString(src, i)
	case strings.ContainsRune("=!<>", rune(c)):
		return lexOp(src, i)
	case c >= '0' && c <= '9' || c == '-' || c == '.':
		return lexNumber(src, i)
	case isIdentStart(c):
		return lexWord(src, i)
	}
	r, _ := utf8.DecodeRuneInString(src[i:])
	return token{}, 0, &ConditionError{Pos: i, Msg: fmt.Sprintf("unexpected character %q", r)}
}

func lexString(src string, i int) (token, int, error) {
	q := src[i]
	var b strings.Builder
	for j := i + 1; j < len(src); j++ {
		if src[j] != q {
			b.WriteByte(src[j])
			continue
		}
		if j+1 < len(src) && src[j+1] == q { // doubled quote
			b.WriteByte(q)
			j++
			continue
		}
		return token{tokString, b.String(), i}, j + 1 - i, nil
	}
	return token{}, 0, &ConditionError{Pos: i, Msg: "unterminated string"}
}

func lexOp(src string, i int) (token, int, error) {
	for _, op := range []string{"<=", ">=", "!=", "<>", "=", "<", ">"} {
		if strings.HasPrefix(src[i:], op) {
			return token{tokOp, op, i}, len(op), nil
		}
	}
	return token{}, 0, &ConditionError{Pos: i, Msg: "unexpected '!' (want !=)"}
}

func lexNumber(src string, i int) (token, int, error) {
	j := i + 1
	for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
		j++
	}
	if _, err := strconv.ParseFloat(src[i:j], 64); err != nil {
		return token{}, 0, &ConditionError{Pos: i, Msg: fmt.Sprintf("invalid number %q", src[i:j])}
	}
	return token{tokNumber, src[i:j], i}, j - i, nil
}

func lexWord(src string, i int) (token, int, error) {
	j := i + 1
	for j < len(src) && isIdentPart(src[j]) {
		j++
	}
	word := src[i:j]
	switch strings.ToUpper(word) {
	case "AND":
		return token{tokAnd, word, i}, j - i, nil
	case "OR":
		return token{tokOr, word, i}, j - i, nil
	case "NOT":
		return token{tokNot, word, i}, j - i, nil
	}
	return token{tokIdent, word, i}, j - i, nil
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '.' || c == '-'
}

// parser is a recursive-descent parser over the tokens:
//
//	or      = and { OR and }
//	and     = not { AND not }
//	not     = NOT not | primary
//	primary = "(" or ")" | operand op operand
//	operand = ident | ident "(" ")" | string | number
type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEnd {
		p.i++
	}
	return t
}

func (p *parser) or(depth int) (node, error) {
	return p.binary(depth, tokOr, p.and, func(l, r node) node { return orNode{l, r} })
}

func (p *parser) and(depth int) (node, error) {
	return p.binary(depth, tokAnd, p.not, func(l, r node) node { return andNode{l, r} })
}

// binary parses operands of sub joined by the keyword kind, left to right.
func (p *parser) binary(depth int, kind tokKind, sub func(int) (node, error), join func(l, r node) node) (node, error) {
	l, err := sub(depth)
	if err != nil {
		return nil, err
	}
	for p.peek().kind == kind {
		p.next()
		r, err := sub(depth)
		if err != nil {
			return nil, err
		}
		l = join(l, r)
	}
	return l, nil
}

func (p *parser) not(depth int) (node, error) {
	if depth > maxDepth {
		return nil, &ConditionError{Pos: p.peek().pos, Msg: fmt.Sprintf("nested deeper than %d", maxDepth)}
	}
	if p.peek().kind == tokNot {
		p.next()
		x, err := p.not(depth + 1)
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	}
	return p.primary(depth)
}

func (p *parser) primary(depth int) (node, error) {
	if p.peek().kind == tokLParen {
		p.next()
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tokRParen {
			return nil, &ConditionError{Pos: t.pos, Msg: fmt.Sprintf("want ')', got %s", t)}
		}
		return x, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (node, error) {
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	op := p.next()
	if op.kind != tokOp {
		return nil, &ConditionError{Pos: op.pos, Msg: fmt.Sprintf("want a comparison operator, got %s", op)}
	}
	r, err := p.operand()
	if err != nil {
		return nil, err
	}
	return compareNode{op: op.text, l: l, r: r}, nil
}

func (p *parser) operand() (operand, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		return operand{kind: opString, text: t.text}, nil
	case tokNumber:
		n, _ := strconv.ParseFloat(t.text, 64) // checked by the lexer
		return operand{kind: opNumber, num: n}, nil
	case tokIdent:
		if p.peek().kind != tokLParen {
			return operand{kind: opProperty, text: t.text}, nil
		}
		return p.call(t)
	}
	return operand{}, &ConditionError{Pos: t.pos, Msg: fmt.Sprintf("want a property, string or number, got %s", t)}
}

// call parses the argument list of the function named by t.
func (p *parser) call(t token) (operand, error) {
	if t.text != "_current_time" {
		return operand{}, &ConditionError{Pos: t.pos, Msg: fmt.Sprintf("unknown function %q (want _current_time)", t.text)}
	}
	p.next() // (
	if c := p.next(); c.kind != tokRParen {
		return operand{}, &ConditionError{Pos: c.pos, Msg: "_current_time takes no arguments"}
	}
	return operand{kind: opNow}, nil
}
