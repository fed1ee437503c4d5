package cli

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// supervisorName prefixes the lines up writes about its children.
const supervisorName = "parley"

// maxLine bounds a buffered partial line: a longer one is written in pieces
// rather than held in memory.
const maxLine = 64 << 10

// console writes whole lines, each prefixed with a padded name, from many
// goroutines onto one writer: lines never interleave.
type console struct {
	mu    sync.Mutex // guards w
	w     io.Writer
	width int // of the name column
}

func newConsole(w io.Writer, names []string) *console {
	c := &console{w: w, width: len(supervisorName)}
	for _, n := range names {
		c.width = max(c.width, len(n))
	}
	return c
}

// line writes text (without its newline) as name's line.
func (c *console) line(name string, text []byte) {
	text = bytes.TrimSuffix(text, []byte("\r"))
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, "%-*s | %s\n", c.width, name, text) // one Write per line
}

// say writes a line of up's own.
func (c *console) say(format string, args ...any) {
	c.line(supervisorName, fmt.Appendf(nil, format, args...))
}

// prefixWriter is an io.Writer for one child's output: it cuts what it is
// given into lines and writes each to the console under the child's name.
type prefixWriter struct {
	con  *console
	name string
	mu   sync.Mutex // guards buf
	buf  []byte     // the partial line written so far
}

func (c *console) writer(name string) *prefixWriter {
	return &prefixWriter{con: c, name: name}
}

// Write never fails: losing a child's output must not stop the child.
func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	start := 0
	for {
		i := bytes.IndexByte(p.buf[start:], '\n')
		if i < 0 {
			break
		}
		p.con.line(p.name, p.buf[start:start+i])
		start += i + 1
	}
	p.buf = p.buf[:copy(p.buf, p.buf[start:])] // keep the partial line only
	if len(p.buf) >= maxLine {
		p.con.line(p.name, p.buf)
		p.buf = p.buf[:0]
	}
	return len(b), nil
}

// flush writes the last line of a child that ended without a newline.
func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		p.con.line(p.name, p.buf)
		p.buf = nil
	}
}
