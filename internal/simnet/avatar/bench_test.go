package avatar

import "testing"

func BenchmarkLogo(b *testing.B) {
	b.ReportAllocs()
	var seed uint64
	for b.Loop() {
		Logo(seed)
		seed++
	}
}

func BenchmarkPicture(b *testing.B) {
	b.ReportAllocs()
	var seed uint64
	for b.Loop() {
		Picture(seed, 800, 450)
		seed++
	}
}

func BenchmarkMutate(b *testing.B) {
	b.ReportAllocs()
	img := Logo(1)
	var seed uint64
	for b.Loop() {
		if _, _, err := Mutate(img, seed); err != nil {
			b.Fatal(err)
		}
		seed++
	}
}

func BenchmarkEncodeJPEG(b *testing.B) {
	b.ReportAllocs()
	img := Logo(1)
	for b.Loop() {
		if _, err := Encode(img, "jpeg", 75); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodePNG(b *testing.B) {
	b.ReportAllocs()
	img := Logo(1)
	for b.Loop() {
		if _, err := Encode(img, "png", 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogoJPEG is the work of serving one avatar on demand.
func BenchmarkLogoJPEG(b *testing.B) {
	b.ReportAllocs()
	var seed uint64
	for b.Loop() {
		if _, err := Encode(Logo(seed), "jpeg", 80); err != nil {
			b.Fatal(err)
		}
		seed++
	}
}
