// Package avatar draws the synthetic images of the simulated internet:
// channel logos, pictures for posts, and the altered copies of a logo an
// adversary uploads when re-creating a removed channel.
//
// Everything is generated from a seed: bold geometric shapes on flat or
// graded backgrounds, in palettes with strong luminance contrast. Logos of
// different seeds look unrelated to a perceptual hash such as PDQ, while the
// variants made by Mutate (re-encoded, resized, mildly cropped, recoloured or
// padded) stay close to their original. No real logo, emblem or text is
// reproduced.
//
// Logo and Picture compute in integers only, so a seed gives the same pixels
// on every run and architecture; TestGolden pins a few. The transforms
// resample with golang.org/x/image/draw in floating point: they are
// deterministic on one platform, and may differ in the lowest bit of a
// channel across platforms.
package avatar

import (
	"image"
	"image/color"
)

// LogoSize is the width and height of a logo.
const LogoSize = 256

// Streams keep the draws of Logo, Picture and Mutate independent when they
// are given the same seed.
const (
	logoStream    = 0x6c6f676f00000000
	pictureStream = 0x7069637400000000
	mutateStream  = 0x6d75746100000000
)

// Logo returns the LogoSize×LogoSize logo of seed: a background and two to
// five bold shapes.
func Logo(seed uint64) *image.RGBA {
	r := newRNG(seed, logoStream)
	c := newCanvas(LogoSize, LogoSize)
	pal := newPalette(r)
	c.background(r, pal, LogoSize, LogoSize)
	n := r.between(2, 5)
	const mid = LogoSize / 2
	switch r.intn(3) {
	case 0: // badge: an emblem with a sign on it
		e := pt{px(r.between(mid-36, mid+36)), px(r.between(mid-36, mid+36))}
		er := px(r.between(70, 100))
		c.emblem(r, e, er)
		c.fill(solid(pal.fg[0]))
		c.sign(r, pt{e.x + px(r.between(-8, 8)), e.y + px(r.between(-8, 8))}, er*int64(r.between(45, 62))/100)
		c.fill(solid(pal.fg[1]))
		for i := 2; i < n; i++ {
			c.accent(r, pal, i)
		}
	case 1: // stripes crossed by an emblem
		a := int64(r.intn(turn))
		stripes := r.between(1, 3)
		w := px(r.between(12, 28)) // half-width
		gap := 2*w + px(r.between(8, 28))
		o := pt{px(r.between(mid-50, mid+50)), px(r.between(mid-50, mid+50))}
		for i := range stripes {
			d := int64(2*i-stripes+1) * gap / 2
			c.m.polygon(bar(polar(o, d, a+turn/4), px(LogoSize), w, a), false)
		}
		c.fill(solid(pal.fg[2]))
		e := pt{px(r.between(60, 196)), px(r.between(60, 196))}
		er := px(r.between(44, 72))
		c.emblem(r, e, er)
		c.fill(solid(pal.fg[0]))
		if n > 2 {
			c.sign(r, e, er*int64(r.between(45, 62))/100)
			c.fill(solid(pal.fg[1]))
		}
		for i := 3; i < n; i++ {
			c.accent(r, pal, i)
		}
	default: // scattered shapes of falling size
		for i := range n {
			size := px(r.between(80, 105) - 12*i)
			at := pt{px(r.between(40, 216)), px(r.between(40, 216))}
			if r.intn(2) == 0 {
				c.emblem(r, at, size)
			} else {
				c.sign(r, at, size)
			}
			c.fill(solid(pal.fg[2*(i%2)]))
		}
	}
	return c.img
}

// palette holds background and foreground colours. Their luminances are
// kept apart, so shapes stand out in the luminance that perceptual hashes
// look at, not only in hue.
type palette struct {
	bg [2]rgb
	// fg[0] contrasts strongly with the background, fg[2] moderately with
	// both; fg[1] is on the background's side and only goes on top of the
	// others.
	fg [3]rgb
}

func newPalette(r *rng) palette {
	hue := int64(r.intn(turn))
	// Colour schemes as hue offsets: complementary, triadic, analogous,
	// split-complementary.
	schemes := [][3]int64{{0, turn / 2, turn / 2}, {0, turn / 3, 2 * turn / 3}, {0, turn / 12, -turn / 12}, {0, 5 * turn / 12, 7 * turn / 12}}
	s := schemes[r.intn(len(schemes))]
	dark := r.intn(2) == 0
	// lum returns a luma lo to hi steps away from the background's end of
	// the scale.
	lum := func(lo, hi int) uint8 {
		if dark {
			return uint8(r.between(lo, hi))
		}
		return uint8(255 - r.between(lo, hi))
	}
	chroma := func() int64 { return int64(r.between(20, 110)) }
	var p palette
	// The two background tones differ in luminance too: a gradient too
	// faint to see would still decide the hash bits of its area, and any
	// rounding would flip them.
	p.bg[0] = tone(lum(10, 45), hue+s[1], chroma())
	p.bg[1] = tone(lum(75, 100), hue+s[1+r.intn(2)]+int64(r.between(-turn/16, turn/16)), chroma())
	p.fg[0] = tone(lum(190, 240), hue, chroma())
	p.fg[1] = tone(lum(10, 50), hue+s[2], chroma())
	p.fg[2] = tone(lum(125, 150), hue+s[1]+turn/2, chroma())
	return p
}

