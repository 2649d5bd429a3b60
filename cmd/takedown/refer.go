package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/attribute"
	"github.com/takedown-project/takedown/internal/refer"
)

// referOptions are the batching rule and the attribution data.
type referOptions struct {
	operation string
	basis     string
	orderFile string
	maxItems  int
	providers []string
	minItems  int
	maxWait   time.Duration
	asnDB     string
}

func newReferCommand(g *globals) *cobra.Command {
	o := &referOptions{}
	cmd := &cobra.Command{
		Use:   "refer --operation OP [--basis referral|removal_order --order FILE]",
		Short: "Put an operation's ready items into referral batches, one per provider",
		Long: `refer attributes the operation's items to their providers (platform items to
the platform's provider; websites to the provider that claims their domain,
else to the hosting network found in --asn-db, an IP-to-ASN database in MaxMind
MMDB format), leaves out what holds cover and what is referred already, and
puts the rest into referral batches per provider: at most --max-items each,
and, with --min-items or --max-wait, only for providers with enough items or
items waiting long enough. Each batch is queued for delivery on every channel
of its provider in the same transaction; takedown serve or takedown worker
delivers it, and the answers come back on their own.

A removal order (--basis removal_order) needs the fields of Annex I of
Regulation (EU) 2021/784 in --order, a YAML file:

  issuing_authority: Example competent authority
  reference: RO-2026-0017
  contact: orders@authority.example
  legal_basis: Regulation (EU) 2021/784, Article 3
  reasons: terrorist content within Article 2(7)(a)
  issued_at: 2026-11-24T10:00:00Z
  redress: an administrative review before the issuing authority (Article 9)
  disclosure_restricted: false`,
		Example: `  takedown refer --operation rad-2026-11
  takedown refer --operation rad-2026-11 --provider telegram --max-items 200
  takedown refer --operation rad-2026-11 --basis removal_order --order order.yaml --provider x`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			res, err := runRefer(cmd.Context(), db, o, time.Now())
			if err != nil {
				return err
			}
			printReferResult(g.stdout, res)
			if op, err := db.FindOperation(cmd.Context(), o.operation); err == nil && op.Evidence != takedown.EvidenceOff {
				fmt.Fprintf(g.stdout, "evidence first (%s's policy: %s): an item goes once its capture was %s; capture the rest with: takedown evidence capture --operation %s\n",
					op.Slug, op.Evidence, map[takedown.EvidencePolicy]string{takedown.EvidenceBefore: "tried", takedown.EvidenceRequired: "made"}[op.Evidence], op.Slug)
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.operation, "operation", "", "the operation (required)")
	f.StringVar(&o.basis, "basis", "referral", "legal basis: referral (voluntary) or removal_order")
	f.StringVar(&o.orderFile, "order", "", "the removal order's Annex I fields (YAML), for --basis removal_order")
	f.IntVar(&o.maxItems, "max-items", refer.DefaultMaxItems, "items per batch at most")
	f.StringSliceVar(&o.providers, "provider", nil, "only these providers")
	f.IntVar(&o.minItems, "min-items", 0, "batch a provider's items only when this many are ready...")
	f.DurationVar(&o.maxWait, "max-wait", 0, "...or the oldest has waited this long since it was submitted")
	f.StringVar(&o.asnDB, "asn-db", "", "IP-to-ASN database (MaxMind MMDB) for websites no provider claims by domain")
	_ = cmd.MarkFlagRequired("operation")
	return cmd
}

// runRefer plans the batches of an operation.
func runRefer(ctx context.Context, db database, o *referOptions, now time.Time) (*refer.Result, error) {
	op, err := db.FindOperation(ctx, o.operation)
	if err != nil {
		return nil, err
	}
	rule := refer.Rule{LegalBasis: takedown.LegalBasis(o.basis), MaxItems: o.maxItems, Providers: o.providers, MinItems: o.minItems, MaxWait: o.maxWait}
	if rule.LegalBasis == takedown.BasisRemovalOrder && o.orderFile == "" {
		return nil, takedown.Errorf(takedown.EINVALID, "a removal order needs --order FILE with the fields of Annex I of Regulation (EU) 2021/784 (see takedown refer --help)")
	}
	if o.orderFile != "" {
		if rule.Order, err = readOrder(o.orderFile); err != nil {
			return nil, err
		}
	}
	plan := refer.Planner(db, attribute.Options{ASNDatabase: o.asnDB}, func() time.Time { return now })
	return plan(ctx, op.ID, rule)
}

func readOrder(path string) (*takedown.RemovalOrder, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, takedown.Errorf(takedown.EINVALID, "cannot read the order: %v", err)
	}
	return parseOrder(b, path)
}

// maxOrderBytes bounds an order file: its fields are a few paragraphs.
const maxOrderBytes = 1 << 20

