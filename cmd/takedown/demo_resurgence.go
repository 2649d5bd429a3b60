package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/canon"
	"github.com/takedown-project/takedown/internal/evidence"
	"github.com/takedown-project/takedown/internal/refer"
	"github.com/takedown-project/takedown/internal/simnet"
)

// demoConfirmScore is the score from which the demo's analyst confirms a
// match without a second look; the rest stay open for a person in the UI.
const demoConfirmScore = 0.8

// resurgenceDesk is the demo's resurgence desk: while the serving
// process's jobs watch the network's channels and match what they find,
// the desk plays the analyst who confirms the clear matches, preserves
// the confirmed successors and refers them again, and reports what it
// sees against the adversary's ground truth.
type resurgenceDesk struct {
	g        *globals
	db       database
	op       *takedown.Operation
	agency   string
	codes    map[string]string
	capturer *evidence.Capturer
	srv      *simnet.Server
	out      io.Writer

	// batches are the referrals of successors the desk made.
	batches []*takedown.Referral
	last    string
}

// resurgenceProgress is what the desk saw in a round.
type resurgenceProgress struct {
	counts *takedown.MatchCounts
	// made is how many successors the adversary has made by now, true
	// how many confirmed matches the ground truth agrees with.
	made, true int
}

// round reviews the open matches, refers the confirmed successors once
// they are captured, and reports when anything changed.
func (d *resurgenceDesk) round(ctx context.Context) (resurgenceProgress, error) {
	var p resurgenceProgress
	actx := takedown.WithActor(ctx, &takedown.Actor{Via: takedown.ViaCLI, Name: "demo-analyst"})
	f := takedown.MatchFilter{OperationID: d.op.ID, State: takedown.MatchOpen, Limit: takedown.MaxPageSize}
	for {
		ms, err := d.db.ListMatches(ctx, f)
		if err != nil {
			return p, err
		}
		for _, m := range ms {
			if m.Score < demoConfirmScore {
				continue
			}
			_, err := d.db.ReviewMatch(actx, m.ID, takedown.MatchReview{State: takedown.MatchConfirmed, Agency: d.agency,
				Note: fmt.Sprintf("confirmed by the demo's analyst: score %.3f of at least %.2f", m.Score, demoConfirmScore)})
			if err != nil && takedown.ErrorCode(err) != takedown.ECONFLICT {
				return p, err
			}
		}
		if len(ms) < f.Limit {
			break
		}
		f.AfterID = ms[len(ms)-1].ID
	}
	// Confirmed successors are submitted: preserve them, then refer them
	// with the next batch.
	var fresh []int64
	successors := map[int64]bool{}
	f = takedown.MatchFilter{OperationID: d.op.ID, State: takedown.MatchConfirmed, Limit: takedown.MaxPageSize}
	for {
		ms, err := d.db.ListMatches(ctx, f)
		if err != nil {
			return p, err
		}
		for _, m := range ms {
			if m.Successor.Status != takedown.ItemSubmitted || successors[m.SuccessorID] {
				continue
			}
			successors[m.SuccessorID] = true
			cs, err := d.db.ListCaptures(ctx, m.SuccessorID)
			if err != nil {
				return p, err
			}
			if len(cs) == 0 {
				fresh = append(fresh, m.SuccessorID)
			}
		}
		if len(ms) < f.Limit {
			break
		}
		f.AfterID = ms[len(ms)-1].ID
	}
	if len(fresh) > 0 {
		if _, err := captureItems(ctx, d.g, d.db, d.capturer, d.op, takedown.ItemFilter{}, fresh, 16, "never"); err != nil {
			return p, err
		}
	}
	res := &refer.Result{}
	var err error
	if len(successors) > 0 {
		if res, err = demoRefer(ctx, d.db, d.op, d.codes, successors); err != nil {
			return p, err
		}
	}
	d.batches = append(d.batches, res.Referrals...)
	if p.counts, err = d.db.CountMatches(ctx, d.op.ID); err != nil {
		return p, err
	}
	p.made, p.true, err = d.truth(ctx)
	if err != nil {
		return p, err
	}
	c := p.counts
	s := fmt.Sprintf("resurgence: %d successors made by the adversary so far; %d candidates found on the network's pages; matches %d open, %d confirmed (%d of them true per the ground truth), %d rejected; %d successors referred again in %d batches",
		p.made, c.Candidates+c.Successors, c.Open, c.Confirmed, p.true, c.Rejected, c.Referred, len(d.batches))
	if s != d.last {
		fmt.Fprintf(d.out, "   %s  %s\n", time.Now().Format("15:04:05"), s)
		d.last = s
	}
	return p, nil
}

// truth counts the successors the adversary has made by now, and the
// confirmed matches its ground truth agrees with.
func (d *resurgenceDesk) truth(ctx context.Context) (made, agreed int, err error) {
	world := d.srv.World()
	pairs := world.Truth(d.srv.Clock().Now(), false)
	real := map[string]string{}
	for _, s := range pairs {
		succ, err1 := canon.Recognize(s.Successor)
		pred, err2 := canon.Recognize(s.Predecessor)
		if err1 == nil && err2 == nil {
			real[succ.Canonical] = pred.Canonical
		}
	}
	f := takedown.MatchFilter{OperationID: d.op.ID, State: takedown.MatchConfirmed, Limit: takedown.MaxPageSize}
	for {
		ms, err := d.db.ListMatches(ctx, f)
		if err != nil {
			return 0, 0, err
		}
		for _, m := range ms {
			if real[m.Successor.URL] == m.Predecessor.URL {
				agreed++
			}
		}
		if len(ms) < f.Limit {
			break
		}
		f.AfterID = ms[len(ms)-1].ID
	}
	return len(pairs), agreed, nil
}

// run does rounds every interval until done says so or ctx ends.
func (d *resurgenceDesk) run(ctx context.Context, interval time.Duration, done func(resurgenceProgress) bool) (resurgenceProgress, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		p, err := d.round(ctx)
		if ctx.Err() != nil {
			return p, nil
		}
		if err != nil {
			return p, err
		}
		if done != nil && done(p) {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return p, nil
		case <-t.C:
		}
	}
}
