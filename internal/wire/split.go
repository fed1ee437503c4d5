package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// splitter cuts a frame into its messages, one per line, holding at most
// limit bytes of a message in memory however large the frame. It belongs to
// the read goroutine.
type splitter struct {
	br    *bufio.Reader
	line  []byte // the current message, reused
	limit int
	eof   bool
}

func newSplitter(limit int64) *splitter {
	return &splitter{br: bufio.NewReaderSize(nil, 4096), limit: int(limit)}
}

// reset starts a new frame read from r.
func (s *splitter) reset(r io.Reader) {
	s.br.Reset(r)
	s.eof = false
}

// next returns the next message of the frame, valid until the following
// call, or io.EOF at the end of the frame. For a message over the limit it
// returns its first limit bytes and tooLarge, having read past the rest.
func (s *splitter) next() (line []byte, tooLarge bool, err error) {
	if s.eof {
		return nil, false, io.EOF
	}
	s.line = s.line[:0]
	for {
		chunk, err := s.br.ReadSlice('\n')
		tooLarge = s.keep(bytes.TrimSuffix(chunk, []byte{'\n'}), tooLarge)
		switch {
		case err == nil:
			return s.line, tooLarge, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			s.eof = true
			if len(s.line) == 0 && !tooLarge {
				return nil, false, io.EOF
			}
			return s.line, tooLarge, nil
		default:
			return nil, false, err
		}
	}
}

// keep appends chunk to the current message up to the limit, and reports
// whether the message is now over it.
func (s *splitter) keep(chunk []byte, over bool) bool {
	if over {
		return true
	}
	if room := s.limit - len(s.line); len(chunk) > room {
		s.line = append(s.line, chunk[:room]...)
		return true
	}
	s.line = append(s.line, chunk...)
	return false
}
