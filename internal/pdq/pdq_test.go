package pdq

import (
	"bytes"
	"encoding/csv"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// refDir holds the reference images and the reference tool's hashes
// (its README says how close is close enough).
const refDir = "../../../shared/testdata/pdq"

func decode(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func TestReference(t *testing.T) {
	f, err := os.Open(filepath.Join(refDir, "expected.csv"))
	if err != nil {
		t.Skipf("no reference data: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		want, err := Parse(row[0])
		if err != nil {
			t.Fatal(err)
		}
		wantQ, _ := strconv.Atoi(row[1])
		path := row[2]
		img := decode(t, filepath.Join(refDir, path))
		got, err := Compute(img)
		if err != nil {
			t.Fatal(err)
		}
		d := Distance(got.Hash, want)
		b := img.Bounds()
		small := b.Dx() <= 512 && b.Dy() <= 512
		exact := small && strings.HasSuffix(path, ".png")
		limit := 10
		if exact {
			limit = 2
		}
		qdiff := abs(got.Quality - wantQ)
		t.Logf("%-36s %4dx%-4d distance %3d, quality %3d (reference %3d)", path, b.Dx(), b.Dy(), d, got.Quality, wantQ)
		if (wantQ >= 80 || exact) && d > limit {
			t.Errorf("%s: %s is %d bits from the reference %s (at most %d)", path, got.Hash, d, want, limit)
		}
		if qdiff > 5 {
			t.Errorf("%s: quality %d, the reference %d", path, got.Quality, wantQ)
		}
	}
}

// The eight dihedral hashes from the original's one DCT are each within
// 10 bits of the hash of the file that holds that transform.
func TestDihedral(t *testing.T) {
	orig := filepath.Join(refDir, "dih", "bridge-1-original.jpg")
	if _, err := os.Stat(orig); err != nil {
		t.Skipf("no reference data: %v", err)
	}
	_, dih, err := ComputeDihedral(decode(t, orig))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"bridge-1-original.jpg", "bridge-2-rotate-90.jpg", "bridge-3-rotate-180.jpg", "bridge-4-rotate-270.jpg",
		"bridge-5-flipx.jpg", "bridge-6-flipy.jpg", "bridge-7-flip-plus-1.jpg", "bridge-8-flip-minus-1.jpg"}
	for k, name := range files {
		r, err := Compute(decode(t, filepath.Join(refDir, "dih", name)))
		if err != nil {
			t.Fatal(err)
		}
		if d := Distance(dih[k], r.Hash); d > 10 {
			t.Errorf("variant %d (%s) is %d bits from the file's own hash", k, name, d)
		}
	}
	// The variants differ from each other: a wrong sign rule would give
	// the original eight times.
	for i := range dih {
		for j := i + 1; j < len(dih); j++ {
			if Distance(dih[i], dih[j]) < 32 {
				t.Errorf("variants %d and %d are %d bits apart", i, j, Distance(dih[i], dih[j]))
			}
		}
	}
}

func TestParse(t *testing.T) {
	const s = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
	h, err := Parse(s)
	if err != nil || h.String() != s {
		t.Fatalf("round trip: %s %v", h, err)
	}
	for _, bad := range []string{"", "xyz", s[:63], s + "0", strings.Replace(s, "d", "g", 1)} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22")
	f.Add("zz")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := Parse(s)
		if err == nil && !strings.EqualFold(h.String(), s) {
			t.Fatalf("%q parsed as %s", s, h)
		}
	})
}

// Tiny and odd-sized images hash without panicking, and an empty one is
// refused.
func TestSizes(t *testing.T) {
	for _, wh := range [][2]int{{1, 1}, {2, 3}, {63, 65}, {64, 64}, {700, 5}, {5, 700}} {
		img := image.NewGray(image.Rect(0, 0, wh[0], wh[1]))
		for i := range img.Pix {
			img.Pix[i] = uint8(i * 7)
		}
		if _, err := Compute(img); err != nil {
			t.Errorf("%dx%d: %v", wh[0], wh[1], err)
		}
	}
	if _, err := Compute(image.NewGray(image.Rect(0, 0, 0, 5))); err != ErrEmpty {
		t.Errorf("an empty image: %v", err)
	}
}

// BenchmarkHash512JPEG: decoding and hashing a 512x512 JPEG, one core
// (go test -bench Hash512JPEG -cpu 1).
func BenchmarkHash512JPEG(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join(refDir, "bridge-mods", "square-512x512.jpg"))
	if err != nil {
		b.Skipf("no reference data: %v", err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		img, _, err := image.Decode(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Compute(img); err != nil {
			b.Fatal(err)
		}
	}
}
