package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/jobs"
	"github.com/takedown-project/takedown/internal/probe"
	"github.com/takedown-project/takedown/internal/resurgence"
)

func newResurgenceCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "resurgence",
		Short: "Find removed channels' successors",
	}
	var removed, candidates string
	var threshold float64
	var best bool
	match := &cobra.Command{
		Use:   "match --removed FILE --candidates FILE [--threshold X]",
		Short: "Score candidate items against removed ones, without a database",
		Long: `match reads two JSON Lines files of items, one per line:
{"id", "platform", "handle", "title", "description", "posts": [text],
"links": [url], "avatar": path-of-an-image-relative-to-the-file}, every
field but id optional, and writes one JSON line for every pair scoring at
or above the threshold, best first per candidate:
{"candidate": id, "predecessor": id, "score": 0..1, "signals": {name: value}}.
The signals are the avatar's PDQ hash, the handle as a reader sees it, the
title, shared links (how the item looks: an outlet's channels share these,
and they alone never reach the default threshold), and the reposted posts
and description (what it says). --best keeps each candidate's best
predecessors only, as takedown's own match list does.`,
		Example: `  takedown resurgence match --removed removed.jsonl --candidates candidates.jsonl`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if threshold < 0 || threshold > 1 {
				return takedown.Errorf(takedown.EINVALID, "--threshold must be from 0 to 1")
			}
			rs, err := resurgence.ReadProfiles(removed)
			if err != nil {
				return err
			}
			cs, err := resurgence.ReadProfiles(candidates)
			if err != nil {
				return err
			}
			ms := resurgence.MatchAll(rs, cs, threshold)
			if best {
				ms = resurgence.Best(ms, resurgence.BestMargin)
			}
			enc := json.NewEncoder(g.stdout)
			for _, m := range ms {
				if err := enc.Encode(m); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := match.Flags()
	f.StringVar(&removed, "removed", "", "the removed items (JSON Lines; required)")
	f.StringVar(&candidates, "candidates", "", "the candidates (JSON Lines; required)")
	f.Float64Var(&threshold, "threshold", resurgence.DefaultThreshold, "the least score of a pair that is written")
	f.BoolVar(&best, "best", false, "only each candidate's best predecessors")
	_ = match.MarkFlagRequired("removed")
	_ = match.MarkFlagRequired("candidates")
	cmd.AddCommand(match, newResurgenceWatchCommand(g), newMatchesCommand(g), newReviewCommand(g), newResurgenceFiguresCommand(g))
	return cmd
}

// watchOptions are how this process watches for successors: signals
// from captures, watched pages read again, matching.
type watchOptions struct {
	// on: this process runs resurgence rounds on schedule (serve, worker).
	on        bool
	every     time.Duration
	readEvery time.Duration
	batch     int
	threshold float64
	maxFound  int
}

func (o *watchOptions) register(f *pflag.FlagSet, scheduled bool) {
	if scheduled {
		f.BoolVar(&o.on, "watch", true, "watch for successors of removed items in this process (--watch=false leaves it to others)")
		f.DurationVar(&o.every, "watch-every", 30*time.Second, "how often a resurgence round runs")
	}
	f.DurationVar(&o.readEvery, "watch-read-every", 6*time.Hour, "how often a watched channel's page is read again for links to new channels")
	f.IntVar(&o.batch, "watch-batch", 200, "pages read again in one round at most")
	f.IntVar(&o.maxFound, "watch-max-found", 20, "candidates one page may add at most")
	f.Float64Var(&o.threshold, "match-threshold", resurgence.DefaultThreshold, "the least score of a match")
}

// watcher builds the resurgence watcher on the prober's client and the
// evidence store; without an evidence store it reads no captures.
func (o *watchOptions) watcher(g *globals, db database, probes *probeOptions) (*resurgence.Watcher, error) {
	if o.threshold <= 0 || o.threshold > 1 {
		return nil, takedown.Errorf(takedown.EINVALID, "--match-threshold must be above 0 and at most 1")
	}
	if o.batch < 0 || o.maxFound < 0 || o.readEvery < 0 {
		return nil, takedown.Errorf(takedown.EINVALID, "--watch-batch, --watch-max-found and --watch-read-every must be positive")
	}
	p, err := probes.prober()
	if err != nil {
		return nil, err
	}
	w := &resurgence.Watcher{Store: db, Operations: db, Fetcher: p, Classifier: probe.DefaultRules(), Threshold: o.threshold,
		ReadEvery: o.readEvery, Batch: o.batch, MaxFound: o.maxFound, Concurrency: 8}
	if blobs, err := evidenceStore(g); err == nil {
		w.Blobs = blobs
	} else {
		g.logger.Warn("resurgence reads no captures: no evidence store", "error", takedown.ErrorMessage(err))
	}
	return w, nil
}

// job builds the scheduled rounds of serve and worker; nil with
// --watch=false.
func (o *watchOptions) job(g *globals, db database, probes *probeOptions) (*jobs.Resurgence, error) {
	if !o.on {
		return nil, nil
	}
	w, err := o.watcher(g, db, probes)
	if err != nil {
		return nil, err
	}
	return &jobs.Resurgence{Watcher: w, Every: o.every}, nil
}

func newResurgenceWatchCommand(g *globals) *cobra.Command {
	o := &watchOptions{}
	probes := &probeOptions{}
	var rounds int
	cmd := &cobra.Command{
		Use:   "watch [--rounds N] [--simnet FILE]",
		Short: "Run resurgence rounds now: signals from captures, watched pages read again, matching",
		Long: `watch runs what serve and worker run on schedule, now: it computes the
signals of items from their newest captures (page, posts preview, avatar's
PDQ hash), reads the due watched channels and accounts again (live ones of
open operations, and candidates found before) through the prober's client,
adds the channels their posts link to or mention as candidates, and
matches every candidate against its operation's removed items, and its
avatar against the operation's hash seeds (takedown hashes import). It
prints what each round did.`,
		Example: `  takedown resurgence watch
  takedown resurgence watch --simnet demo/simnet.json --watch-read-every 1m --rounds 3`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			w, err := o.watcher(g, db, probes)
			if err != nil {
				return err
			}
			for i := range max(rounds, 1) {
				s, err := w.Round(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "round %d: %d items' signals from captures, %d pages read, %d candidates found, %d new matches, %d new hash seed hits\n", i+1, s.Signals, s.Reads, s.Found, s.Matches, s.SeedHits)
			}
			return nil
		}),
	}
	o.register(cmd.Flags(), false)
	probes.register(cmd.Flags(), false)
	cmd.Flags().StringVar(&probes.simnet, "simnet", "", "simulator description (simnet.json): read the simulated internet instead")
	cmd.Flags().IntVar(&rounds, "rounds", 1, "rounds to run")
	return cmd
}

