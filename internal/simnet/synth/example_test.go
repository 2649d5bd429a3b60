package synth_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/takedown-project/takedown/internal/simnet/synth"
)

// An outlet, its channel on each platform, and the successors an
// adversary registers after the takedown.
func Example() {
	r := rand.New(rand.NewPCG(2026, 11))
	brand := synth.BrandName(r)
	fmt.Println(brand)
	for _, lang := range []string{"en", "ru", "ar"} {
		fmt.Println(lang, synth.Title(r, brand, lang))
	}
	for _, p := range synth.Platforms {
		h := synth.Handle(r, brand, p)
		m, ops := synth.MutateHandle(r, h, p)
		fmt.Printf("%s %s -> %s %q\n", p, h, m, ops)
	}
	t, ops := synth.MutateTitle(r, brand)
	fmt.Printf("%s %q\n", t, ops)
	// Output:
	// Halru Network
	// en Halru Network | Weather Today
	// ru Халру Нетворк
	// ar هالرو نيتوورك
	// telegram halru1 -> halrul ["lookalike: \"1\" -> \"l\" at 5"]
	// x halruonline -> halrruonline ["double: \"r\" at 3"]
	// youtube Halru-Official -> Halru-Officialtv9 ["suffix: \"tv\"" "digits: \"9\""]
	// web halru-network -> halru-netwrok ["swap: \"or\" -> \"ro\" at 10"]
	// Halru Νеtwork ✓ ["confusable: N->U+039D at 6, e->U+0435 at 7" "marker: \" ✓\""]
}
