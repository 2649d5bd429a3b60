package avatar

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hash is a 256-bit perceptual hash shaped like PDQ, which the project
// matches successor channels with: luma averaged over a 64×64 grid, a 2-D
// DCT, the 16×16 lowest frequencies after the constant terms, one bit for
// each, set if above their median. It leaves out PDQ's exact blur filter and
// its quality metric, and is written here, independently of the package, so
// the tests measure what matters downstream. (A 64-bit dHash was tried
// first and fits these images badly: where two cells of a flat background
// are equal, the slightest change, such as a border of two pixels, flips
// their bit, while it barely notices crops that move PDQ a lot.)
type hash [4]uint64

var dct = func() (d [16][64]float64) {
	for u := range 16 {
		for x := range 64 {
			d[u][x] = math.Cos(math.Pi * float64(u+1) * float64(2*x+1) / 128)
		}
	}
	return d
}()

func pdqLike(img image.Image) hash {
	const n = 64
	b := img.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(m, m.Rect, img, b.Min, draw.Src)
	var sum, cnt [n][n]float64
	for y := range b.Dy() {
		gy := y * n / b.Dy()
		for x := range b.Dx() {
			gx := x * n / b.Dx()
			p := m.Pix[y*m.Stride+4*x:]
			sum[gy][gx] += 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
			cnt[gy][gx]++
		}
	}
	var cols [16][n]float64 // the DCT along y
	for y := range n {
		for x := range n {
			l := sum[y][x] / cnt[y][x]
			for v := range 16 {
				cols[v][x] += dct[v][y] * l
			}
		}
	}
	c := make([]float64, 0, 256)
	for v := range 16 {
		for u := range 16 {
			var s float64
			for x := range n {
				s += dct[u][x] * cols[v][x]
			}
			c = append(c, s)
		}
	}
	sorted := slices.Sorted(slices.Values(c))
	median := (sorted[127] + sorted[128]) / 2
	var h hash
	for i, v := range c {
		if v > median {
			h[i/64] |= 1 << (i % 64)
		}
	}
	return h
}

func distance(a, b hash) int {
	d := 0
	for i := range a {
		d += bits.OnesCount64(a[i] ^ b[i])
	}
	return d
}

const logos = 200

// logoSet draws Logo(0..logos-1) and hashes them once for all tests.
var logoSet = sync.OnceValues(func() ([]*image.RGBA, []hash) {
	imgs := make([]*image.RGBA, logos)
	hs := make([]hash, logos)
	for i := range imgs {
		imgs[i] = Logo(uint64(i))
		hs[i] = pdqLike(imgs[i])
	}
	return imgs, hs
})

// Bounds on distances of 256-bit hashes, from measurements over the logos
// of seeds 0-199 with some margin: the median between different logos is
// 128, the closest pair 92 apart. PDQ matching usually takes 31 as its
// threshold.
const (
	minDistinctMedian = 120 // median distance between different logos
	minDistinct       = 80  // closest pair of different logos
	match             = 31  // what a variant made by Mutate should stay within
)

func TestLogoDeterministic(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{0, 1, 42, 1 << 32, 1<<64 - 1} {
		a, err := Encode(Logo(seed), "png", 0)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Encode(Logo(seed), "png", 0)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("seed %d: two PNG encodings of the logo differ", seed)
		}
	}
}