// tone returns the colour of luma y, hue and chroma, saturating where the
// colour falls outside RGB.
func tone(y uint8, hue, chroma int64) rgb {
	cb := min(max(128+chroma*cos(hue)>>16, 0), 255)
	cr := min(max(128+chroma*sin(hue)>>16, 0), 255)
	r, g, b := color.YCbCrToRGB(y, uint8(cb), uint8(cr))
	return rgb{r, g, b}
}

// background paints the whole canvas: flat, a gradient, a split or a
// sunburst.
func (c *canvas) background(r *rng, pal palette, w, h int) {
	u := int64(min(w, h))
	switch r.intn(5) {
	case 0:
		c.flood(solid(pal.bg[0]))
	case 1:
		a := int64(r.intn(turn))
		dx, dy := cos(a), sin(a)
		// Start from the corner behind the direction so the gradient
		// spans the whole canvas.
		ox, oy := int64(0), int64(0)
		if dx < 0 {
			ox = int64(w)
		}
		if dy < 0 {
			oy = int64(h)
		}
		c.flood(paint{kind: linear, a: pal.bg[0], b: pal.bg[1], ox: ox, oy: oy, dx: dx, dy: dy, length: u})
	case 2:
		c.flood(paint{kind: radial, a: pal.bg[1], b: pal.bg[0],
			ox: int64(r.between(w/4, 3*w/4)), oy: int64(r.between(h/4, 3*h/4)), length: u * 3 / 4})
	case 3:
		c.flood(solid(pal.bg[0]))
		o := pt{px(r.between(w/4, 3*w/4)), px(r.between(h/4, 3*h/4))}
		a := int64(r.intn(turn))
		far := 4 * px(int(u))
		c.m.polygon([]pt{polar(o, far, a), polar(o, far, a+turn/4), polar(o, far, a+turn/2)}, false)
		c.m.polygon([]pt{o, polar(o, far, a), polar(o, far, a+turn/2)}, false)
		c.fill(solid(pal.bg[1]))
	default:
		c.flood(solid(pal.bg[0]))
		o := pt{px(r.between(w/4, 3*w/4)), px(r.between(h/4, 3*h/4))}
		rays := int64(r.between(4, 9))
		a := int64(r.intn(turn))
		far := 4 * px(int(u))
		for i := range rays {
			a0 := a + 2*i*turn/(2*rays)
			c.m.polygon([]pt{o, polar(o, far, a0), polar(o, far, a0+turn/(2*rays))}, false)
		}
		c.fill(solid(pal.bg[1]))
	}
}

// emblem adds a large closed shape of radius r around o to the mask.
func (c *canvas) emblem(r *rng, o pt, size int64) {
	rot := int64(r.intn(turn))
	switch r.intn(5) {
	case 0:
		c.m.disc(o, size, false)
	case 1:
		c.m.polygon(regular(o, size, r.between(3, 8), rot), false)
	case 2:
		c.m.ring(o, size, size*int64(r.between(22, 40))/100)
	case 3: // shield: flat top, pointed bottom
		w, h := size*85/100, size
		c.m.polygon([]pt{
			{o.x - w, o.y - h}, {o.x + w, o.y - h}, {o.x + w, o.y + h/5},
			{o.x, o.y + h}, {o.x - w, o.y + h/5},
		}, false)
	default:
		// No six points: a hexagram is a religious symbol.
		c.m.polygon(star(o, size, []int{5, 7, 8}[r.intn(3)], int64(r.between(40, 55)), rot), false)
	}
}

// sign adds a smaller figure of radius r around o: a star, a glyph, a
// polygon, a ring or a chevron.
func (c *canvas) sign(r *rng, o pt, size int64) {
	rot := int64(r.intn(turn))
	switch r.intn(5) {
	case 0:
		c.m.polygon(star(o, size, []int{4, 5, 7}[r.intn(3)], int64(r.between(38, 50)), rot), false)
	case 1:
		c.glyph(r, o, size)
	case 2:
		c.m.polygon(regular(o, size, r.between(3, 6), rot), false)
	case 3:
		c.m.ring(o, size, size*int64(r.between(28, 45))/100)
		c.m.disc(o, size*int64(r.between(15, 30))/100, false)
	default: // chevron
		t := size * int64(r.between(35, 50)) / 100
		tip, l, rt := polar(o, size, rot), polar(o, size, rot+turn*3/8), polar(o, size, rot-turn*3/8)
		back := polar(tip, t*2, rot+turn/2)
		c.m.polygon([]pt{tip, rt, polar(rt, t, rot+turn/2), back, polar(l, t, rot+turn/2), l}, false)
	}
}

