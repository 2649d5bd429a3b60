package avatar

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"strings"

	xdraw "golang.org/x/image/draw"
)

// Mutation records what Mutate did, so that a simulated successor channel
// can be checked against ground truth.
type Mutation struct {
	// Ops lists the transforms in the order they were applied, with their
	// parameters: "crop:0.008" (fraction removed from each edge),
	// "pad:0.008:#ffffff" (border per side, colour), "hue:+25" (degrees),
	// "sat:1.20", "bright:0.90", "resize:200x200", "jpeg:q55".
	Ops []string
}

// String joins the ops with spaces.
func (m Mutation) String() string { return strings.Join(m.Ops, " ") }

// Mutation kinds, in the order Mutate applies them: geometry first, colour
// next, and the lossy re-encoding last, as an uploader's tools would.
const (
	kindFrame = iota // a crop or a border, never both
	kindRecolour
	kindResize
	kindJPEG
	kinds
)

// Mutate returns a variant of img as an adversary would upload it again,
// with one to three of: a crop of 0.4 or 0.8% per edge (1 or 2 pixels of a
// logo; scaled back to the original size or not) or else a border as thin;
// a recolouring (hue ±10-60°, saturation 0.7-1.3, brightness 0.85-1.15); a
// resize (longer side 160-640 px); a JPEG re-encoding (quality 40-90). The
// same img and seed give the same variant.
//
// The ranges keep the PDQ hash of a variant of a Logo within 31 bits of the
// original's in about 99% of cases, as measured with a PDQ-like hash. Crops
// and borders are so thin because PDQ is sensitive to them: cropping 2% per
// edge moves the hash of a logo by about 32 bits, 4% by about 64. Call Crop
// and Pad directly for variants meant to escape detection.
//
// The error is that of ReEncodeJPEG, for images too large for JPEG.
func Mutate(img image.Image, seed uint64) (image.Image, Mutation, error) {
	r := newRNG(seed, mutateStream)
	var chosen [kinds]bool
	for n := r.between(1, 3); n > 0; {
		k := r.intn(kinds)
		if !chosen[k] {
			chosen[k] = true
			n--
		}
	}
	var m Mutation
	for k, ok := range chosen {
		if !ok {
			continue
		}
		switch k {
		case kindFrame:
			frac := float64(r.between(1, 2)) * 0.004
			if r.intn(2) == 0 {
				b := img.Bounds()
				img = Crop(img, frac)
				m.Ops = append(m.Ops, fmt.Sprintf("crop:%.3f", frac))
				if r.intn(2) == 0 {
					img = Resize(img, b.Dx(), b.Dy())
					m.Ops = append(m.Ops, fmt.Sprintf("resize:%dx%d", b.Dx(), b.Dy()))
				}
				break
			}
			var c color.RGBA
			switch r.intn(3) {
			case 0:
				c = color.RGBA{0xff, 0xff, 0xff, 0xff}
			case 1:
				c = color.RGBA{0, 0, 0, 0xff}
			default: // the image's own corner, as if extending its background
				c = color.RGBAModel.Convert(img.At(img.Bounds().Min.X, img.Bounds().Min.Y)).(color.RGBA)
			}
			img = Pad(img, frac, c)
			m.Ops = append(m.Ops, fmt.Sprintf("pad:%.3f:#%02x%02x%02x", frac, c.R, c.G, c.B))
		case kindRecolour:
			hue := r.between(10, 60)
			if r.intn(2) == 0 {
				hue = -hue
			}
			sat, bright := 1.0, 1.0
			if r.intn(2) == 0 {
				sat = float64(r.between(14, 26)) / 20
			}
			if r.intn(2) == 0 {
				bright = float64(r.between(17, 23)) / 20
			}
			m.Ops = append(m.Ops, fmt.Sprintf("hue:%+d", hue))
			if sat != 1 {
				m.Ops = append(m.Ops, fmt.Sprintf("sat:%.2f", sat))
			}
			if bright != 1 {
				m.Ops = append(m.Ops, fmt.Sprintf("bright:%.2f", bright))
			}
			img = Recolour(img, hue, sat, bright)
		case kindResize:
			b := img.Bounds()
			long := r.between(160, 640)
			w, h := long, long
			if b.Dx() > b.Dy() {
				h = max(1, (long*b.Dy()+b.Dx()/2)/b.Dx())
			} else if b.Dy() > b.Dx() {
				w = max(1, (long*b.Dx()+b.Dy()/2)/b.Dy())
			}
			img = Resize(img, w, h)
			m.Ops = append(m.Ops, fmt.Sprintf("resize:%dx%d", w, h))
		case kindJPEG:
			q := r.between(40, 90)
			var err error
			if img, err = ReEncodeJPEG(img, q); err != nil {
				return nil, Mutation{}, err
			}
			m.Ops = append(m.Ops, fmt.Sprintf("jpeg:q%d", q))
		}
	}
	return img, m, nil
}

// toRGBA returns img itself if it is an RGBA starting at the origin, else a
// copy, so the transforms can index pixels directly.
func toRGBA(img image.Image) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok && m.Rect.Min == (image.Point{}) {
		return m
	}
	b := img.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	xdraw.Draw(m, m.Rect, img, b.Min, xdraw.Src)
	return m
}

// Resize scales img to w×h (each at least 1) with Catmull-Rom resampling,
// which keeps edges sharp when enlarging and avoids aliasing when shrinking.
func Resize(img image.Image, w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
	xdraw.CatmullRom.Scale(m, m.Rect, img, img.Bounds(), xdraw.Src, nil)
	return m
}