// parseOrder reads a removal order's Annex I fields from YAML; name says
// where they came from, for errors.
func parseOrder(b []byte, name string) (*takedown.RemovalOrder, error) {
	if len(b) > maxOrderBytes {
		return nil, takedown.Errorf(takedown.EINVALID, "%s: an order of %d bytes is more than the %d allowed", name, len(b), maxOrderBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var raw struct {
		IssuingAuthority     string     `yaml:"issuing_authority"`
		Reference            string     `yaml:"reference"`
		Contact              string     `yaml:"contact"`
		LegalBasis           string     `yaml:"legal_basis"`
		Reasons              string     `yaml:"reasons"`
		IssuedAt             time.Time  `yaml:"issued_at"`
		Redress              string     `yaml:"redress"`
		DisclosureRestricted bool       `yaml:"disclosure_restricted"`
		RestrictedUntil      *time.Time `yaml:"restricted_until"`
	}
	if err := dec.Decode(&raw); err != nil {
		return nil, takedown.Errorf(takedown.EINVALID, "%s: %v", name, err)
	}
	o := &takedown.RemovalOrder{IssuingAuthority: raw.IssuingAuthority, Reference: raw.Reference, Contact: raw.Contact, LegalBasis: raw.LegalBasis,
		Reasons: raw.Reasons, IssuedAt: raw.IssuedAt, Redress: raw.Redress, DisclosureRestricted: raw.DisclosureRestricted, RestrictedUntil: raw.RestrictedUntil}
	if err := o.Validate(); err != nil {
		return nil, takedown.Errorf(takedown.EINVALID, "%s: %s", name, takedown.ErrorMessage(err))
	}
	return o, nil
}

func printReferResult(w io.Writer, res *refer.Result) {
	per := map[string][2]int{}
	for _, r := range res.Referrals {
		c := per[r.Provider]
		c[0]++
		c[1] += len(r.Items)
		per[r.Provider] = c
	}
	var names []string
	for p := range per {
		names = append(names, p)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tBATCHES\tITEMS")
	total := 0
	for _, p := range names {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", p, per[p][0], per[p][1])
		total += per[p][1]
	}
	tw.Flush()
	fmt.Fprintf(w, "%d batches, %d items queued for delivery; %d attributed now, %d without a provider (the unattributed queue), %d held, %d waiting for the rule\n",
		len(res.Referrals), total, res.Attributed, res.Unattributed, len(res.Held), res.Waiting)
}

func newReferralsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "referrals",
		Short: "List and show referral batches, their deliveries and answers",
	}
	var operation, provider string
	var overdue, asJSON bool
	list := &cobra.Command{
		Use:   "list [--operation OP] [--provider P] [--overdue]",
		Short: "List referral batches, newest first",
		Args:  cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			f := takedown.ReferralFilter{Provider: provider}
			if operation != "" {
				op, err := db.FindOperation(cmd.Context(), operation)
				if err != nil {
					return err
				}
				f.OperationID = op.ID
			}
			now := time.Now()
			if overdue {
				f.OverdueAt = now
			}
			rs, err := db.ListReferrals(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				for _, r := range rs {
					if err := enc.Encode(r); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tOPERATION\tPROVIDER\tBASIS\tSTATUS\tITEMS\tANSWERED\tDEADLINE\tDELIVERIES")
			for _, r := range rs {
				total, answered := 0, 0
				for o, n := range r.Counts {
					total += n
					if o.Final() {
						answered += n
					}
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", r.ID, r.Operation, r.Provider, r.LegalBasis, r.Status, total, answered, deadline(r, now), deliveries(r))
			}
			return tw.Flush()
		}),
	}
	lf := list.Flags()
	lf.StringVar(&operation, "operation", "", "one operation's batches")
	lf.StringVar(&provider, "provider", "", "one provider's batches")
	lf.BoolVar(&overdue, "overdue", false, "removal orders past their deadline with items unanswered")
	lf.BoolVar(&asJSON, "json", false, "JSON Lines output")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a referral batch with its items and answers (JSON)",
		Args:  cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return takedown.Errorf(takedown.EINVALID, "referral ID %q is not a number", args[0])
			}
			r, err := db.FindReferral(cmd.Context(), id)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(g.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(r)
		}),
	}
	var channel string
	redeliver := &cobra.Command{
		Use:   "redeliver ID --channel email|webhook|api",
		Short: "Send a dead-lettered delivery of a batch again, once what failed is fixed",
		Args:  cobra.ExactArgs(1),
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return takedown.Errorf(takedown.EINVALID, "referral ID %q is not a number", args[0])
			}
			if err := db.RedeliverReferral(cmd.Context(), id, takedown.Channel(channel), "cli:"+osUser()); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "referral %d queued again by %s; takedown serve or takedown worker delivers it\n", id, channel)
			return nil
		}),
	}
	redeliver.Flags().StringVar(&channel, "channel", "", "the dead channel: email, webhook or api (required)")
	_ = redeliver.MarkFlagRequired("channel")
	cmd.AddCommand(list, show, redeliver)
	return cmd
}

// deadline shows a removal order's time left, or how late it is.
func deadline(r *takedown.Referral, now time.Time) string {
	switch {
	case r.Deadline == nil:
		return "-"
	case r.Status == takedown.ReferralAnswered:
		return "met"
	case r.Overdue(now):
		return "OVERDUE " + now.Sub(*r.Deadline).Round(time.Minute).String()
	}
	return r.TimeLeft(now).Round(time.Second).String() + " left"
}

func deliveries(r *takedown.Referral) string {
	var parts []string
	for _, d := range r.Deliveries {
		parts = append(parts, string(d.Channel)+":"+string(d.State))
	}
	return strings.Join(parts, " ")
}
