package bench

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// textPrefix starts every message the generator sends, so that a receiver
// tells them from anything else in a transcript.
const textPrefix = "bench seq="

// messageText returns the text of message seq sent at t.
func messageText(seq int, t time.Time) string {
	return textPrefix + strconv.Itoa(seq) + " t=" + strconv.FormatInt(t.UnixNano(), 10)
}

// parseText returns the sequence number and send time of a message text,
// and false for a text the generator did not write.
func parseText(text string) (int, time.Time, bool) {
	rest, ok := strings.CutPrefix(text, textPrefix)
	if !ok {
		return 0, time.Time{}, false
	}
	seqText, tText, ok := strings.Cut(rest, " t=")
	if !ok {
		return 0, time.Time{}, false
	}
	seq, err1 := strconv.Atoi(seqText)
	ns, err2 := strconv.ParseInt(tText, 10, 64)
	if err1 != nil || err2 != nil || seq < 1 {
		return 0, time.Time{}, false
	}
	return seq, time.Unix(0, ns), true
}

// tracker checks one direction of one session: the messages its sender had
// acknowledged and those its receiver got, by sequence number from 1.
type tracker struct {
	mu    sync.Mutex // guards the fields below
	acked []bool
	got   []bool
	top   int // the highest sequence number received
}

func newTracker(n int) *tracker { return &tracker{acked: make([]bool, n), got: make([]bool, n)} }

// ack records that message seq was acknowledged to its sender.
func (t *tracker) ack(seq int) {
	t.mu.Lock()
	t.acked[seq-1] = true
	t.mu.Unlock()
}

// receive records message seq and reports whether it is a duplicate and
// whether it came after a later one. A number out of range is a duplicate:
// the generator never sent it in this session.
func (t *tracker) receive(seq int) (dup, reordered bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if seq > len(t.got) || t.got[seq-1] {
		return true, false
	}
	t.got[seq-1] = true
	reordered = seq < t.top
	t.top = max(t.top, seq)
	return false, reordered
}

// catchUp records message seq, replayed to a receiver that may already
// have it, and reports whether it is new.
func (t *tracker) catchUp(seq int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if seq < 1 || seq > len(t.got) || t.got[seq-1] {
		return false
	}
	t.got[seq-1] = true
	t.top = max(t.top, seq)
	return true
}

// missing returns how many acknowledged messages have not been received.
func (t *tracker) missing() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for i, a := range t.acked {
		if a && !t.got[i] {
			n++
		}
	}
	return n
}