// TestGolden pins the pixels of a few seeds. Scenarios of the simulated
// network record the hashes of the images they serve, so a change here
// must be deliberate; it also catches platforms that draw differently.
func TestGolden(t *testing.T) {
	t.Parallel()
	sum := func(m *image.RGBA) string {
		s := sha256.Sum256(m.Pix)
		return hex.EncodeToString(s[:8])
	}
	tests := []struct {
		name string
		img  *image.RGBA
		want string
	}{
		{"logo 0", Logo(0), "d209bc93451e44b8"},
		{"logo 1", Logo(1), "15d1683ca6beb9ae"},
		{"logo 2^63", Logo(1 << 63), "84d262df0acab465"},
		{"picture 0 320x180", Picture(0, 320, 180), "8b707f3f8350f6a6"},
		{"picture 7 100x300", Picture(7, 100, 300), "9790e2e3b4e89223"},
	}
	for _, tt := range tests {
		if got := sum(tt.img); got != tt.want {
			t.Errorf("%s: pixels hash to %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestLogoSize(t *testing.T) {
	t.Parallel()
	want := image.Rect(0, 0, LogoSize, LogoSize)
	if diff := cmp.Diff(want, Logo(3).Bounds()); diff != "" {
		t.Errorf("bounds mismatch (-want +got):\n%s", diff)
	}
	for i, c := range Logo(3).Pix {
		if i%4 == 3 && c != 0xff {
			t.Fatalf("pixel %d is not opaque: alpha %d", i/4, c)
		}
	}
}

func TestSeedsDiffer(t *testing.T) {
	t.Parallel()
	// Pairs that differ in high bits only, where a weak mixing of the
	// seed would show.
	pairs := [][2]uint64{{0, 1}, {0, 1 << 63}, {1, 1<<32 + 1}, {5, 5 ^ logoStream}}
	for _, p := range pairs {
		if bytes.Equal(Logo(p[0]).Pix, Logo(p[1]).Pix) {
			t.Errorf("Logo(%d) and Logo(%d) are identical", p[0], p[1])
		}
		if bytes.Equal(Picture(p[0], 64, 48).Pix, Picture(p[1], 64, 48).Pix) {
			t.Errorf("Picture(%d) and Picture(%d) are identical", p[0], p[1])
		}
	}
}

func TestLogosDistinct(t *testing.T) {
	t.Parallel()
	_, hs := logoSet()
	var ds []int
	closest, pair := 257, [2]int{}
	for i := range hs {
		for j := i + 1; j < len(hs); j++ {
			d := distance(hs[i], hs[j])
			ds = append(ds, d)
			if d < closest {
				closest, pair = d, [2]int{i, j}
			}
		}
	}
	slices.Sort(ds)
	median := ds[len(ds)/2]
	t.Logf("hash distance between %d logos: median %d, closest %d (seeds %v)", logos, median, closest, pair)
	if median < minDistinctMedian {
		t.Errorf("median distance between different logos is %d, want at least %d", median, minDistinctMedian)
	}
	if closest < minDistinct {
		t.Errorf("logos of seeds %d and %d are %d bits apart, want at least %d", pair[0], pair[1], closest, minDistinct)
	}
}

func TestTransformsKeepHash(t *testing.T) {
	t.Parallel()
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	// max is the worst distance allowed over 100 logos: the measured worst
	// plus a little. Crops and borders as thin as Mutate's already come
	// near the match threshold (a 5% crop moves the hash by about 80).
	tests := []struct {
		name string
		f    func(image.Image) (image.Image, error)
		want image.Rectangle // bounds of the result for a logo
		max  int
	}{
		{"resize down", func(m image.Image) (image.Image, error) { return Resize(m, 160, 160), nil }, image.Rect(0, 0, 160, 160), 20},
		{"resize up", func(m image.Image) (image.Image, error) { return Resize(m, 640, 640), nil }, image.Rect(0, 0, 640, 640), 6},
		{"resize aspect", func(m image.Image) (image.Image, error) { return Resize(m, 300, 240), nil }, image.Rect(0, 0, 300, 240), 20},
		{"crop", func(m image.Image) (image.Image, error) { return Crop(m, 0.008), nil }, image.Rect(0, 0, 252, 252), 32},
		{"crop rescaled", func(m image.Image) (image.Image, error) { return Resize(Crop(m, 0.008), 256, 256), nil }, image.Rect(0, 0, 256, 256), 30},
		{"pad", func(m image.Image) (image.Image, error) { return Pad(m, 0.008, white), nil }, image.Rect(0, 0, 260, 260), 38},
		{"hue", func(m image.Image) (image.Image, error) { return Recolour(m, 60, 1, 1), nil }, image.Rect(0, 0, 256, 256), 14},
		{"hue dull dark", func(m image.Image) (image.Image, error) { return Recolour(m, -60, 0.7, 0.85), nil }, image.Rect(0, 0, 256, 256), 14},
		{"hue vivid bright", func(m image.Image) (image.Image, error) { return Recolour(m, 45, 1.3, 1.15), nil }, image.Rect(0, 0, 256, 256), 24},
		{"jpeg", func(m image.Image) (image.Image, error) { return ReEncodeJPEG(m, 40) }, image.Rect(0, 0, 256, 256), 12},
	}
	imgs, hs := logoSet()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			worst, at := 0, 0
			for i, img := range imgs[:100] {
				v, err := tt.f(img)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					if diff := cmp.Diff(tt.want, v.Bounds()); diff != "" {
						t.Errorf("bounds mismatch (-want +got):\n%s", diff)
					}
				}
				if d := distance(hs[i], pdqLike(v)); d > worst {
					worst, at = d, i
				}
			}
			t.Logf("worst distance %d (seed %d)", worst, at)
			if worst > tt.max {
				t.Errorf("variant of logo %d is %d bits from it, want at most %d", at, worst, tt.max)
			}
		})
	}
}

