package main

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"time"
)

// The plot: the p99 latency of admitted requests per 100 ms of the 4×
// phases (red: no limiter, blue: limiter), on a logarithmic axis from 1 ms
// to the client timeout, with the target (2× the unloaded p99) dashed in
// green. Grey rows mark 1, 10, 100 and 1000 ms; grey columns every second.

const (
	width, height = 1000, 420
	left, bottom  = 60, 30
	top, right    = 20, 20
	bucket        = 100 * time.Millisecond
)

var (
	red   = color.RGBA{200, 30, 30, 255}
	blue  = color.RGBA{30, 60, 200, 255}
	green = color.RGBA{20, 150, 40, 255}
	grey  = color.RGBA{210, 210, 210, 255}
	black = color.RGBA{0, 0, 0, 255}
)

func plot(path string, phases []phase, length, timeout, unloadedP99 time.Duration) error {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	x := func(t time.Duration) int {
		return left + int(float64(width-left-right)*float64(t)/float64(length))
	}
	lo, hi := math.Log10(1), math.Log10(ms(timeout)*1.1)
	y := func(d time.Duration) int {
		v := math.Log10(math.Max(ms(d), 1))
		return height - bottom - int(float64(height-top-bottom)*(v-lo)/(hi-lo))
	}
	for _, m := range []float64{1, 10, 100, 1000} {
		d := time.Duration(m * float64(time.Millisecond))
		if d > timeout*11/10 {
			continue
		}
		hline(img, left, width-right, y(d), grey, 1)
		label(img, 4, y(d)-3, int(m), black)
	}
	for s := time.Duration(0); s <= length; s += time.Second {
		vline(img, x(s), top, height-bottom, grey)
		label(img, x(s)-4, height-bottom+8, int(s/time.Second), black)
	}
	hline(img, left, width-right, y(2*unloadedP99), green, 6)
	for _, p := range phases {
		if p.load != 4 {
			continue
		}
		c := red
		if p.limiter {
			c = blue
		}
		series(img, p.samples, length, x, y, c)
	}
	vline(img, left, top, height-bottom, black)
	hline(img, left, width-right, height-bottom, black, 1)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func series(img *image.RGBA, ss []sample, length time.Duration, x func(time.Duration) int, y func(time.Duration) int, c color.RGBA) {
	n := int(length / bucket)
	buckets := make([][]time.Duration, n)
	for _, s := range ss {
		if i := int(s.start / bucket); !s.shed && i < n {
			buckets[i] = append(buckets[i], s.latency)
		}
	}
	px, py := -1, -1
	for i, b := range buckets {
		if len(b) == 0 {
			continue
		}
		cx, cy := x(time.Duration(i)*bucket+bucket/2), y(percentile(b, 0.99))
		if px >= 0 {
			line(img, px, py, cx, cy, c)
		}
		px, py = cx, cy
	}
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA, dash int) {
	for x := x0; x <= x1; x++ {
		if dash == 1 || (x/dash)%2 == 0 {
			img.SetRGBA(x, y, c)
			if dash > 1 {
				img.SetRGBA(x, y+1, c)
			}
		}
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	for y := y0; y <= y1; y++ {
		img.SetRGBA(x, y, c)
	}
}

// line draws a two-pixel-thick segment (Bresenham).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		img.SetRGBA(x0, y0, c)
		img.SetRGBA(x0, y0+1, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int { return max(v, -v) }

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// digits is a 3×5 bitmap font, one row of three bits per line.
var digits = [10][5]uint8{
	{7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
	{7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
}

// label writes n at (x, y), each font pixel drawn 2×2.
func label(img *image.RGBA, x, y, n int, c color.RGBA) {
	s := []byte(itoa(n))
	for i, ch := range s {
		g := digits[ch-'0']
		for row := range 5 {
			for col := range 3 {
				if g[row]&(4>>col) != 0 {
					for d := range 4 {
						img.SetRGBA(x+i*8+col*2+d%2, y+row*2+d/2, c)
					}
				}
			}
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