// Crop removes frac (clamped to [0, 0.45]) of the width from the left and
// from the right edge, and frac of the height from the top and the bottom.
func Crop(img image.Image, frac float64) *image.RGBA {
	frac = min(max(frac, 0), 0.45)
	b := img.Bounds()
	dx, dy := int(frac*float64(b.Dx())+0.5), int(frac*float64(b.Dy())+0.5)
	m := image.NewRGBA(image.Rect(0, 0, b.Dx()-2*dx, b.Dy()-2*dy))
	xdraw.Draw(m, m.Rect, img, b.Min.Add(image.Pt(dx, dy)), xdraw.Src)
	return m
}

// Pad surrounds img with a border of colour c, frac (clamped to [0, 1]) of
// the width on the left and on the right, and of the height at the top and
// the bottom.
func Pad(img image.Image, frac float64, c color.Color) *image.RGBA {
	frac = min(max(frac, 0), 1)
	b := img.Bounds()
	dx, dy := int(frac*float64(b.Dx())+0.5), int(frac*float64(b.Dy())+0.5)
	m := image.NewRGBA(image.Rect(0, 0, b.Dx()+2*dx, b.Dy()+2*dy))
	xdraw.Draw(m, m.Rect, image.NewUniform(c), image.Point{}, xdraw.Src)
	xdraw.Draw(m, image.Rect(dx, dy, dx+b.Dx(), dy+b.Dy()), img, b.Min, xdraw.Src)
	return m
}

// Recolour rotates the hue of img by hue degrees, scales its saturation by
// saturation and brightens it by brightness (0, 1 and 1 leave it alone). The
// rotation and scaling act on the chroma plane of YCbCr, so they leave luma,
// and with it the structure a perceptual hash sees, unchanged but for
// colours pushed out of the RGB cube. Brightness is a gamma curve,
// out = in^(1/brightness) on [0, 1], so it changes mid-tones without
// clipping highlights into flat white; it is clamped to [0.1, 10].
func Recolour(img image.Image, hue int, saturation, brightness float64) *image.RGBA {
	src := toRGBA(img)
	// JFIF RGB to YCbCr and back, without the offsets, which cancel.
	to := [3][3]float64{
		{0.299, 0.587, 0.114},
		{-0.168736, -0.331264, 0.5},
		{0.5, -0.418688, -0.081312},
	}
	from := [3][3]float64{
		{1, 0, 1.402},
		{1, -0.344136, -0.714136},
		{1, 1.772, 0},
	}
	sn, cs := math.Sincos(float64(hue) * math.Pi / 180)
	rot := [3][3]float64{
		{1, 0, 0},
		{0, saturation * cs, -saturation * sn},
		{0, saturation * sn, saturation * cs},
	}
	// The per-pixel work is integer: the combined matrix in Q14 and a
	// table for the curve.
	var q [3][3]int32
	for i := range 3 {
		for j := range 3 {
			var s float64
			for k := range 3 {
				for l := range 3 {
					s += from[i][k] * rot[k][l] * to[l][j]
				}
			}
			q[i][j] = int32(math.Round(s * (1 << 14)))
		}
	}
	var curve [256]uint8
	g := 1 / min(max(brightness, 0.1), 10)
	for i := range curve {
		curve[i] = uint8(math.Round(255 * math.Pow(float64(i)/255, g)))
	}
	dst := image.NewRGBA(src.Rect)
	for y := range src.Rect.Dy() {
		s := src.Pix[y*src.Stride : y*src.Stride+4*src.Rect.Dx()]
		d := dst.Pix[y*dst.Stride:]
		for x := 0; x < len(s); x += 4 {
			r, g, b, a := int32(s[x]), int32(s[x+1]), int32(s[x+2]), int32(s[x+3])
			for i := range 3 {
				// Pixels are alpha-premultiplied, so a channel never
				// exceeds alpha, and the curve applies to the colour
				// before premultiplication.
				v := min(max((q[i][0]*r+q[i][1]*g+q[i][2]*b+1<<13)>>14, 0), a)
				switch a {
				case 0xff:
					d[x+i] = curve[v]
				case 0:
					d[x+i] = 0
				default:
					d[x+i] = uint8(int32(curve[v*0xff/a]) * a / 0xff)
				}
			}
			d[x+3] = uint8(a)
		}
	}
	return dst
}

// ReEncodeJPEG encodes img as JPEG at quality (1-100) and decodes it again,
// with the blocking and colour subsampling that brings.
func ReEncodeJPEG(img image.Image, quality int) (image.Image, error) {
	b, err := Encode(img, "jpeg", quality)
	if err != nil {
		return nil, err
	}
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("avatar: decode re-encoded jpeg: %w", err)
	}
	return m, nil
}

// pngEncoder trades file size for speed: avatars are drawn on request.
var pngEncoder = png.Encoder{CompressionLevel: png.BestSpeed}

// Encode returns img in format "png" or "jpeg" ("jpg" too). quality (1-100)
// applies to JPEG only; 0 means jpeg.DefaultQuality. The same image always
// gives the same bytes.
func Encode(img image.Image, format string, quality int) ([]byte, error) {
	var buf bytes.Buffer
	switch strings.ToLower(format) {
	case "png":
		if err := pngEncoder.Encode(&buf, img); err != nil {
			return nil, fmt.Errorf("avatar: encode png: %w", err)
		}
	case "jpeg", "jpg":
		if quality == 0 {
			quality = jpeg.DefaultQuality
		}
		if quality < 1 || quality > 100 {
			return nil, fmt.Errorf("avatar: jpeg quality %d outside 1-100", quality)
		}
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
			return nil, fmt.Errorf("avatar: encode jpeg: %w", err)
		}
	default:
		return nil, fmt.Errorf("avatar: unknown image format %q", format)
	}
	return buf.Bytes(), nil
}
