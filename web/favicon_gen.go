//go:build ignore

// favicon_gen draws parley's icon, web/favicon.ico: an ICO holding PNG images
// of 16, 32 and 48 pixels (every browser reads PNG inside ICO). Run from web/:
// go run favicon_gen.go favicon.ico
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

// draw renders parley's icon at size n: a blue rounded square with a white
// speech bubble and three blue dots.
func draw(n int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	blue := color.NRGBA{0x0b, 0x57, 0xd0, 0xff}
	white := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	s := float64(n)
	in := func(x, y, x0, y0, x1, y1, r float64) bool {
		cx := math.Max(x0+r, math.Min(x, x1-r))
		cy := math.Max(y0+r, math.Min(y, y1-r))
		return x >= x0 && x <= x1 && y >= y0 && y <= y1 && (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
	}
	const ss = 4
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			var cb, cw int
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					px := (float64(x) + (float64(sx)+.5)/ss) / s
					py := (float64(y) + (float64(sy)+.5)/ss) / s
					if !in(px, py, 0, 0, 1, 1, .22) {
						continue
					}
					bubble := in(px, py, .16, .2, .84, .7, .14)
					// the tail: a triangle below the bubble's left part
					tail := py >= .68 && py <= .86 && px >= .28 && px <= .28+(.86-py)*1.1 && px <= .48
					dot := false
					for _, dx := range []float64{.33, .5, .67} {
						if (px-dx)*(px-dx)+(py-.45)*(py-.45) <= .06*.06 {
							dot = true
						}
					}
					if (bubble || tail) && !dot {
						cw++
					} else {
						cb++
					}
				}
			}
			a := cb + cw
			if a == 0 {
				continue
			}
			mix := func(b, w uint8) uint8 { return uint8((int(b)*cb + int(w)*cw) / a) }
			img.SetNRGBA(x, y, color.NRGBA{mix(blue.R, white.R), mix(blue.G, white.G), mix(blue.B, white.B), uint8(255 * a / (ss * ss))})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // an in-memory NRGBA always encodes
	}
	return buf.Bytes()
}

func main() {
	sizes := []int{16, 32, 48}
	var imgs [][]byte
	for _, n := range sizes {
		imgs = append(imgs, draw(n))
	}
	var out bytes.Buffer
	binary.Write(&out, binary.LittleEndian, []uint16{0, 1, uint16(len(sizes))})
	off := 6 + 16*len(sizes)
	for i, n := range sizes {
		out.Write([]byte{byte(n), byte(n), 0, 0})
		binary.Write(&out, binary.LittleEndian, []uint16{1, 32})
		binary.Write(&out, binary.LittleEndian, []uint32{uint32(len(imgs[i])), uint32(off)})
		off += len(imgs[i])
	}
	for _, b := range imgs {
		out.Write(b)
	}
	if err := os.WriteFile(os.Args[1], out.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
