package bench

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Plot geometry, in SVG user units.
const (
	panelW, panelH = 420, 280
	marginL        = 60
	marginT        = 40
	marginB        = 50
	gap            = 70
)

var colors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}

// series is one result's points: active sessions against a figure.
type series struct {
	label string
	x, y  []float64
}

// Plot returns an SVG of two panels: active sessions against the gate p99
// latency, and against the chat server's CPU (% of a core); one line per
// result.
func Plot(results []Result, labels []string) []byte {
	var lat, cpu []series
	for i, r := range results {
		l, c := series{label: labels[i]}, series{label: labels[i]}
		for _, s := range r.Steps {
			l.x, l.y = append(l.x, float64(s.Sessions)), append(l.y, s.GateP99Ms)
			if pct, ok := roleCPU(s, "chat-server"); ok {
				c.x, c.y = append(c.x, float64(s.Sessions)), append(c.y, pct)
			}
		}
		lat, cpu = append(lat, l), append(cpu, c)
	}
	var b strings.Builder
	w := 2*(marginL+panelW) + gap
	h := marginT + panelH + marginB + 20*len(results)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	panel(&b, marginL, "p99 delivery latency (ms, gate)", lat)
	panel(&b, 2*marginL+panelW+gap, "chat server CPU (% of one core)", cpu)
	legend(&b, labels, marginT+panelH+marginB)
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// panel draws one chart with its left edge at x0.
func panel(b *strings.Builder, x0 int, title string, ss []series) {
	xmax, ymax := niceMax(ss, func(s series) []float64 { return s.x }), niceMax(ss, func(s series) []float64 { return s.y })
	px := func(v float64) float64 { return float64(x0) + v/xmax*panelW }
	py := func(v float64) float64 { return float64(marginT+panelH) - v/ymax*panelH }
	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", x0, marginT-15, html.EscapeString(title))
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#444"/>`+"\n", x0, marginT, panelW, panelH)
	for i := 0; i <= 5; i++ {
		xv, yv := xmax*float64(i)/5, ymax*float64(i)/5
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", px(xv), marginT, px(xv), marginT+panelH)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", px(xv), marginT+panelH+15, short(xv))
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", x0, py(yv), x0+panelW, py(yv))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", x0-5, py(yv)+4, short(yv))
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">active sessions</text>`+"\n", x0+panelW/2, marginT+panelH+35)
	for i, s := range ss {
		var pts []string
		for j := range s.x {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.x[j]), py(s.y[j])))
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", px(s.x[j]), py(s.y[j]), colors[i%len(colors)])
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), colors[i%len(colors)])
	}
}

func legend(b *strings.Builder, labels []string, y0 int) {
	for i, l := range labels {
		y := y0 + 20*i
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="14" height="4" fill="%s"/>`+"\n", marginL, y+4, colors[i%len(colors)])
		fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", marginL+20, y+10, html.EscapeString(l))
	}
}

// niceMax returns a round number at or above every value of the series
// (1, 2 or 5 times a power of ten), 1 when there are none.
func niceMax(ss []series, vals func(series) []float64) float64 {
	m := 0.0
	for _, s := range ss {
		for _, v := range vals(s) {
			m = math.Max(m, v)
		}
	}
	if m <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(m)))
	for _, f := range []float64{1, 2, 5, 10} {
		if f*p >= m {
			return f * p
		}
	}
	return 10 * p
}

// short writes an axis value: 1500 as 1.5k.
func short(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", math.Round(v/1e5)/10)
	case v >= 1e3:
		return fmt.Sprintf("%gk", math.Round(v/1e2)/10)
	}
	return fmt.Sprintf("%g", math.Round(v*10)/10)
}
