package report

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/go-pdf/fpdf"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/chart"
)

// The PDF is a press-ready summary: the headline figure, what the figures
// count, the main tables and the charts, on A4. It is set in DejaVu Sans
// where the machine has it (Debian's fonts-dejavu-core), which carries
// Latin, Greek and Cyrillic names; else in the standard PDF fonts, which
// carry Western European text only (other letters show as "?"). Scripts
// written right to left are not shaped. Times are UTC.

// compressPDF is off in the tests, so that they can read the text.
var compressPDF = true

// pdfFonts are where the PDF looks for its TrueType fonts, regular and
// bold; the tests empty it, so that their files do not depend on the
// machine's fonts.
var pdfFonts = [][2]string{
	{"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"},
}

// setFonts picks the PDF's font: the first pair of pdfFonts the machine
// has, else Helvetica with text translated to Windows-1252.
func (d *pdfDoc) setFonts() {
	for _, pair := range pdfFonts {
		regular, err1 := os.ReadFile(pair[0])
		bold, err2 := os.ReadFile(pair[1])
		if err1 == nil && err2 == nil {
			d.AddUTF8FontFromBytes("body", "", regular)
			d.AddUTF8FontFromBytes("body", "B", bold)
			d.family, d.tr = "body", func(s string) string { return s }
			return
		}
	}
	d.family, d.tr = "Helvetica", d.UnicodeTranslatorFromDescriptor("")
}

const (
	pageW, margin = 210.0, 15.0
	contentW      = pageW - 2*margin
)

type pdfDoc struct {
	*fpdf.Fpdf
	tr     func(string) string
	family string
}