func newMatchesCommand(g *globals) *cobra.Command {
	var operation, state string
	var item int64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "matches --operation OP [--state open|confirmed|rejected] [--item ID]",
		Short: "List candidate successors of removed items, with their scores and signals",
		Args:  cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			op, err := db.FindOperation(cmd.Context(), operation)
			if err != nil {
				return err
			}
			f := takedown.MatchFilter{OperationID: op.ID, State: takedown.MatchState(state), ItemID: item, Limit: takedown.MaxPageSize}
			enc := json.NewEncoder(g.stdout)
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			if !asJSON {
				fmt.Fprintln(tw, "ID\tSTATE\tSCORE\tSUCCESSOR\tPREDECESSOR\tSIGNALS")
			}
			for {
				ms, err := db.ListMatches(cmd.Context(), f)
				if err != nil {
					return err
				}
				for _, m := range ms {
					if asJSON {
						if err := enc.Encode(m); err != nil {
							return err
						}
						continue
					}
					fmt.Fprintf(tw, "%d\t%s\t%.3f\t%d %s (%s)\t%d %s (%s)\t%s\n", m.ID, m.State, m.Score, m.SuccessorID, m.Successor.URL, m.Successor.Status,
						m.PredecessorID, m.Predecessor.URL, m.Predecessor.Status, signalList(m.Signals))
				}
				if len(ms) < f.Limit {
					break
				}
				f.AfterID = ms[len(ms)-1].ID
			}
			return tw.Flush()
		}),
	}
	f := cmd.Flags()
	f.StringVar(&operation, "operation", "", "the operation (required)")
	f.StringVar(&state, "state", "", "open, confirmed or rejected only")
	f.Int64Var(&item, "item", 0, "the matches an item is either side of")
	f.BoolVar(&asJSON, "json", false, "one JSON object per match")
	_ = cmd.MarkFlagRequired("operation")
	return cmd
}

