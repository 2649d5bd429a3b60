package main

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/takedown-project/takedown/internal/importer"
)

// progress is a progress bar for long work on a terminal. On anything but a
// terminal (a pipe, a log file, CI) it draws nothing, and its lines go out
// as plain lines.
type progress struct {
	w    io.Writer
	p    *mpb.Progress
	bar  *mpb.Bar
	rows atomic.Int64
}

// newProgress returns a progress bar named label over total bytes
// (unknown when < 0). mode is "auto" (only when w is a terminal),
// "always" or "never".
func newProgress(w io.Writer, mode, label string, total int64) *progress {
	pr := &progress{w: w}
	on := mode == "always"
	if mode == "auto" {
		f, ok := w.(*os.File)
		on = ok && term.IsTerminal(int(f.Fd()))
	}
	if !on {
		return pr
	}
	opts := []mpb.ContainerOption{mpb.WithOutput(w), mpb.WithWidth(40)}
	if mode == "always" {
		// mpb draws nothing on what is not a terminal unless told to.
		opts = append(opts, mpb.WithAutoRefresh())
	}
	pr.p = mpb.New(opts...)
	rows := decor.Any(func(decor.Statistics) string { return fmt.Sprintf("%d rows", pr.rows.Load()) }, decor.WCSyncSpaceR)
	if total > 0 {
		pr.bar = pr.p.AddBar(total,
			mpb.PrependDecorators(decor.Name(label+" "), decor.CountersKibiByte("% .1f / % .1f", decor.WCSyncSpaceR)),
			mpb.AppendDecorators(rows, decor.Percentage(decor.WCSyncSpace), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)))
	} else {
		pr.bar = pr.p.AddSpinner(0,
			mpb.PrependDecorators(decor.Name(label+" "), decor.CurrentKibiByte("% .1f", decor.WCSyncSpaceR)),
			mpb.AppendDecorators(rows, decor.Elapsed(decor.ET_STYLE_GO)))
	}
	return pr
}

func (pr *progress) update(p importer.Progress) {
	pr.rows.Store(p.Rows)
	if pr.bar != nil {
		pr.bar.SetCurrent(p.Bytes)
	}
}

// println writes a line above the bar, or plainly when there is none.
func (pr *progress) println(s string) {
	if pr.p != nil {
		fmt.Fprintln(pr.p, s)
		return
	}
	fmt.Fprintln(pr.w, s)
}

// finish completes the bar (or aborts it after a failure) and waits until
// it is drawn for the last time.
func (pr *progress) finish(ok bool) {
	if pr.p == nil {
		return
	}
	if ok {
		pr.bar.SetTotal(-1, true)
	} else {
		pr.bar.Abort(false)
	}
	pr.p.Wait()
}

// newCountProgress returns a progress bar named label over total things
// (probes, ...), drawn as newProgress says.
func newCountProgress(w io.Writer, mode, label string, total int64) *progress {
	pr := &progress{w: w}
	on := mode == "always"
	if mode == "auto" {
		f, ok := w.(*os.File)
		on = ok && term.IsTerminal(int(f.Fd()))
	}
	if !on {
		return pr
	}
	opts := []mpb.ContainerOption{mpb.WithOutput(w), mpb.WithWidth(40)}
	if mode == "always" {
		opts = append(opts, mpb.WithAutoRefresh())
	}
	pr.p = mpb.New(opts...)
	pr.bar = pr.p.AddBar(total,
		mpb.PrependDecorators(decor.Name(label+" "), decor.CountersNoUnit("%d / %d", decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)))
	return pr
}

// add counts n more things done.
func (pr *progress) add(n int) {
	if pr.bar != nil {
		pr.bar.IncrBy(n)
	}
}
