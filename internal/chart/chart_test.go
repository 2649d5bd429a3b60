package chart

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// wellFormed parses an SVG as XML and returns its element names.
func wellFormed(t *testing.T, svg string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var names []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			names = append(names, se.Name.Local)
			for _, a := range se.Attr {
				if a.Name.Local == "style" || strings.HasPrefix(a.Name.Local, "on") {
					t.Errorf("attribute %s: the UI's policy allows neither inline styles nor scripts", a.Name.Local)
				}
			}
		}
	}
}

func TestLines(t *testing.T) {
	c := Lines{Title: "Still <online>", Desc: "share & time", XLabel: "hours", YLabel: "share", YMin: 0, YMax: 1, Step: true,
		XTick:  func(x float64) string { return plain(x) + " h" },
		Series: []Series{{Name: "telegram", Points: []Point{{0, 1}, {1, 0.66}, {3, 0}}}, {Name: "x<y>", Points: []Point{{0, 1}, {2, 0.5}}}}}
	svg := string(c.SVG())
	names := wellFormed(t, svg)
	if names[0] != "svg" || names[1] != "title" || names[2] != "desc" {
		t.Errorf("elements %v", names[:3])
	}
	for _, want := range []string{`role="img"`, "Still &lt;online&gt;", "share &amp; time", "x&lt;y&gt;", `stroke-dasharray="6 3"`, "3 h", `<path d="M`} {
		if !strings.Contains(svg, want) {
			t.Errorf("lacks %q", want)
		}
	}
	empty := string(Lines{Title: "empty"}.SVG())
	wellFormed(t, empty)
	if !strings.Contains(empty, "No data yet.") {
		t.Errorf("an empty chart: %s", empty)
	}
}

func TestRanges(t *testing.T) {
	c := Ranges{Title: "Time to removal", Desc: "per provider", XLabel: "hours", Rows: []Range{{Label: "chanhost", Min: 0.5, Median: 1, P90: 5, Max: 6, Count: 3}, {Label: "a&b", Min: 1, Median: 1, P90: 1, Max: 1, Count: 1}}}
	svg := string(c.SVG())
	wellFormed(t, svg)
	for _, want := range []string{"chanhost: 3, median 1, 90th percentile 5, from 0.5 to 6", "a&amp;b"} {
		if !strings.Contains(svg, want) {
			t.Errorf("lacks %q:\n%s", want, svg)
		}
	}
	wellFormed(t, string(Ranges{Title: "none"}.SVG()))
}

func TestTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   string
	}{{0, 1, "0 0.2 0.4 0.6 0.8 1"}, {0, 7, "0 2 4 6 8"}, {3, 97, "0 20 40 60 80 100"}, {0.5, 6, "0 2 4 6"}} {
		var got []string
		for _, x := range ticks(tc.lo, tc.hi, 5) {
			got = append(got, plain(x))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("ticks(%v, %v) = %v, want %s", tc.lo, tc.hi, got, tc.want)
		}
	}
}
