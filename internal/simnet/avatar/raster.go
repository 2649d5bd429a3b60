package avatar

import (
	"image"
	"math"
	"math/bits"
)

// The rasteriser works in integers only. Floating-point results may differ
// between architectures (the compiler may fuse a multiply and an add on some
// of them), and a seed must draw the same pixels everywhere. The one
// floating-point call, math.Sqrt, is correctly rounded by IEEE 754 on every
// platform.

const (
	fracBits = 8             // geometry is in 1/256 pixel
	one      = 1 << fracBits // one pixel
	sub      = 4             // anti-aliasing samples per pixel side
	step     = one / sub     // distance between samples
	turn     = 1 << 16       // angles are in 1/65536 of a full turn
)

// rng is splitmix64: its output depends on the seed alone, while the derived
// methods of math/rand may change between Go releases.
type rng struct{ s uint64 }

func newRNG(seed, stream uint64) *rng {
	r := &rng{s: seed ^ stream}
	r.next() // decorrelates neighbouring seeds before the first draw
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// intn returns a number in [0, n); the modulo bias is far below anything
// visible in a picture.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// px converts whole pixels to geometry units.
func px(v int) int64 { return int64(v) * one }

// sin returns the sine of a (in 1/65536 turn) in Q16 fixed point.
func sin(a int64) int64 {
	a &= turn - 1
	neg := a >= turn/2
	if neg {
		a -= turn / 2
	}
	if a > turn/4 {
		a = turn/2 - a
	}
	// x is a in radians, Q30; a Taylor series to x^11 is exact to 6e-8 on
	// [0, π/2], far below one Q16 step.
	const twoPiQ30 = 6746518852
	const q30 = 1 << 30
	x := a * twoPiQ30 >> 16
	x2 := x * x >> 30
	t := q30 - x2/110
	t = q30 - (x2*t>>30)/72
	t = q30 - (x2*t>>30)/42
	t = q30 - (x2*t>>30)/20
	t = q30 - (x2*t>>30)/6
	s := (x*t>>30 + 1<<13) >> 14
	if neg {
		s = -s
	}
	return s
}

func cos(a int64) int64 { return sin(a + turn/4) }

type pt struct{ x, y int64 }

// polar returns the point at distance d and angle a from c.
func polar(c pt, d, a int64) pt {
	return pt{c.x + d*cos(a)>>16, c.y + d*sin(a)>>16}
}

// ceilDiv divides by a positive b, rounding towards +∞.
func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b > 0 {
		q++
	}
	return q
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// mask holds one bit per sample, sub×sub samples per pixel, so shapes can be
// combined (union, cut-out) before being painted, and overlapping parts of
// one shape are painted once.
type mask struct {
	w, h   int
	bits   []uint16
	y0, y1 int     // rows touched since the last paint: [y0, y1)
	xs     []int64 // scratch for polygon crossings
}

func newMask(w, h int) *mask {
	return &mask{w: w, h: h, bits: make([]uint16, w*h), y0: h}
}

// rows clips the pixel rows a shape spanning [top, bottom] may touch.
func (m *mask) rows(top, bottom int64) (int, int) {
	y0 := max(floorDiv(top, one), 0)
	y1 := min(ceilDiv(bottom, one)+1, int64(m.h))
	if y0 < y1 {
		m.y0 = min(m.y0, int(y0))
		m.y1 = max(m.y1, int(y1))
	}
	return int(y0), int(y1)
}

// sampleY is the centre of sample row j of pixel row y.
func sampleY(y, j int) int64 { return px(y) + int64(j)*step + step/2 }

// span sets (or, with cut, clears) the samples of sample row j of pixel row
// y whose centres lie in [xa, xb).
func (m *mask) span(y, j int, xa, xb int64, cut bool) {
	k0 := max(ceilDiv(xa-step/2, step), 0)
	k1 := min(ceilDiv(xb-step/2, step), int64(m.w*sub))
	if k0 >= k1 {
		return
	}
	row := m.bits[y*m.w : (y+1)*m.w]
	p0, p1 := int(k0/sub), int((k1-1)/sub)
	lo, hi := int(k0)-p0*sub, int(k1)-p1*sub
	full := uint16(1<<sub-1) << (j * sub)
	first := uint16(1<<sub-1) &^ uint16(1<<lo-1) << (j * sub)
	last := uint16(1<<hi-1) << (j * sub)
	if p0 == p1 {
		first &= last
	}
	if cut {
		row[p0] &^= first
		if p1 > p0 {
			for p := p0 + 1; p < p1; p++ {
				row[p] &^= full
			}
			row[p1] &^= last
		}
		return
	}
	row[p0] |= first
	if p1 > p0 {
		for p := p0 + 1; p < p1; p++ {
			row[p] |= full
		}
		row[p1] |= last
	}
}

// polygon fills a closed polygon with the even-odd rule.
func (m *mask) polygon(p []pt, cut bool) {
	if len(p) < 3 {
		return
	}
	top, bottom := p[0].y, p[0].y
	for _, q := range p[1:] {
		top, bottom = min(top, q.y), max(bottom, q.y)
	}
	y0, y1 := m.rows(top, bottom)
	for y := y0; y < y1; y++ {
		for j := range sub {
			ys := sampleY(y, j)
			xs := m.xs[:0]
			a := p[len(p)-1]
			for _, b := range p {
				if (a.y <= ys) != (b.y <= ys) {
					xs = append(xs, a.x+(ys-a.y)*(b.x-a.x)/(b.y-a.y))
				}
				a = b
			}
			// Insertion sort: a scanline crosses a handful of edges.
			for i := 1; i < len(xs); i++ {
				for k := i; k > 0 && xs[k] < xs[k-1]; k-- {
					xs[k], xs[k-1] = xs[k-1], xs[k]
				}
			}
			for i := 0; i+1 < len(xs); i += 2 {
				m.span(y, j, xs[i], xs[i+1], cut)
			}
			m.xs = xs
		}
	}
}

// disc fills the circle of radius r around c.
func (m *mask) disc(c pt, r int64, cut bool) {
	if r <= 0 {
		return
	}
	y0, y1 := m.rows(c.y-r, c.y+r)
	for y := y0; y < y1; y++ {
		for j := range sub {
			dy := sampleY(y, j) - c.y
			d := r*r - dy*dy
			if d <= 0 {
				continue
			}
			hw := int64(math.Sqrt(float64(d)))
			m.span(y, j, c.x-hw, c.x+hw, cut)
		}
	}
}

// ring fills the band between radii r-thick and r around c.
func (m *mask) ring(c pt, r, thick int64) {
	m.disc(c, r, false)
	m.disc(c, r-thick, true)
}

// stroke fills a line from a to b, width w, with round caps so that strokes
// meeting at a point join smoothly.
func (m *mask) stroke(a, b pt, w int64) {
	dx, dy := b.x-a.x, b.y-a.y
	l := int64(math.Sqrt(float64(dx*dx + dy*dy)))
	if l > 0 {
		nx, ny := -dy*w/(2*l), dx*w/(2*l)
		m.polygon([]pt{{a.x + nx, a.y + ny}, {b.x + nx, b.y + ny}, {b.x - nx, b.y - ny}, {a.x - nx, a.y - ny}}, false)
	}
	m.disc(a, w/2, false)
	m.disc(b, w/2, false)
}

// regular returns the corners of a regular n-gon of circumradius r.
func regular(c pt, r int64, n int, rot int64) []pt {
	p := make([]pt, n)
	for i := range p {
		p[i] = polar(c, r, rot+int64(i)*turn/int64(n))
	}
	return p
}

// star returns the outline of an n-pointed star; inner is the ratio of the
// inner to the outer radius in percent.
func star(c pt, r int64, n int, inner int64, rot int64) []pt {
	p := make([]pt, 2*n)
	for i := range p {
		d := r
		if i%2 == 1 {
			d = r * inner / 100
		}
		p[i] = polar(c, d, rot+int64(i)*turn/int64(2*n))
	}
	return p
}

// bar returns a rectangle centred on c, half-length hl along angle a and
// half-width hw across it.
func bar(c pt, hl, hw, a int64) []pt {
	ux, uy := cos(a), sin(a)
	lx, ly := hl*ux>>16, hl*uy>>16
	wx, wy := -hw*uy>>16, hw*ux>>16
	return []pt{
		{c.x - lx - wx, c.y - ly - wy},
		{c.x + lx - wx, c.y + ly - wy},
		{c.x + lx + wx, c.y + ly + wy},
		{c.x - lx + wx, c.y - ly + wy},
	}
}

type rgb struct{ r, g, b uint8 }

// paint colours the samples of a mask: a flat colour or a gradient from a
// to b.
type paint struct {
	kind   int // flat, linear or radial
	a, b   rgb
	ox, oy int64 // linear: start; radial: centre (whole pixels)
	dx, dy int64 // linear: unit direction, Q16
	length int64 // whole pixels from t=0 to t=1
}

const (
	flat = iota
	linear
	radial
)

func solid(c rgb) paint { return paint{kind: flat, a: c} }

func mix(a, b uint8, t int64) uint8 { return uint8(int64(a) + (int64(b)-int64(a))*t>>8) }

func (p *paint) at(x, y int) rgb {
	var t int64
	switch p.kind {
	case flat:
		return p.a
	case linear:
		t = ((int64(x)-p.ox)*p.dx + (int64(y)-p.oy)*p.dy) >> 8 / p.length
	case radial:
		dx, dy := int64(x)-p.ox, int64(y)-p.oy
		t = int64(math.Sqrt(float64(dx*dx+dy*dy))) << 8 / p.length
	}
	t = min(max(t, 0), 256)
	return rgb{mix(p.a.r, p.b.r, t), mix(p.a.g, p.b.g, t), mix(p.a.b, p.b.b, t)}
}

// canvas is an opaque RGBA picture being drawn, with the mask of the shape
// being built.
type canvas struct {
	img *image.RGBA
	m   *mask
}

func newCanvas(w, h int) *canvas {
	return &canvas{img: image.NewRGBA(image.Rect(0, 0, w, h)), m: newMask(w, h)}
}

// flood paints every pixel.
func (c *canvas) flood(p paint) {
	b := c.img.Bounds()
	for y := 0; y < b.Dy(); y++ {
		row := c.img.Pix[y*c.img.Stride:]
		for x := 0; x < b.Dx(); x++ {
			col := p.at(x, y)
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = col.r, col.g, col.b, 0xff
		}
	}
}

// fill paints the mask's samples with p and clears the mask.
func (c *canvas) fill(p paint) {
	m := c.m
	for y := m.y0; y < m.y1; y++ {
		row := m.bits[y*m.w : (y+1)*m.w]
		pix := c.img.Pix[y*c.img.Stride:]
		for x, b := range row {
			if b == 0 {
				continue
			}
			row[x] = 0
			n := uint16(bits.OnesCount16(b))
			col := p.at(x, y)
			d := pix[4*x : 4*x+3 : 4*x+3]
			d[0] = blend(col.r, d[0], n)
			d[1] = blend(col.g, d[1], n)
			d[2] = blend(col.b, d[2], n)
		}
	}
	m.y0, m.y1 = m.h, 0
}

// blend mixes src over dst where n of the sub×sub samples are covered.
func blend(src, dst uint8, n uint16) uint8 {
	return uint8((uint16(src)*n + uint16(dst)*(sub*sub-n) + sub*sub/2) / (sub * sub))
}
