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

// Canvas is what a chart draws on: the SVG of the UI (SVG) or a PDF page
// (the report's). Coordinates are in the chart's units, Width wide, y
// downwards; colours are "#rrggbb", dash a pattern as in SVG ("6 3"),
// anchor start, middle or end.
type Canvas interface {
	Line(x1, y1, x2, y2 float64, colour string, width float64, dash string)
	Path(points []Point, colour string, width float64, dash string, title string)
	Rect(x, y, w, h float64, colour string)
	Text(x, y float64, s string, size float64, anchor string, rotate bool)
}

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
	// XUnit, when set, makes the x ticks round in x*XUnit (60 for
	// minutes on an axis of hours).
	XUnit float64
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

// Size is the drawing's height for its width: the legend takes a row per
// three series.
func (c Lines) Size() (float64, float64) {
	return Width, float64(Height + (len(c.Series)+2)/3*legend)
}

// SVG draws the chart as an SVG element.
func (c Lines) SVG() template.HTML {
	w, h := c.Size()
	return svg(c.Title, c.Desc, w, h, c.Draw)
}

// Draw draws the chart on cv.
func (c Lines) Draw(cv Canvas) {
	var xs, ys []float64
	for _, s := range c.Series {
		for _, p := range s.Points {
			xs, ys = append(xs, p.X), append(ys, p.Y)
		}
	}
	if len(xs) == 0 {
		cv.Text(left, Height/2, "No data yet.", 14, "start", false)
		return
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
	unit := c.XUnit
	if unit == 0 {
		unit = 1
	}
	xt, yt := ticks(x0*unit, x1*unit, 5), ticks(y0, y1, 5)
	for i := range xt {
		xt[i] /= unit
	}
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
	for _, y := range yt {
		cv.Line(left, py(y), Width-right, py(y), "#dddddd", 1, "")
		cv.Text(left-6, py(y), fy(y), 11, "end", false)
	}
	for _, x := range xt {
		cv.Line(px(x), top, px(x), Height-bottom, "#dddddd", 1, "")
		cv.Text(px(x), Height-bottom+14, fx(x), 11, "middle", false)
	}
	cv.Line(left, Height-bottom, Width-right, Height-bottom, "#333333", 1, "")
	cv.Line(left, top, left, Height-bottom, "#333333", 1, "")
	cv.Text(left+pw/2, Height-6, c.XLabel, 11, "middle", false)
	cv.Text(12, top+ph/2, c.YLabel, 11, "middle", true)
	// Lines.
	for i, s := range c.Series {
		if len(s.Points) == 0 {
			continue
		}
		var pts []Point
		for j, p := range s.Points {
			if c.Step && j > 0 {
				// Hold the value until the next point.
				pts = append(pts, Point{px(p.X), pts[len(pts)-1].Y})
			}
			pts = append(pts, Point{px(p.X), py(p.Y)})
		}
		if c.Step {
			// A step curve holds its last value to the end of the axis.
			pts = append(pts, Point{px(x1), pts[len(pts)-1].Y})
		}
		cv.Path(pts, palette[i%len(palette)], 2, dashes[i%len(dashes)], s.Name)
	}
	// Legend, three to a row.
	for i, s := range c.Series {
		x := float64(left + (i%3)*((Width-left-right)/3))
		y := float64(Height + (i/3)*legend + 4)
		cv.Line(x, y, x+28, y, palette[i%len(palette)], 2, dashes[i%len(dashes)])
		cv.Text(x+34, y, s.Name, 12, "start", false)
	}
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
	XUnit       float64 // as Lines.XUnit
	Rows        []Range
}

const rowH = 26

// Size is the drawing's size: a row per group.
func (c Ranges) Size() (float64, float64) {
	return Width, float64(top + bottom + rowH*max(len(c.Rows), 1))
}

// SVG draws the chart as an SVG element.
func (c Ranges) SVG() template.HTML {
	w, h := c.Size()
	return svg(c.Title, c.Desc, w, h, c.Draw)
}

// Draw draws the chart on cv.
func (c Ranges) Draw(cv Canvas) {
	if len(c.Rows) == 0 {
		cv.Text(left, top+rowH, "No data yet.", 14, "start", false)
		return
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
	unit := c.XUnit
	if unit == 0 {
		unit = 1
	}
	xt := ticks(x0*unit, x1*unit, 5)
	for i := range xt {
		xt[i] /= unit
	}
	x1 = math.Max(x1, xt[len(xt)-1])
	pw := float64(Width - labelW - right)
	px := func(x float64) float64 { return labelW + (x-x0)/(x1-x0)*pw }
	fx := c.XTick
	if fx == nil {
		fx = plain
	}
	bottomY := float64(top + rowH*len(c.Rows))
	for _, x := range xt {
		cv.Line(px(x), top, px(x), bottomY, "#dddddd", 1, "")
		cv.Text(px(x), bottomY+14, fx(x), 11, "middle", false)
	}
	cv.Text(labelW+pw/2, bottomY+34, c.XLabel, 11, "middle", false)
	for i, r := range c.Rows {
		y := float64(top + rowH*i + rowH/2)
		cv.Text(labelW-8, y, r.Label, 12, "end", false)
		cv.Path([]Point{{px(r.Min), y}, {px(r.Max), y}}, "#555555", 2, "",
			fmt.Sprintf("%s: %d, median %s, 90th percentile %s, from %s to %s", r.Label, r.Count, fx(r.Median), fx(r.P90), fx(r.Min), fx(r.Max)))
		cv.Rect(px(r.Median), y-6, math.Max(px(r.P90)-px(r.Median), 2), 12, palette[0])
		cv.Line(px(r.Median), y-8, px(r.Median), y+8, "#000000", 3, "")
	}
}

// svgCanvas draws on an SVG element.
type svgCanvas struct{ b *strings.Builder }

func dashAttr(dash string) string {
	if dash == "" {
		return ""
	}
	return ` stroke-dasharray="` + dash + `"`
}

func (c svgCanvas) Line(x1, y1, x2, y2 float64, colour string, width float64, dash string) {
	fmt.Fprintf(c.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%g"%s/>`, x1, y1, x2, y2, colour, width, dashAttr(dash))
}

func (c svgCanvas) Path(pts []Point, colour string, width float64, dash, title string) {
	var d strings.Builder
	for i, p := range pts {
		op := "L"
		if i == 0 {
			op = "M"
		}
		fmt.Fprintf(&d, "%s%.1f %.1f", op, p.X, p.Y)
	}
	fmt.Fprintf(c.b, `<path d="%s" fill="none" stroke="%s" stroke-width="%g"%s>`, d.String(), colour, width, dashAttr(dash))
	if title != "" {
		fmt.Fprintf(c.b, `<title>%s</title>`, esc(title))
	}
	c.b.WriteString(`</path>`)
}

func (c svgCanvas) Rect(x, y, w, h float64, colour string) {
	fmt.Fprintf(c.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, y, w, h, colour)
}

func (c svgCanvas) Text(x, y float64, s string, size float64, anchor string, rotate bool) {
	tr := ""
	if rotate {
		tr = fmt.Sprintf(` transform="rotate(-90 %.1f %.1f)"`, x, y)
	}
	fmt.Fprintf(c.b, `<text x="%.1f" y="%.1f" font-size="%g" fill="#333333" text-anchor="%s" dominant-baseline="middle"%s>%s</text>`, x, y, size, anchor, tr, esc(s))
}

// svg wraps a drawing in an SVG element with its title and description.
func svg(title, desc string, w, h float64, draw func(Canvas)) template.HTML {
	var b strings.Builder
	id := fmt.Sprintf("c%x", hash(title))
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" role="img" aria-labelledby="%s-t %s-d" class="chart">`, w, h, id, id)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, esc(title), id, esc(desc))
	draw(svgCanvas{&b})
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