// signalList is a match's signals as "posts 0.82, avatar 0.97", strongest
// first.
func signalList(sig map[string]float64) string {
	names := make([]string, 0, len(sig))
	for n := range sig {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		if sig[a] != sig[b] {
			if sig[a] > sig[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %.2f", n, sig[n])
	}
	return strings.Join(parts, ", ")
}

func newReviewCommand(g *globals) *cobra.Command {
	var confirm, reject bool
	var note, agency string
	cmd := &cobra.Command{
		Use:   "review MATCH (--confirm | --reject) [--note TEXT] [--agency AG]",
		Short: "Confirm or reject a match: is the candidate the removed item's successor?",
		Long: `review records an analyst's verdict on an open match, in the audit chain.
Confirmed, the candidate is linked to the removed item as its successor;
in an operation that refers successors (operation create --successors
refer), a candidate takedown found itself is submitted in the name of
--agency and goes into the next referral batch (holds still apply).`,
		Args: cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return takedown.Errorf(takedown.EINVALID, "match ID %q is not a number", args[0])
			}
			if confirm == reject {
				return takedown.Errorf(takedown.EINVALID, "say --confirm or --reject")
			}
			r := takedown.MatchReview{State: takedown.MatchRejected, Note: note, Agency: agency}
			if confirm {
				r.State = takedown.MatchConfirmed
			}
			m, err := db.ReviewMatch(cmd.Context(), id, r)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "match %d %s: %s (%s) -> successor %s (%s)\n", m.ID, m.State, m.Predecessor.URL, m.Predecessor.Status, m.Successor.URL, m.Successor.Status)
			return nil
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&confirm, "confirm", false, "the candidate is the successor")
	f.BoolVar(&reject, "reject", false, "it is not")
	f.StringVar(&note, "note", "", "why, for the record")
	f.StringVar(&agency, "agency", "", "the reviewer's agency (a confirmed successor that goes to referral is submitted in its name)")
	return cmd
}

func newResurgenceFiguresCommand(g *globals) *cobra.Command {
	var operation string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "figures --operation OP [--json]",
		Short: "How many removed items came back, and how fast, overall and per platform",
		Args:  cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			op, err := db.FindOperation(cmd.Context(), operation)
			if err != nil {
				return err
			}
			r, err := takedown.OperationResurgence(cmd.Context(), db, op, time.Now())
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(g.stdout).Encode(r)
			}
			printResurgence(g.stdout, r)
			return nil
		}),
	}
	cmd.Flags().StringVar(&operation, "operation", "", "the operation (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "as JSON, with the survival curves")
	_ = cmd.MarkFlagRequired("operation")
	return cmd
}

// printResurgence writes resurgence figures as a table.
func printResurgence(w io.Writer, r *takedown.Resurgence) {
	pre := ""
	if r.Preliminary {
		pre = " (preliminary: the operation is open)"
	}
	m := r.Matches
	fmt.Fprintf(w, "resurgence of %s as of %s%s\n", r.Operation, r.AsOf.Format(time.RFC3339), pre)
	fmt.Fprintf(w, "  candidates found by the watch, not submitted: %d; matches: %d open, %d confirmed, %d rejected; successors confirmed: %d, referred since: %d\n",
		m.Candidates, m.Open, m.Confirmed, m.Rejected, m.Successors, m.Referred)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PLATFORM\tREMOVED\tBACK\tSHARE\tMEDIAN\tP90\tMIN\tMAX")
	for _, f := range append(slices.Clone(r.ByPlatform), r.All...) {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%.1f%%\t%s\t%s\t%s\t%s\n", f.Group, f.Removed, f.Back, 100*f.Share,
			seconds(f.Median, f.Back), seconds(f.P90, f.Back), seconds(f.Min, f.Back), seconds(f.Max, f.Back))
	}
	tw.Flush()
	fmt.Fprintln(w, "  (time to resurgence: from the first offline observation of the removed item's confirmed removal to its successor's first sighting)")
}

func seconds(s int64, n int) string {
	if n == 0 {
		return "-"
	}
	return (time.Duration(s) * time.Second).String()
}