func TestTransformsLeaveInputAlone(t *testing.T) {
	t.Parallel()
	img := Logo(9)
	before := slices.Clone(img.Pix)
	Resize(img, 100, 100)
	Crop(img, 0.1)
	Pad(img, 0.1, color.Black)
	Recolour(img, 90, 2, 2)
	if _, err := ReEncodeJPEG(img, 50); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Mutate(img, 1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, img.Pix) {
		t.Error("a transform changed its input")
	}
}

func TestRecolourIdentity(t *testing.T) {
	t.Parallel()
	img := Logo(4)
	if !bytes.Equal(img.Pix, Recolour(img, 0, 1, 1).Pix) {
		t.Error("Recolour(img, 0, 1, 1) changed pixels")
	}
	// A full turn of hue comes back to the start, give or take rounding.
	got := Recolour(img, 360, 1, 1)
	for i := range img.Pix {
		if d := int(img.Pix[i]) - int(got.Pix[i]); d < -1 || d > 1 {
			t.Fatalf("byte %d: %d after a full hue turn, was %d", i, got.Pix[i], img.Pix[i])
		}
	}
}

func TestRecolourChangesColour(t *testing.T) {
	t.Parallel()
	img := Logo(4)
	got := Recolour(img, 40, 1, 1)
	var changed int
	for i := 0; i < len(img.Pix); i += 4 {
		if !bytes.Equal(img.Pix[i:i+3], got.Pix[i:i+3]) {
			changed++
		}
	}
	if changed < len(img.Pix)/4/2 {
		t.Errorf("a 40° hue rotation changed %d of %d pixels, want most", changed, len(img.Pix)/4)
	}
}

// opPrefixes are the op names Mutation documents.
var opPrefixes = []string{"crop:", "pad:", "hue:", "sat:", "bright:", "resize:", "jpeg:q"}

func TestMutate(t *testing.T) {
	t.Parallel()
	imgs, hs := logoSet()
	seen := map[string]bool{}
	var ds []int
	worst, at := 0, Mutation{}
	for i, img := range imgs {
		seed := uint64(1000 + i)
		v, m, err := Mutate(img, seed)
		if err != nil {
			t.Fatal(err)
		}
		v2, m2, err := Mutate(img, seed)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(m.Ops, m2.Ops); diff != "" {
			t.Errorf("seed %d: ops of two runs mismatch (-want +got):\n%s", seed, diff)
		}
		if !samePixels(v, v2) {
			t.Errorf("seed %d: two runs give different pixels", seed)
		}
		if len(m.Ops) == 0 {
			t.Errorf("seed %d: no ops recorded", seed)
		}
		for _, op := range m.Ops {
			p := slices.IndexFunc(opPrefixes, func(p string) bool { return strings.HasPrefix(op, p) })
			if p < 0 {
				t.Errorf("seed %d: unknown op %q", seed, op)
				continue
			}
			seen[opPrefixes[p]] = true
		}
		d := distance(hs[i], pdqLike(v))
		ds = append(ds, d)
		if d > worst {
			worst, at = d, m
		}
	}
	slices.Sort(ds)
	over := len(ds) - sort.SearchInts(ds, match+1)
	t.Logf("distance to the logo: median %d, worst %d (%s), %d of %d beyond %d", ds[len(ds)/2], worst, at, over, len(ds), match)
	// A few variants may escape a PDQ match, as in life, but not many,
	// and none by far.
	if over > len(ds)/50 {
		t.Errorf("%d of %d variants are more than %d bits from their logo, want at most 2%%", over, len(ds), match)
	}
	if worst > 2*match {
		t.Errorf("variant %q is %d bits from its logo, want at most %d", at, worst, 2*match)
	}
	for _, p := range opPrefixes {
		if !seen[p] {
			t.Errorf("no mutation of %d used op %q", logos, p)
		}
	}
}

