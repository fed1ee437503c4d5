package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// subBits is the resolution of a Histogram: 2^subBits buckets per power of
// two, so a quantile is within about 3% of the true value.
const subBits = 5

// nBuckets covers every int64 number of microseconds.
const nBuckets = (64 - subBits) << subBits

// Histogram counts durations in logarithmic buckets of microseconds. Record
// is lock-free and safe for concurrent use; reads are approximate while
// records continue, which a live display tolerates.
type Histogram struct {
	counts [nBuckets]atomic.Int64
	n      atomic.Int64
	max    atomic.Int64 // microseconds
}

// bucket returns the bucket of v microseconds: exact below 2^subBits, then
// 2^subBits buckets per power of two.
func bucket(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1
	return e<<subBits + int(v>>e)
}

// upper returns the largest value of bucket i, so that quantiles err on the
// side of slowness.
func upper(i int) int64 {
	if i < 2<<subBits {
		return int64(i)
	}
	e := i>>subBits - 1
	return int64((uint64(i-e<<subBits)+1)<<e - 1)
}

// Record adds one duration; negative ones count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(d.Microseconds(), 0)
	h.counts[bucket(uint64(v))].Add(1)
	h.n.Add(1)
	for m := h.max.Load(); v > m && !h.max.CompareAndSwap(m, v); m = h.max.Load() {
	}
}

// Count returns how many durations were recorded.
func (h *Histogram) Count() int64 { return h.n.Load() }

// Max returns the largest duration recorded.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) * time.Microsecond }

// Quantile returns the duration below which fraction q of the records lie
// (0 when there are none).
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := int64(q*float64(n) + 0.5)
	rank = min(max(rank, 1), n)
	var seen int64
	for i := range h.counts {
		if seen += h.counts[i].Load(); seen >= rank {
			return min(time.Duration(upper(i))*time.Microsecond, h.Max())
		}
	}
	return h.Max()
}

// Latency is a Histogram's summary in a result file, in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// Summary returns h's count, quantiles and maximum.
func (h *Histogram) Summary() Latency {
	return Latency{Count: h.Count(), P50: ms(h.Quantile(0.50)), P95: ms(h.Quantile(0.95)),
		P99: ms(h.Quantile(0.99)), Max: ms(h.Max())}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
