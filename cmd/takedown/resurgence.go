package main

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
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
				ms = resurgence.Best(ms, 0.001)
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
	cmd.AddCommand(match)
	return cmd
}