func TestMutateSeedsDiffer(t *testing.T) {
	t.Parallel()
	img := Logo(0)
	distinct := map[string]bool{}
	for seed := range uint64(50) {
		_, m, err := Mutate(img, seed)
		if err != nil {
			t.Fatal(err)
		}
		distinct[m.String()] = true
	}
	if len(distinct) < 45 {
		t.Errorf("50 seeds gave %d distinct mutations, want at least 45", len(distinct))
	}
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

func TestEncode(t *testing.T) {
	t.Parallel()
	img := Logo(11)
	tests := []struct {
		format   string
		quality  int
		want     string // format reported by image.Decode
		lossless bool
	}{
		{"png", 0, "png", true},
		{"PNG", 50, "png", true},
		{"jpeg", 0, "jpeg", false},
		{"jpg", 90, "jpeg", false},
		{"jpeg", 1, "jpeg", false},
	}
	for _, tt := range tests {
		b, err := Encode(img, tt.format, tt.quality)
		if err != nil {
			t.Errorf("Encode(%q, %d): %v", tt.format, tt.quality, err)
			continue
		}
		again, err := Encode(img, tt.format, tt.quality)
		if err != nil || !bytes.Equal(b, again) {
			t.Errorf("Encode(%q, %d): two encodings differ (err %v)", tt.format, tt.quality, err)
		}
		got, format, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			t.Errorf("Encode(%q, %d): decode: %v", tt.format, tt.quality, err)
			continue
		}
		if format != tt.want {
			t.Errorf("Encode(%q, %d): decoded as %q, want %q", tt.format, tt.quality, format, tt.want)
		}
		if diff := cmp.Diff(img.Bounds(), got.Bounds()); diff != "" {
			t.Errorf("Encode(%q, %d): bounds mismatch (-want +got):\n%s", tt.format, tt.quality, diff)
		}
		if tt.lossless && !samePixels(img, got) {
			t.Errorf("Encode(%q, %d): pixels changed in a lossless round trip", tt.format, tt.quality)
		}
		if d := distance(pdqLike(img), pdqLike(got)); !tt.lossless && d > match {
			t.Errorf("Encode(%q, %d): decoded image is %d bits from the original, want at most %d", tt.format, tt.quality, d, match)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		format  string
		quality int
	}{
		{"gif", 0},
		{"", 0},
		{"jpeg", 101},
		{"jpeg", -1},
	}
	for _, tt := range tests {
		if _, err := Encode(Logo(0), tt.format, tt.quality); err == nil {
			t.Errorf("Encode(%q, %d) succeeded, want an error", tt.format, tt.quality)
		}
	}
}

func TestPicture(t *testing.T) {
	t.Parallel()
	tests := []struct {
		w, h int
		want image.Rectangle
	}{
		{400, 250, image.Rect(0, 0, 400, 250)},
		{250, 400, image.Rect(0, 0, 250, 400)},
		{16, 16, image.Rect(0, 0, 16, 16)},
		{0, -3, image.Rect(0, 0, 16, 16)},
		{5000, 20, image.Rect(0, 0, 4096, 20)},
	}
	for _, tt := range tests {
		for seed := range uint64(8) {
			got := Picture(seed, tt.w, tt.h)
			if diff := cmp.Diff(tt.want, got.Bounds()); diff != "" {
				t.Fatalf("Picture(%d, %d, %d): bounds mismatch (-want +got):\n%s", seed, tt.w, tt.h, diff)
			}
			if !bytes.Equal(got.Pix, Picture(seed, tt.w, tt.h).Pix) {
				t.Errorf("Picture(%d, %d, %d): two calls differ", seed, tt.w, tt.h)
			}
		}
	}
	// Pictures need structure, like logos: no two of a few dozen alike.
	var hs []hash
	for seed := range uint64(40) {
		hs = append(hs, pdqLike(Picture(seed, 480, 270)))
	}
	for i := range hs {
		for j := i + 1; j < len(hs); j++ {
			if d := distance(hs[i], hs[j]); d < minDistinct {
				t.Errorf("pictures of seeds %d and %d are %d bits apart", i, j, d)
			}
		}
	}
}

func TestSin(t *testing.T) {
	t.Parallel()
	worst := 0.0
	for a := int64(-turn); a < 2*turn; a += 7 {
		want := math.Sin(2 * math.Pi * float64(a) / turn)
		worst = max(worst, math.Abs(float64(sin(a))/65536-want), math.Abs(float64(cos(a))/65536-math.Cos(2*math.Pi*float64(a)/turn)))
	}
	if worst > 2.0/65536 {
		t.Errorf("sin and cos are off by up to %g, want at most 2/65536", worst)
	}
}