// glyph adds an invented monogram: a walk of thick strokes over a 3×3 grid
// of nodes, so it reads as a letter of no real alphabet.
func (c *canvas) glyph(r *rng, o pt, size int64) {
	w := size * int64(r.between(26, 36)) / 100
	node := func(i int) pt {
		return pt{o.x + int64(i%3-1)*(size-w/2)*8/10, o.y + int64(i/3-1)*(size-w/2)}
	}
	at := r.intn(9)
	prev := -1
	for range r.between(2, 4) {
		next := r.intn(9)
		for next == at || next == prev {
			next = r.intn(9)
		}
		c.m.stroke(node(at), node(next), w)
		prev, at = at, next
	}
}

// accent adds a small extra: a bar across, a dot or a ring.
func (c *canvas) accent(r *rng, pal palette, i int) {
	at := pt{px(r.between(36, 220)), px(r.between(36, 220))}
	switch r.intn(3) {
	case 0:
		a := int64(r.between(-turn/12, turn/12))
		if r.intn(2) == 0 {
			a += turn / 4
		}
		c.m.polygon(bar(at, px(LogoSize), px(r.between(8, 16)), a), false)
	case 1:
		c.m.disc(at, px(r.between(16, 34)), false)
	default:
		c.m.ring(at, px(r.between(24, 40)), px(r.between(6, 10)))
	}
	c.fill(solid(pal.fg[2*(1-i%2)]))
}

// Picture returns a poster-like picture of w×h pixels for a post: a
// landscape, bands, blocks or concentric rings. w and h are clamped to
// [16, 4096].
func Picture(seed uint64, w, h int) *image.RGBA {
	w, h = min(max(w, 16), 4096), min(max(h, 16), 4096)
	r := newRNG(seed, pictureStream)
	c := newCanvas(w, h)
	pal := newPalette(r)
	u := min(w, h)
	W, H := px(w), px(h)
	switch r.intn(4) {
	case 0: // landscape: sky, a sun, ridges in front of one another
		c.flood(paint{kind: linear, a: pal.bg[0], b: pal.bg[1], dy: 1 << 16, length: int64(h)})
		c.m.disc(pt{px(r.between(w/6, 5*w/6)), px(r.between(h/8, h/2))}, px(r.between(u/10, u/4)), false)
		c.fill(solid(pal.fg[0]))
		ridges := r.between(2, 3)
		for i := range ridges {
			base := H * int64(45+15*i) / 100
			peaks := r.between(3, 7)
			p := []pt{{-px(1), H + px(1)}}
			for k := 0; k <= peaks; k++ {
				x := W * int64(k) / int64(peaks)
				y := base + px(r.between(-h/6, h/10))
				p = append(p, pt{x, y})
			}
			p = append(p, pt{W + px(1), H + px(1)})
			c.m.polygon(p, false)
			c.fill(solid(pal.fg[[]int{2, 1, 0}[i]]))
		}
	case 1: // diagonal bands and a disc
		a := int64(r.intn(turn))
		o := pt{W / 2, H / 2}
		bands := r.between(3, 6)
		width := px(max(w, h)) * 2 / int64(bands*2+1)
		c.flood(solid(pal.bg[0]))
		for i := range bands {
			d := int64(2*i-bands) * width
			c.m.polygon(bar(polar(o, d, a+turn/4), 2*px(w+h), width/2, a), false)
		}
		c.fill(solid(pal.bg[1]))
		c.m.disc(pt{px(r.between(w/5, 4*w/5)), px(r.between(h/5, 4*h/5))}, px(r.between(u/6, u/3)), false)
		c.fill(solid(pal.fg[0]))
	case 2: // blocks: a few rectangles with a frame
		c.flood(solid(pal.bg[0]))
		for i := range r.between(2, 4) {
			x0, y0 := r.between(0, w*2/3), r.between(0, h*2/3)
			x1, y1 := x0+r.between(w/5, w/2), y0+r.between(h/5, h/2)
			c.m.polygon([]pt{{px(x0), px(y0)}, {px(x1), px(y0)}, {px(x1), px(y1)}, {px(x0), px(y1)}}, false)
			c.fill(solid(pal.fg[2*(i%2)]))
		}
		t := px(max(u/30, 2))
		c.m.polygon([]pt{{0, 0}, {W, 0}, {W, H}, {0, H}}, false)
		c.m.polygon([]pt{{t, t}, {W - t, t}, {W - t, H - t}, {t, H - t}}, true)
		c.fill(solid(pal.fg[2]))
	default: // concentric rings off centre, crossed by a bar
		c.flood(paint{kind: radial, a: pal.bg[1], b: pal.bg[0], ox: int64(w / 2), oy: int64(h / 2), length: int64(max(w, h))})
		o := pt{px(r.between(w/4, 3*w/4)), px(r.between(h/4, 3*h/4))}
		rings := r.between(2, 4)
		outer := px(r.between(u/4, u/2))
		for i := range rings {
			rr := outer * int64(rings-i) / int64(rings)
			c.m.ring(o, rr, rr/int64(2*(rings-i)+1))
			c.fill(solid(pal.fg[2*(i%2)]))
		}
		c.m.polygon(bar(o, px(w+h), px(max(u/20, 2)), int64(r.intn(turn))), false)
		c.fill(solid(pal.fg[1]))
	}
	return c.img
}
