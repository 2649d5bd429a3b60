// Package pdq is the PDQ perceptual hash of images (Meta's open
// algorithm, as in its ThreatExchange reference implementation): the
// image's luminance, blurred and decimated to 64x64 with a Jarosz tent
// filter (two passes of box filters), the 16x16 lowest non-constant
// coefficients of its DCT, and one bit per coefficient above their median.
// Similar images have hashes a small Hamming distance apart; a quality
// metric (0-100, from the gradients of the 64x64 image) says how much a
// hash can be trusted. The eight dihedral variants (rotations and
// mirrors) come from the one DCT.
package pdq

import (
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/bits"
	"slices"
	"strings"
)

// Hash is a 256-bit PDQ hash: 16 words of 16 bits, word 0 holding
// coefficients 0-15 (bit k of the hash is bit k%16 of word k/16).
type Hash [16]uint16

// String is the reference tool's form: 64 hex digits, word 15 first.
func (h Hash) String() string {
	var b strings.Builder
	for i := 15; i >= 0; i-- {
		fmt.Fprintf(&b, "%04x", h[i])
	}
	return b.String()
}

// Parse reads a hash in the reference tool's form.
func Parse(s string) (Hash, error) {
	var h Hash
	if len(s) != 64 {
		return h, fmt.Errorf("pdq: a hash is 64 hex digits, not %d characters", len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return h, fmt.Errorf("pdq: %q is no hex hash", s)
	}
	for i := range 16 {
		h[15-i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return h, nil
}

// Distance is the Hamming distance between two hashes (0-256).
func Distance(a, b Hash) int {
	d := 0
	for i := range a {
		d += bits.OnesCount16(a[i] ^ b[i])
	}
	return d
}

// Result is an image's hash and its quality.
type Result struct {
	Hash    Hash
	Quality int
}

// Dihedral are the hashes of an image's eight dihedral transforms, in
// the reference's order: original, rotated 90, 180 and 270 degrees,
// flipped along x, along y, along the main diagonal, along the other.
type Dihedral [8]Hash

// ErrEmpty is returned for an image without pixels.
var ErrEmpty = errors.New("pdq: the image has no pixels")

// Compute hashes an image.
func Compute(img image.Image) (Result, error) {
	r, _, err := compute(img, false)
	return r, err
}

// ComputeDihedral hashes an image and its eight dihedral transforms.
func ComputeDihedral(img image.Image) (Result, Dihedral, error) {
	return compute(img, true)
}

const (
	size    = 64 // the decimated image is size x size
	dctSize = 16 // coefficients kept along each axis
)

// dct is the 16x64 DCT-II matrix without its constant row.
var dct = func() (d [dctSize][size]float64) {
	scale := math.Sqrt(2.0 / size)
	for i := range dctSize {
		for j := range size {
			d[i][j] = scale * math.Cos((math.Pi/2/size)*float64(i+1)*float64(2*j+1))
		}
	}
	return d
}()

func compute(img image.Image, dihedral bool) (Result, Dihedral, error) {
	b := img.Bounds()
	rows, cols := b.Dy(), b.Dx()
	if rows <= 0 || cols <= 0 {
		return Result{}, Dihedral{}, ErrEmpty
	}
	luma := luminance(img)
	tmp := make([]float32, rows*cols)
	jarosz(luma, tmp, rows, cols, windowSize(cols, size), windowSize(rows, size), 2)
	var small [size][size]float32
	for i := range size {
		ini := int((float64(i) + 0.5) * float64(rows) / size)
		for j := range size {
			inj := int((float64(j) + 0.5) * float64(cols) / size)
			small[i][j] = luma[ini*cols+inj]
		}
	}
	quality := qualityOf(&small)

	// B = D A D^T, in float32 as the reference does.
	var t [dctSize][size]float32
	for i := range dctSize {
		for j := range size {
			var s float32
			for k := range size {
				s += float32(dct[i][k]) * small[k][j]
			}
			t[i][j] = s
		}
	}
	var coef [dctSize][dctSize]float32
	for i := range dctSize {
		for j := range dctSize {
			var s float32
			for k := range size {
				s += t[i][k] * float32(dct[j][k])
			}
			coef[i][j] = s
		}
	}
	res := Result{Hash: threshold(&coef), Quality: quality}
	if !dihedral {
		return res, Dihedral{}, nil
	}
	var d Dihedral
	// s(u) is the sign a mirror gives the coefficient of frequency u+1.
	sign := func(u int) float32 {
		if u%2 == 0 {
			return -1
		}
		return 1
	}
	variants := [8]func(u, v int) float32{
		func(u, v int) float32 { return coef[u][v] },                     // original
		func(u, v int) float32 { return sign(u) * coef[v][u] },           // rotate 90 (counter-clockwise)
		func(u, v int) float32 { return sign(u) * sign(v) * coef[u][v] }, // rotate 180
		func(u, v int) float32 { return sign(v) * coef[v][u] },           // rotate 270
		func(u, v int) float32 { return sign(u) * coef[u][v] },           // flip x (top to bottom)
		func(u, v int) float32 { return sign(v) * coef[u][v] },           // flip y (left to right)
		func(u, v int) float32 { return coef[v][u] },                     // flip along the main diagonal
		func(u, v int) float32 { return sign(u) * sign(v) * coef[v][u] }, // flip along the other
	}
	for k, f := range variants {
		var c [dctSize][dctSize]float32
		for u := range dctSize {
			for v := range dctSize {
				c[u][v] = f(u, v)
			}
		}
		d[k] = threshold(&c)
	}
	return res, d, nil
}

// threshold sets the bits of the coefficients above their median.
func threshold(c *[dctSize][dctSize]float32) Hash {
	vals := make([]float32, 0, dctSize*dctSize)
	for i := range dctSize {
		vals = append(vals, c[i][:]...)
	}
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	// The reference's median (Torben's) is the lower middle value.
	median := sorted[(len(sorted)-1)/2]
	var h Hash
	for k, v := range vals {
		if v > median {
			h[k/16] |= 1 << (k % 16)
		}
	}
	return h
}

// luminance is the image's luma, row-major, with the reference's
// coefficients on 8-bit RGB.
func luminance(img image.Image) []float32 {
	b := img.Bounds()
	rows, cols := b.Dy(), b.Dx()
	out := make([]float32, rows*cols)
	luma := func(r, g, bl uint8) float32 { return 0.299*float32(r) + 0.587*float32(g) + 0.114*float32(bl) }
	// The decoders' own types without a call per pixel (JPEG is YCbCr):
	// the same RGB as At gives, a tenth of the time.
	switch m := img.(type) {
	case *image.YCbCr:
		// The RGB a decoder gives, as the reference's luma is of RGB,
		// with the chroma offsets of a row worked out once.
		hs, vs := uint(0), uint(0) // chroma subsampling, as shifts
		switch m.SubsampleRatio {
		case image.YCbCrSubsampleRatio422:
			hs = 1
		case image.YCbCrSubsampleRatio420:
			hs, vs = 1, 1
		case image.YCbCrSubsampleRatio440:
			vs = 1
		case image.YCbCrSubsampleRatio411:
			hs = 2
		case image.YCbCrSubsampleRatio410:
			hs, vs = 2, 1
		}
		for y := range rows {
			py := b.Min.Y + y
			yrow := m.Y[m.YOffset(b.Min.X, py):][:cols]
			crow := (py>>vs - m.Rect.Min.Y>>vs) * m.CStride
			cb, cr := m.Cb[crow:], m.Cr[crow:]
			x0 := m.Rect.Min.X >> hs
			o := out[y*cols : (y+1)*cols]
			for x, yv := range yrow {
				ci := (b.Min.X+x)>>hs - x0
				r, g, bl := color.YCbCrToRGB(yv, cb[ci], cr[ci])
				o[x] = 0.299*float32(r) + 0.587*float32(g) + 0.114*float32(bl)
			}
		}
		return out
	case *image.Gray:
		for y := range rows {
			for x := range cols {
				v := m.Pix[m.PixOffset(b.Min.X+x, b.Min.Y+y)]
				out[y*cols+x] = luma(v, v, v)
			}
		}
		return out
	case *image.RGBA:
		for y := range rows {
			for x := range cols {
				i := m.PixOffset(b.Min.X+x, b.Min.Y+y)
				if m.Pix[i+3] == 0xff {
					out[y*cols+x] = luma(m.Pix[i], m.Pix[i+1], m.Pix[i+2])
				} else {
					r, g, bl, _ := m.At(b.Min.X+x, b.Min.Y+y).RGBA()
					out[y*cols+x] = luma(uint8(r>>8), uint8(g>>8), uint8(bl>>8))
				}
			}
		}
		return out
	}
	for y := range rows {
		for x := range cols {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			out[y*cols+x] = 0.299*float32(r>>8) + 0.587*float32(g>>8) + 0.114*float32(bl>>8)
		}
	}
	return out
}

// windowSize is the Jarosz filter's box for shrinking old to new.
func windowSize(old, new int) int {
	return (old + 2*new - 1) / (2 * new)
}

// jarosz applies passes of a box filter along rows then columns, in
// place in buf (tmp is scratch of the same size).
func jarosz(buf, tmp []float32, rows, cols, alongRows, alongCols, passes int) {
	for range passes {
		for i := range rows {
			box(buf[i*cols:], tmp[i*cols:], cols, 1, alongRows)
		}
		boxColumns(tmp, buf, rows, cols, alongCols)
	}
}

// box is the reference's one-dimensional box filter: a window of the
// given size centred on each point, shrinking at the edges.
func box(in, out []float32, n, stride, window int) {
	half := (window + 2) / 2
	phase1 := half - 1
	phase2 := window - half + 1
	phase3 := n - window
	phase4 := half - 1
	li, ri, oi := 0, 0, 0
	var sum float32
	cur := 0
	for range phase1 {
		if ri/stride >= n {
			break
		}
		sum += in[ri]
		cur++
		ri += stride
	}
	for range phase2 {
		if ri/stride < n {
			sum += in[ri]
			cur++
		}
		if oi/stride < n {
			out[oi] = sum / float32(cur)
		}
		ri += stride
		oi += stride
	}
	for range phase3 {
		sum += in[ri]
		sum -= in[li]
		out[oi] = sum / float32(cur)
		li += stride
		ri += stride
		oi += stride
	}
	for range phase4 {
		if oi/stride >= n {
			break
		}
		sum -= in[li]
		cur--
		out[oi] = sum / float32(cur)
		li += stride
		oi += stride
	}
}

// boxColumns is box down every column at once: the same sums in the same
// order, a row at a time, so that memory is read in order (a column walk
// touches a new cache line with every pixel).
func boxColumns(in, out []float32, rows, cols, window int) {
	half := (window + 2) / 2
	phase1 := half - 1
	phase2 := window - half + 1
	phase3 := rows - window
	phase4 := half - 1
	sum := make([]float32, cols)
	li, ri, oi := 0, 0, 0
	cur := 0
	row := func(i int) []float32 { return in[i*cols : (i+1)*cols] }
	for range phase1 {
		if ri >= rows {
			break
		}
		for j, v := range row(ri) {
			sum[j] += v
		}
		cur++
		ri++
	}
	for range phase2 {
		if ri < rows {
			for j, v := range row(ri) {
				sum[j] += v
			}
			cur++
		}
		if oi < rows {
			o := out[oi*cols : (oi+1)*cols]
			for j := range o {
				o[j] = sum[j] / float32(cur)
			}
		}
		ri++
		oi++
	}
	for range phase3 {
		add, sub, o := row(ri), row(li), out[oi*cols:(oi+1)*cols]
		for j := range o {
			sum[j] += add[j]
			sum[j] -= sub[j]
			o[j] = sum[j] / float32(cur)
		}
		li++
		ri++
		oi++
	}
	for range phase4 {
		if oi >= rows {
			break
		}
		sub, o := row(li), out[oi*cols:(oi+1)*cols]
		cur--
		for j := range o {
			sum[j] -= sub[j]
			o[j] = sum[j] / float32(cur)
		}
		li++
		oi++
	}
}

// qualityOf is the reference's image-domain quality metric: the summed
// absolute differences of neighbours, scaled to 0-100.
func qualityOf(a *[size][size]float32) int {
	sum := 0
	for i := range size - 1 {
		for j := range size {
			d := int((a[i][j] - a[i+1][j]) * 100 / 255)
			sum += abs(d)
		}
	}
	for i := range size {
		for j := range size - 1 {
			d := int((a[i][j] - a[i][j+1]) * 100 / 255)
			sum += abs(d)
		}
	}
	return min(sum/90, 100)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
