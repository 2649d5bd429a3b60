// Package chart draws the figures' charts as SVG on the server: no
// script, no style sheet of its own (presentation attributes only, which
// the UI's Content-Security-Policy allows), a title and a description for
// screen readers, and colours told apart without colour (each series has
// its own dash pattern, and the legend names it).
package chart

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// Point is one point of a series.
type Point struct{ X, Y float64 }

// Series is a named line; Step draws it as a step function (a survival
// curve, a cumulative count), holding each value until the next point.
type Series struct {
	Name   string
	Points []Point
}

// Lines is a chart of lines over a shared x axis.
type Lines struct {
	// Title and Desc are read to screen-reader users; Desc should say
	// what the chart shows in words.
	Title, Desc    string
	XLabel, YLabel string
	// XTick and YTick format an axis value; nil: a plain number.
	XTick, YTick func(float64) string
	// YMin and YMax fix the y axis (a share: 0 and 1); both zero: from
	// the data.
	YMin, YMax float64
	Step       bool
	Series     []Series
}

// Width and Height are the drawing's size in user units; the SVG scales
// to its container.
const (
	Width, Height                    = 640, 320
	left, right, top, bottom, legend = 64, 16, 16, 44, 18
)

// palette is Okabe and Ito's, which readers with the common colour vision
// deficiencies tell apart; dashes tell the lines apart without colour.
var (
	palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"}
	dashes  = []string{"", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 2 1 2", "12 2"}
)

// SVG draws the chart.
func (c Lines) SVG() template.HTML {
	var xs, ys []float64
	for _, s := range c.Series {
		for _, p := range s.Points {
			xs, ys = append(xs, p.X), append(ys, p.Y)
		}
	}
	var b strings.Builder
	rows := (len(c.Series) + 2) / 3
	h := Height + rows*legend
	id := fmt.Sprintf("c%x", hash(c.Title))
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d" class="chart">`, Width, h, id, id)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, esc(c.Title), id, esc(c.Desc))
	if len(xs) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" fill="#333">No data yet.</text></svg>`, left, Height/2)
		return template.HTML(b.String())
	}
	x0, x1 := minmax(xs)
	y0, y1 := minmax(ys)
	if c.YMin != 0 || c.YMax != 0 {
		y0, y1 = c.YMin, c.YMax
	}
	if x1 == x0 {
		x1 = x0 + 1
	}
	if y1 == y0 {
		y1 = y0 + 1
	}
	xt, yt := ticks(x0, x1, 5), ticks(y0, y1, 5)
	x0, x1 = math.Min(x0, xt[0]), math.Max(x1, xt[len(xt)-1])
	y0, y1 = math.Min(y0, yt[0]), math.Max(y1, yt[len(yt)-1])
	pw, ph := float64(Width-left-right), float64(Height-top-bottom)
	px := func(x float64) float64 { return left + (x-x0)/(x1-x0)*pw }
	py := func(y float64) float64 { return top + (1-(y-y0)/(y1-y0))*ph }
	fx, fy := c.XTick, c.YTick
	if fx == nil {
		fx = plain
	}
	if fy == nil {
		fy = plain
	}
	// Grid and axes.
	b.WriteString(`<g font-size="11" fill="#333">`)
	for _, y := range yt {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`,
			left, Width-right, py(y), py(y), left-6, py(y), esc(fy(y)))
	}
	for _, x := range xt {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#ddd"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>`,
			px(x), px(x), top, Height-bottom, px(x), Height-bottom+14, esc(fx(x)))
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#333"/>`, left, Width-right, Height-bottom, Height-bottom)
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#333"/>`, left, left, top, Height-bottom)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, left+pw/2, Height-6, esc(c.XLabel))
	fmt.Fprintf(&b, `<text x="12" y="%.1f" text-anchor="middle" transform="rotate(-90 12 %.1f)">%s</text>`, top+ph/2, top+ph/2, esc(c.YLabel))
	b.WriteString(`</g>`)
	// Lines.
	for i, s := range c.Series {
		if len(s.Points) == 0 {
			continue
		}
		var d strings.Builder
		for j, p := range s.Points {
			switch {
			case j == 0:
				fmt.Fprintf(&d, "M%.1f %.1f", px(p.X), py(p.Y))
			case c.Step:
				fmt.Fprintf(&d, "H%.1fV%.1f", px(p.X), py(p.Y))
			default:
				fmt.Fprintf(&d, "L%.1f %.1f", px(p.X), py(p.Y))
			}
		}
		if c.Step {
			// A step curve holds its last value to the end of the axis.
			fmt.Fprintf(&d, "H%.1f", px(x1))
		}
		dash := ""
		if k := dashes[i%len(dashes)]; k != "" {
			dash = ` stroke-dasharray="` + k + `"`
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"%s><title>%s</title></path>`, d.String(), palette[i%len(palette)], dash, esc(s.Name))
	}
	// Legend, three to a row.
	for i, s := range c.Series {
		x := left + (i%3)*((Width-left-right)/3)
		y := Height + (i/3)*legend + 4
		dash := ""
		if k := dashes[i%len(dashes)]; k != "" {
			dash = ` stroke-dasharray="` + k + `"`
		}
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"%s/><text x="%d" y="%d" font-size="12" fill="#333" dominant-baseline="middle">%s</text>`,
			x, x+28, y, y, palette[i%len(palette)], dash, x+34, y, esc(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// Range is one group's spread: from Min to Max, with its median and 90th
// percentile marked.
type Range struct {
	Label                 string
	Min, Median, P90, Max float64
	Count                 int
}

// Ranges is a chart of one horizontal range per group (times to removal
// per provider).
type Ranges struct {
	Title, Desc string
	XLabel      string
	XTick       func(float64) string
	Rows        []Range
}

// SVG draws the chart.
func (c Ranges) SVG() template.HTML {
	const rowH = 26
	h := top + bottom + rowH*max(len(c.Rows), 1)
	id := fmt.Sprintf("r%x", hash(c.Title))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d" class="chart">`, Width, h, id, id)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, esc(c.Title), id, esc(c.Desc))
	if len(c.Rows) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" fill="#333">No data yet.</text></svg>`, left, top+rowH)
		return template.HTML(b.String())
	}
	const labelW = 140
	var xs []float64
	for _, r := range c.Rows {
		xs = append(xs, r.Min, r.Max)
	}
	x0, x1 := minmax(xs)
	x0 = math.Min(x0, 0)
	if x1 == x0 {
		x1 = x0 + 1
	}
	xt := ticks(x0, x1, 5)
	x1 = math.Max(x1, xt[len(xt)-1])
	pw := float64(Width - labelW - right)
	px := func(x float64) float64 { return labelW + (x-x0)/(x1-x0)*pw }
	fx := c.XTick
	if fx == nil {
		fx = plain
	}
	bottomY := top + rowH*len(c.Rows)
	b.WriteString(`<g font-size="11" fill="#333">`)
	for _, x := range xt {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#ddd"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>`,
			px(x), px(x), top, bottomY, px(x), bottomY+14, esc(fx(x)))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text></g>`, labelW+pw/2, bottomY+34, esc(c.XLabel))
	for i, r := range c.Rows {
		y := float64(top + rowH*i + rowH/2)
		fmt.Fprintf(&b, `<g><title>%s: %d, median %s, 90th percentile %s, from %s to %s</title>`, esc(r.Label), r.Count, esc(fx(r.Median)), esc(fx(r.P90)), esc(fx(r.Min)), esc(fx(r.Max)))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="12" fill="#333" text-anchor="end" dominant-baseline="middle">%s</text>`, labelW-8, y, esc(r.Label))
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#555" stroke-width="2"/>`, px(r.Min), px(r.Max), y, y)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="12" fill="%s"/>`, px(r.Median), y-6, math.Max(px(r.P90)-px(r.Median), 2), palette[0])
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#000" stroke-width="3"/></g>`, px(r.Median), px(r.Median), y-8, y+8)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func minmax(v []float64) (float64, float64) {
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// ticks returns about n round values covering lo to hi.
func ticks(lo, hi float64, n int) []float64 {
	span := hi - lo
	step := math.Pow(10, math.Floor(math.Log10(span/float64(n))))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if span/(step*m) <= float64(n) {
			step *= m
			break
		}
	}
	var out []float64
	for x := math.Floor(lo/step) * step; x <= hi+step*1e-9; x += step {
		out = append(out, x)
	}
	if out[len(out)-1] < hi {
		out = append(out, out[len(out)-1]+step)
	}
	return out
}

func plain(x float64) string {
	if x == math.Trunc(x) {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.2g", x)
}

func esc(s string) string { return template.HTMLEscapeString(s) }

func hash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}
