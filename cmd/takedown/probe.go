package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/jobs"
)

func newProbeCommand(g *globals) *cobra.Command {
	o := &probeOptions{}
	var operation, status, platform, provider, progressMode string
	var schedule []time.Duration
	var confirmAfter time.Duration
	var batch int
	cmd := &cobra.Command{
		Use:   "probe --operation OP [--status S] [--platform P] [--provider P]",
		Short: "Probe an operation's items now and record what is online and what is offline",
		Long: `probe looks at every item of the operation that the filters select, now, with
the same safe and polite client and the same classification rules as the
scheduled probes of takedown serve and takedown worker, records each
observation with its evidence (status, final URL, the rule that matched,
bytes read, latency, error), and applies it: two offline observations at
least --confirm-after apart confirm a removal, and a confirmed item seen
online again is reinstated. It ends with a summary of the verdicts and of
the changes.`,
		Example: `  takedown probe --operation rad-2026-11
  takedown probe --operation rad-2026-11 --status online --platform telegram`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			ctx := cmd.Context()
			op, err := db.FindOperation(ctx, operation)
			if err != nil {
				return err
			}
			f := takedown.ItemFilter{OperationID: op.ID, Status: takedown.ItemStatus(status), Platform: takedown.Platform(platform), Provider: provider}
			p, err := o.prober()
			if err != nil {
				return err
			}
			defer p.Close()
			s := takedown.DefaultSchedule
			if len(schedule) > 0 {
				s.After = schedule
			}
			s.ConfirmAfter = confirmAfter
			sum, err := probeItems(ctx, g, db, p, f, s, batch, progressMode)
			if err != nil {
				return err
			}
			sum.print(g)
			return nil
		}),
	}
	o.register(cmd.Flags(), false)
	fl := cmd.Flags()
	fl.StringVar(&o.simnet, "simnet", "", "simulator description (simnet.json): probe the simulated internet instead")
	fl.StringVar(&operation, "operation", "", "the operation (required)")
	fl.StringVar(&status, "status", "", "only items of this status: "+statusList())
	fl.StringVar(&platform, "platform", "", "only items of this platform")
	fl.StringVar(&provider, "provider", "", "only items attributed to this provider")
	fl.DurationSliceVar(&schedule, "probe-schedule", takedown.DefaultSchedule.After, "when the scheduled probes go on from here")
	fl.DurationVar(&confirmAfter, "confirm-after", takedown.DefaultSchedule.ConfirmAfter, "the least time between the two offline observations that confirm a removal")
	fl.IntVar(&batch, "batch", 500, "observations recorded per transaction")
	fl.StringVar(&progressMode, "progress", "auto", "progress bar: auto (on a terminal), always or never")
	_ = cmd.MarkFlagRequired("operation")
	return cmd
}

func statusList() string {
	var ss []string
	for _, s := range takedown.ItemStatuses {
		ss = append(ss, string(s))
	}
	return strings.Join(ss, ", ")
}

// probeSummary counts what a run of probes saw and changed.
type probeSummary struct {
	probed   int
	verdicts map[string]int // "offline/removed", ...
	changes  map[takedown.Change]int
	elapsed  time.Duration
}

// probeItems probes what f selects, in batches, and records the
// observations.
func probeItems(ctx context.Context, g *globals, db database, p jobs.Prober, f takedown.ItemFilter, s takedown.Schedule, batch int, progressMode string) (*probeSummary, error) {
	if batch <= 0 {
		batch = 500
	}
	switch progressMode {
	case "auto", "always", "never":
	default:
		return nil, takedown.Errorf(takedown.EINVALID, "--progress %q: want auto, always or never", progressMode)
	}
	counts, err := db.CountByStatus(ctx, f.OperationID)
	if err != nil {
		return nil, err
	}
	total := 0
	for st, n := range counts {
		if f.Status == "" || st == f.Status {
			total += n
		}
	}
	bar := newCountProgress(g.stderr, progressMode, "probe", int64(total))
	sum := &probeSummary{verdicts: map[string]int{}, changes: map[takedown.Change]int{}}
	start := time.Now()
	after := int64(0)
	ok := false
	defer func() { bar.finish(ok) }()
	for {
		targets, err := db.ProbeTargets(ctx, f, after, batch)
		if err != nil {
			return nil, err
		}
		if len(targets) == 0 {
			break
		}
		after = targets[len(targets)-1].ItemID
		obs, err := p.ProbeBatch(ctx, targets)
		if err != nil {
			return nil, err
		}
		changes, err := db.RecordObservations(ctx, obs, s)
		if err != nil {
			return nil, err
		}
		for i, o := range obs {
			sum.probed++
			sum.verdicts[string(o.Verdict)+"/"+o.Reason]++
			sum.changes[changes[i]]++
		}
		bar.add(len(obs))
	}
	ok = true
	sum.elapsed = time.Since(start)
	return sum, nil
}

func (s *probeSummary) print(g *globals) {
	rate := 0.0
	if s.elapsed > 0 {
		rate = float64(s.probed) / s.elapsed.Seconds()
	}
	fmt.Fprintf(g.stdout, "%d items probed in %s (%.0f/s)\n", s.probed, s.elapsed.Round(time.Millisecond), rate)
	var keys []string
	for k := range s.verdicts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERDICT\tREASON\tITEMS")
	for _, k := range keys {
		v, r, _ := strings.Cut(k, "/")
		fmt.Fprintf(tw, "%s\t%s\t%d\n", v, r, s.verdicts[k])
	}
	tw.Flush()
	fmt.Fprintf(g.stdout, "changes: %d first seen offline, %d confirmed offline, %d reinstated, %d online\n",
		s.changes[takedown.ChangeOffline], s.changes[takedown.ChangeConfirmed], s.changes[takedown.ChangeReinstated], s.changes[takedown.ChangeOnline])
}