func pdfReport(w io.Writer, r *takedown.Report) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(compressPDF)
	pdf.SetCatalogSort(true) // the same report, the same bytes
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin)
	// The report's own time, not the clock's: the same figures make the
	// same file.
	pdf.SetCreationDate(r.AsOf)
	pdf.SetModificationDate(r.AsOf)
	d := &pdfDoc{Fpdf: pdf}
	d.setFonts()
	pdf.SetTitle(d.tr(r.Name+" ("+r.Operation+"): figures"), false)
	pdf.SetCreator("takedown", false)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-10)
		pdf.SetFont(d.family, "", 8)
		pdf.SetTextColor(90, 90, 90)
		status := "final figures of a closed operation"
		if r.Preliminary {
			status = "preliminary figures of an open operation"
		}
		pdf.CellFormat(0, 5, d.tr(fmt.Sprintf("%s (%s), %s, as of %s. Page %d", r.Name, r.Operation, status, r.AsOf.UTC().Format("2006-01-02 15:04 UTC"), pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()

	// The headline.
	d.font(18, "B")
	d.MultiCell(contentW, 8, d.tr(r.Name), "", "L", false)
	d.font(10, "")
	d.text(fmt.Sprintf("Operation %s. Figures as of %s.", r.Operation, r.AsOf.UTC().Format("2 January 2006, 15:04 UTC")))
	if r.Preliminary {
		d.SetFillColor(255, 243, 205)
		d.font(10, "B")
		d.MultiCell(contentW, 6, d.tr("Preliminary figures: the operation is open and they move; the investigation goes on."), "", "L", true)
	}
	d.Ln(3)
	d.font(22, "B")
	d.MultiCell(contentW, 10, d.tr(fmt.Sprintf("%s items taken offline", thousands(r.TakenOffline))), "", "L", false)
	d.font(11, "")
	d.text(fmt.Sprintf("of %s items reported by the agencies and found by takedown (each counted once); %s referred to their providers.",
		thousands(r.Items), thousands(referred(r))))
	d.Ln(2)
	d.heading("What the figures count")
	d.font(8.5, "")
	for _, def := range Definitions {
		d.MultiCell(contentW, 4, d.tr("- "+def), "", "L", false)
	}

	// The tables.
	d.heading("Items by platform")
	head := []string{"platform", "items"}
	for _, sg := range statusGroups {
		head = append(head, sg.name)
	}
	d.table(head, breakdownTable(r, "platform"), []float64{40, 25, 30, 50, 35})
	d.heading("Time to removal, per provider")
	if len(r.TimeToRemoval.ByProvider) == 0 {
		d.text("No removal is confirmed yet.")
	} else {
		var rows [][]string
		for _, f := range append(append([]takedown.RemovalFigure{}, r.TimeToRemoval.ByProvider...), r.TimeToRemoval.All...) {
			rows = append(rows, []string{f.Group, strconv.Itoa(f.Count), duration(f.Median), duration(f.P90), duration(f.Min), duration(f.Max)})
		}
		d.table([]string{"provider", "removals", "median", "90th percentile", "fastest", "slowest"}, rows, []float64{40, 25, 25, 35, 25, 30})
	}
	next := "none"
	if r.Orders.NextDeadline != nil {
		next = "the next at " + r.Orders.NextDeadline.UTC().Format("15:04 UTC")
	}
	d.Ln(2)
	d.text(fmt.Sprintf("Removal orders with items pending: %d within their one-hour deadline (%s), %d past it.", r.Orders.Running, next, r.Orders.Overdue))

	// The charts.
	captions := map[string]string{
		"timeline": "Items taken offline over time: confirmed removals by the time of their first offline observation.",
		"online":   "Still online after referral, per platform: the share of referred items not yet removed (Kaplan-Meier; items still online are censored at the report's time).",
		"ttr":      "Time to removal per provider: from the fastest to the slowest removal, the bar from the median to the 90th percentile.",
		"back":     "Resurgence: the share of removed channels, groups and accounts without a confirmed successor after each time since their removal (Kaplan-Meier).",
	}
	d.AddPage()
	for _, c := range chart.ForReport(r) {
		w, h := c.Chart.Size()
		scale := contentW / w
		if d.GetY()+h*scale+14 > 297-margin {
			d.AddPage()
		}
		d.font(9, "B")
		d.MultiCell(contentW, 4.5, d.tr(captions[c.Key]), "", "L", false)
		x0, y0 := margin, d.GetY()+1
		c.Chart.Draw(&pdfCanvas{d: d, x0: x0, y0: y0, scale: scale})
		d.SetY(y0 + h*scale + 4)
	}

	// Resurgence.
	if res := r.Resurgence; res != nil {
		d.heading("Resurgence: did the network come back?")
		m := res.Matches
		d.text(fmt.Sprintf("Candidate successors found by takedown's watch: %d; matches %d open, %d confirmed, %d rejected; successors confirmed %d, referred again %d.",
			m.Candidates, m.Open, m.Confirmed, m.Rejected, m.Successors, m.Referred))
		if rows := resurgenceRows(res); len(rows) > 0 {
			d.table(resurgenceHead, rows, []float64{40, 30, 30, 25, 55})
		}
	}
	return pdf.Output(w)
}

func referred(r *takedown.Report) int {
	n := 0
	for s, c := range r.ByStatus {
		if s != takedown.ItemSubmitted && s != takedown.ItemCandidate {
			n += c
		}
	}
	return n
}

// thousands writes n with thousands separated: 26,017.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (d *pdfDoc) font(size float64, style string) {
	d.SetFont(d.family, style, size)
	d.SetTextColor(20, 20, 20)
}

func (d *pdfDoc) text(s string) {
	d.MultiCell(contentW, 5, d.tr(s), "", "L", false)
}

func (d *pdfDoc) heading(s string) {
	d.Ln(3)
	d.font(12, "B")
	d.MultiCell(contentW, 7, d.tr(s), "", "L", false)
	d.font(9, "")
}

// table writes a table with a header row; the widths are in mm.
func (d *pdfDoc) table(head []string, rows [][]string, widths []float64) {
	d.font(8.5, "B")
	d.SetFillColor(235, 235, 235)
	for i, h := range head {
		d.CellFormat(widths[i], 6, d.tr(h), "B", 0, "L", true, 0, "")
	}
	d.Ln(-1)
	d.font(8.5, "")
	for _, row := range rows {
		for i, c := range row {
			align := "L"
			if i > 0 {
				align = "R"
			}
			d.CellFormat(widths[i], 5, d.tr(c), "", 0, align, false, 0, "")
		}
		d.Ln(-1)
	}
}

// pdfCanvas draws a chart on the PDF page, from the chart's units to mm.
type pdfCanvas struct {
	d      *pdfDoc
	x0, y0 float64
	scale  float64
}

func (c *pdfCanvas) colour(hex string, fill bool) {
	var r, g, b int
	fmt.Sscanf(strings.TrimPrefix(hex, "#"), "%02x%02x%02x", &r, &g, &b)
	if fill {
		c.d.SetFillColor(r, g, b)
	} else {
		c.d.SetDrawColor(r, g, b)
	}
}

func (c *pdfCanvas) pen(colour string, width float64, dash string) {
	c.colour(colour, false)
	c.d.SetLineWidth(width * c.scale)
	var pattern []float64
	for _, f := range strings.Fields(dash) {
		if v, err := strconv.ParseFloat(f, 64); err == nil {
			pattern = append(pattern, v*c.scale)
		}
	}
	c.d.SetDashPattern(pattern, 0)
}

func (c *pdfCanvas) x(v float64) float64 { return c.x0 + v*c.scale }
func (c *pdfCanvas) y(v float64) float64 { return c.y0 + v*c.scale }

func (c *pdfCanvas) Line(x1, y1, x2, y2 float64, colour string, width float64, dash string) {
	c.pen(colour, width, dash)
	c.d.Line(c.x(x1), c.y(y1), c.x(x2), c.y(y2))
}

func (c *pdfCanvas) Path(pts []chart.Point, colour string, width float64, dash, _ string) {
	c.pen(colour, width, dash)
	for i := 1; i < len(pts); i++ {
		c.d.Line(c.x(pts[i-1].X), c.y(pts[i-1].Y), c.x(pts[i].X), c.y(pts[i].Y))
	}
}

func (c *pdfCanvas) Rect(x, y, w, h float64, colour string) {
	c.colour(colour, true)
	c.d.Rect(c.x(x), c.y(y), w*c.scale, h*c.scale, "F")
}

func (c *pdfCanvas) Text(x, y float64, s string, size float64, anchor string, rotate bool) {
	pt := size * c.scale / 0.3528 // the chart's units to points
	c.d.SetFont(c.d.family, "", pt)
	c.d.SetTextColor(50, 50, 50)
	s = c.d.tr(s)
	w := c.d.GetStringWidth(s)
	dx := 0.0
	switch anchor {
	case "middle":
		dx = -w / 2
	case "end":
		dx = -w
	}
	// Centred on y, as SVG's dominant-baseline middle: the baseline a
	// third of the font's height below.
	px, py := c.x(x), c.y(y)+pt*0.3528/3
	if rotate {
		c.d.TransformBegin()
		c.d.TransformRotate(90, c.x(x), c.y(y))
		c.d.Text(px+dx, py, s)
		c.d.TransformEnd()
		return
	}
	c.d.Text(px+dx, py, s)
}
