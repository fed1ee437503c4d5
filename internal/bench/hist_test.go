package bench

import (
	"testing"
	"time"
)

func TestBucketBoundsContainTheirValues(t *testing.T) {
	for _, v := range []uint64{0, 1, 31, 32, 33, 63, 64, 65, 100, 1000, 123456, 1 << 40} {
		i := bucket(v)
		if up := upper(i); uint64(up) < v {
			t.Errorf("value %d: bucket %d upper %d is below it", v, i, up)
		}
		if i > 0 && uint64(upper(i-1)) >= v {
			t.Errorf("value %d: previous bucket's upper %d already holds it", v, upper(i-1))
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.Quantile(c.q)
		if got < c.want || float64(got) > float64(c.want)*1.04 {
			t.Errorf("Quantile(%v) = %v, want %v within 4%%", c.q, got, c.want)
		}
	}
	if h.Max() != time.Second || h.Count() != 1000 {
		t.Errorf("max %v count %d", h.Max(), h.Count())
	}
	var empty Histogram
	if empty.Quantile(0.99) != 0 {
		t.Error("an empty histogram has no quantile")
	}
}
